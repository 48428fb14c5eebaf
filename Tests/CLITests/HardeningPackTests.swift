// An interrupted pack leaves nothing that blocks the next one (issue 18, finding 5): SIGINT
// removes the temporaries the pack holds, and the next pack into the same folder removes any
// leftover of its own names (a SIGKILLed pack's) and nothing else.

import Foundation
import XCTest

final class HardeningPackTests: XCTestCase {
    /// 60 noisy 384x384 photos: seconds of packing at --patch-size 16 --stride 8, so a signal lands mid-way.
    static let photos: String = {
        let folder = HardeningFixture.work + "/many-photos"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<60 {
            var state = UInt32(i * 7919 + 1)
            try! writePNG(folder + String(format: "/p%02d.png", i), width: 384, height: 384, bitDepth: 8, gray: false) { _, _, _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Int(state >> 24)
            }
        }
        return folder
    }()

    var packArguments: [String] { ["pack", "--input", Self.photos, "--patch-size", "16", "--stride", "8", "--shard-mb", "2", "--threads", "1"] }

    func litter(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains(".tmp") || $0.hasPrefix(".") }
    }

    func testSIGINTDuringAPackLeavesNoTemporariesAndTheNextPackWorks() throws {
        let output = HardeningFixture.work + "/interrupted-pack"
        for signalNumber in [SIGINT, SIGTERM] {
            try? FileManager.default.removeItem(atPath: output)
            let job = try Background(srganDistBinary, packArguments + ["--output", output], logs: output + "-log")
            XCTAssertTrue(eventually(120) { FileManager.default.fileExists(atPath: output + "/shard-00001.srs") }, job.error)
            kill(job.process.processIdentifier, signalNumber)
            XCTAssertTrue(job.waitForExit(seconds: 30))
            XCTAssertEqual(job.process.terminationStatus, 128 + signalNumber, job.error)
            XCTAssertTrue(job.error.contains("temporary file(s) removed"), job.error)
            XCTAssertEqual(litter(output), [], "after signal \(signalNumber)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/index.json"))
            // The next pack, without --resume, into the same folder.
            let again = try runSRGANDist(packArguments + ["--output", output])
            XCTAssertEqual(again.status, 0, again.error)
            XCTAssertEqual(litter(output), [])
            XCTAssertTrue(FileManager.default.fileExists(atPath: output + "/index.json"))
        }
    }

    /// What a SIGKILL leaves (a shard and a journal temporary of a dead process) is removed by the
    /// next pack; a file of another name is not touched (and is reported as foreign).
    func testLeftoversOfAKilledPackAreRemovedAndNothingElse() throws {
        let output = HardeningFixture.work + "/killed-pack"
        try? FileManager.default.removeItem(atPath: output)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let leftovers = ["shard-00003.srs.tmp-\(dead.processIdentifier)", "pack-journal-r000.json.tmp", "index.json.tmp"]
        for name in leftovers { try Data(count: 100).write(to: URL(fileURLWithPath: output + "/" + name)) }
        let pack = try runSRGANDist(packArguments + ["--output", output])
        XCTAssertEqual(pack.status, 0, pack.error)
        XCTAssertTrue(pack.error.contains("removed 3 temporary file(s) an interrupted pack left"), pack.error)
        XCTAssertEqual(litter(output), [])
        // Someone else's file: the pack refuses the folder and leaves the file alone.
        let other = HardeningFixture.work + "/foreign-pack"
        try? FileManager.default.removeItem(atPath: other)
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: other + "/shard-notes.txt"))
        let refused = try runSRGANDist(packArguments + ["--output", other])
        XCTAssertTrue(oneErrorLine(refused).contains("holds files that are not a packed dataset (shard-notes.txt)"), refused.error)
        XCTAssertEqual(try String(contentsOfFile: other + "/shard-notes.txt", encoding: .utf8), "mine")
    }
}

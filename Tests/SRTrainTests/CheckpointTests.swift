// The checkpoint folder format: written whole or not at all, checked on load, pruned with the best kept.

import Foundation
import SRTrain
import XCTest

final class CheckpointTests: XCTestCase {
    var folder = ""

    override func setUp() {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-ckpt-\(getpid())-\(abs(name.hashValue))").path
        try? FileManager.default.removeItem(atPath: run)
        try? FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        folder = run + "/checkpoints"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }

    func state(_ step: Int, psnr: Double? = nil) -> CheckpointState {
        CheckpointState(step: step, phase: .srresnet, generatorLR: 1e-4, discriminatorLR: nil, generatorAdamSteps: step,
                        discriminatorAdamSteps: nil, streamOffset: 16 * step, rankStreamOffsets: [16 * step], worldSize: 1,
                        batch: 16, accumulate: 1, patchSize: 96, skippedSteps: 0, consecutiveSkips: 0, validationPSNR: psnr,
                        reason: "interval", created: "2026-11-25T00:00:00Z", config: "preset: tiny\nphase: srresnet\n")
    }

    func write(_ step: Int, psnr: Double? = nil) throws -> String {
        let payload = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ step) })
        return try Checkpoint.write(files: [("generator.safetensors", payload)], state: state(step, psnr: psnr), into: folder)
    }

    func testWrittenCheckpointVerifiesAndRoundTripsItsState() throws {
        let path = try write(7)
        XCTAssertEqual((path as NSString).lastPathComponent, "step-00000007")
        XCTAssertEqual(try Checkpoint.verify(path), state(7))
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: path)), ["generator.safetensors", "state.json", "COMPLETE"])
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: folder).contains { $0.hasPrefix(".") }, "no partial folder left")
    }

    func testTruncatedOrFlippedFilesAreNamed() throws {
        let path = try write(1)
        let file = path + "/generator.safetensors"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[100] ^= 1
        try bytes.write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try Checkpoint.verify(path)) { XCTAssertTrue("\($0)".hasPrefix("\(file): CRC-32"), "\($0)") }
        try bytes.prefix(1000).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try Checkpoint.verify(path)) { XCTAssertTrue("\($0)".contains("1000 bytes where the checkpoint recorded 4096"), "\($0)") }
        try FileManager.default.removeItem(atPath: path + "/COMPLETE")
        XCTAssertThrowsError(try Checkpoint.verify(path)) { XCTAssertTrue("\($0)".contains("not a complete checkpoint"), "\($0)") }
    }

    func testLocateTakesTheNewestCompleteOneAndSkipsDamagedOnes() throws {
        _ = try write(1)
        let second = try write(2)
        let third = try write(3)
        try FileManager.default.createDirectory(atPath: folder + "/step-00000004", withIntermediateDirectories: false)  // no marker
        var warnings: [String] = []
        XCTAssertEqual(try Checkpoint.locate(folder, warn: { warnings.append($0) })?.path, third)
        try Data("x".utf8).write(to: URL(fileURLWithPath: third + "/state.json"))
        // The run folder means its newest complete checkpoint that verifies.
        XCTAssertEqual(try Checkpoint.locate((folder as NSString).deletingLastPathComponent, warn: { warnings.append($0) })?.path, second)
        // The marker-less folder is named each time, not skipped in silence (issue 18, finding 7).
        XCTAssertEqual(warnings.count, 3, "\(warnings)")
        XCTAssertEqual(warnings.filter { $0.contains(folder + "/step-00000004: no COMPLETE marker") }.count, 2, "\(warnings)")
        XCTAssertTrue(warnings[2].contains(third + "/state.json"), warnings[2])
    }

    func testPruneKeepsTheNewestAndTheBestAndRemovesTornWrites() throws {
        _ = try write(1, psnr: 20)
        let best = try write(2, psnr: 30)
        for step in 3...6 { _ = try write(step, psnr: 25) }
        let torn = folder + "/.step-00000007.partial-999999999"
        try FileManager.default.createDirectory(atPath: torn, withIntermediateDirectories: false)
        Checkpoint.prune(folder, keep: 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["step-00000002", "step-00000005", "step-00000006"])
        XCTAssertNoThrow(try Checkpoint.verify(best))
    }

    func testWritingIntoAnUnwritableFolderFailsWithTheFolderNamed() throws {
        try Data().write(to: URL(fileURLWithPath: folder))  // a file where the folder should be
        XCTAssertThrowsError(try write(1)) { XCTAssertTrue("\($0)".hasPrefix(folder), "\($0)") }
    }
}

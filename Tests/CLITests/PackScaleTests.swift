// `pack` at scale, through the release binary: two real MPI ranks packing one dataset (inspect
// --verify accepts it, train streams it, the patches are those of a one-process pack), a pack
// killed with SIGKILL midway and resumed (byte-identical to an uninterrupted one), and the peak
// memory line.

import Foundation
import SRData
import XCTest

final class PackScaleTests: XCTestCase {
    static let work = FileManager.default.temporaryDirectory.appendingPathComponent("cli-packscale-\(getpid())").path
    static let photos = work + "/photos"
    static let fixtures = repository.appendingPathComponent("Tests/SRDataTests/Fixtures/jpeg").path

    /// The sample photos and three JPEGs (one EXIF-rotated).
    override class func setUp() {
        try? FileManager.default.createDirectory(atPath: photos, withIntermediateDirectories: true)
        let samples = repository.appendingPathComponent("samples/photos").path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: samples)) ?? [] {
            try? FileManager.default.copyItem(atPath: samples + "/" + name, toPath: photos + "/" + name)
        }
        for name in ["baseline.jpg", "progressive.jpg", "orientation-6.jpg"] {
            try? FileManager.default.copyItem(atPath: fixtures + "/" + name, toPath: photos + "/" + name)
        }
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    static let options = ["--input", photos, "--patch-size", "16", "--shard-mb", "1", "--patches-per-block", "8", "--val-images", "2"]

    /// Every patch of a packed folder in manifest order.
    func patches(_ folder: String) throws -> [[UInt8]] {
        let dataset = try PackedDataset(directory: folder)
        var out: [[UInt8]] = [], block: [UInt8] = []
        let bytes = dataset.patchSize * dataset.patchSize * 3
        for i in 0..<dataset.patchCount {
            let (shard, b, within) = dataset.locate(i)
            try dataset.shards[shard].readBlock(b, into: &block)
            out.append(Array(block[(within * bytes)..<((within + 1) * bytes)]))
        }
        return out
    }

    func testTwoRanksPackOneDatasetThatVerifiesAndStreams() throws {
        let one = try runSRGANDist(["pack", "--output", Self.work + "/one"] + Self.options)
        XCTAssertEqual(one.status, 0, one.error)
        XCTAssertTrue(one.output.contains("peak memory (resident): "), one.output)
        let two = try runUnderMPI(ranks: 2, ["pack", "--output", Self.work + "/two"] + Self.options)
        XCTAssertEqual(two.status, 0, two.error + two.output)
        XCTAssertTrue(two.output.contains("peak memory (resident): per rank "), two.output)
        XCTAssertEqual(two.output.components(separatedBy: "packed ").count, 2, "rank 0 alone reports: \(two.output)")

        let manifest = try Manifest.load(directory: Self.work + "/two")
        XCTAssertTrue(manifest.shards.contains { $0.file.hasPrefix("shard-r000-") })
        XCTAssertTrue(manifest.shards.contains { $0.file.hasPrefix("shard-r001-") })
        let single = try Manifest.load(directory: Self.work + "/one")
        XCTAssertEqual(manifest.sources, single.sources)
        XCTAssertEqual(manifest.skipped, single.skipped)
        XCTAssertEqual(manifest.validation, single.validation)
        XCTAssertEqual(manifest.totalPatches, single.totalPatches)
        // The same patches in the same order; only the shard boundaries differ.
        XCTAssertEqual(try patches(Self.work + "/two"), try patches(Self.work + "/one"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Self.work + "/two").filter { $0.contains("journal") || $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [])

        let inspect = try runSRGANDist(["inspect", Self.work + "/two", "--verify"])
        XCTAssertEqual(inspect.status, 0, inspect.error)
        XCTAssertTrue(inspect.output.contains("every block and file checksum matches"), inspect.output)
        let train = try runUnderMPI(ranks: 2, ["train", "--preset", "tiny", "--phase", "srresnet", "--data", Self.work + "/two",
                                               "--val", Self.work + "/two", "--steps", "2", "--batch", "2", "--log-every", "1",
                                               "--run", Self.work + "/run"])
        XCTAssertEqual(train.status, 0, train.error + train.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.work + "/run/generator.safetensors"), train.output)
    }

    func testPackKilledMidwayAndResumedEqualsAnUninterruptedPack() throws {
        let options = Self.options + ["--threads", "1", "--stride", "8"]
        let whole = try runSRGANDist(["pack", "--output", Self.work + "/whole"] + options)
        XCTAssertEqual(whole.status, 0, whole.error)
        let shardCount = try Manifest.load(directory: Self.work + "/whole").shards.count
        XCTAssertGreaterThan(shardCount, 4)

        let target = Self.work + "/killed"
        let journal = target + "/pack-journal-r000.json"
        let running = try Background(srganDistBinary, ["pack", "--output", target] + options, logs: Self.work + "/killed-log")
        XCTAssertTrue(eventually(60) { FileManager.default.fileExists(atPath: journal) }, running.error)
        kill(running.process.processIdentifier, SIGKILL)
        running.process.waitUntilExit()
        XCTAssertEqual(running.process.terminationReason, .uncaughtSignal)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + "/index.json"), "the pack finished before it was killed")

        let resumed = try runSRGANDist(["pack", "--output", target, "--resume"] + options)
        XCTAssertEqual(resumed.status, 0, resumed.error)
        let kept = resumed.output.range(of: #"resumed: (\d+) shard\(s\) kept"#, options: .regularExpression)
        XCTAssertNotNil(kept, resumed.output)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.work + "/whole").sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target).sorted(), files)
        for file in files where file != "val" {
            XCTAssertEqual(FileManager.default.contents(atPath: Self.work + "/whole/" + file),
                           FileManager.default.contents(atPath: target + "/" + file), file)
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: target + "/val") {
            XCTAssertEqual(FileManager.default.contents(atPath: Self.work + "/whole/val/" + file),
                           FileManager.default.contents(atPath: target + "/val/" + file), file)
        }

        // A resume with other options is refused with what to do; nothing is deleted.
        let killedAgain = try Background(srganDistBinary, ["pack", "--output", Self.work + "/other"] + options, logs: Self.work + "/other-log")
        XCTAssertTrue(eventually(60) { FileManager.default.fileExists(atPath: Self.work + "/other/pack-journal-r000.json") })
        kill(killedAgain.process.processIdentifier, SIGKILL)
        killedAgain.process.waitUntilExit()
        let before = try FileManager.default.contentsOfDirectory(atPath: Self.work + "/other").sorted()
        let mismatch = try runSRGANDist(["pack", "--output", Self.work + "/other", "--resume"] + Self.options + ["--threads", "1", "--stride", "16"])
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.error.contains("pack-journal-r000.json: the interrupted pack here used other photos, pack parameters or rank count"), mismatch.error)
        XCTAssertTrue(mismatch.error.contains("HINT: resume with the same"), mismatch.error)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: Self.work + "/other").sorted(), before)
    }
}

// Tampered files are outside input (issue 18, findings 6 and 8): a checkpoint's state.json with
// COMPLETE rewritten to match, a manifest with out-of-range numbers or a shard name outside the
// dataset folder, a shard header with a recomputed checksum. Each gets one error line naming the
// file and the key, never a crash and never a file outside the folder.

import Foundation
import SRData
import XCTest

final class HardeningFileTests: XCTestCase {
    var checkpoint: String { checkpointFolder(HardeningFixture.run, 6) }

    /// A copy of the run whose newest checkpoint's state.json has `key` set to `value`, COMPLETE rewritten.
    func tamperedRun(_ key: String, _ value: String) throws -> String {
        let copy = try HardeningFixture.copy(HardeningFixture.run, as: "tampered-\(key)")
        let folder = checkpointFolder(copy, 6)
        try replaceJSONValue(folder + "/state.json", key: key, with: value)
        try rewriteCompletionMarker(folder)
        return copy
    }

    func testTamperedCheckpointStateIsRefusedNamingTheKey() throws {
        for (key, value, expected) in [("step", "-7", "step is -7"), ("stream_offset", "-5", "stream_offset is -5"),
                                       ("step", "100000000000", "step is 100000000000 (0 to 2147483647)"), ("world_size", "0", "world_size is 0"),
                                       ("skipped_steps", "9", "skipped_steps is 9"), ("generator_adam_steps", "-1", "generator_adam_steps is -1"),
                                       ("step", "7.5", "step is 7.5 (not an integer)"), ("batch", "\"two\"", "batch: expected Int")] {
            let run = try tamperedRun(key, value)
            let resumed = try runSRGANDist(["train", "--resume-from", checkpointFolder(run, 6), "--steps", "8"])
            let line = oneErrorLine(resumed)
            XCTAssertTrue(line.contains("\(checkpointFolder(run, 6))/state.json: "), line)
            XCTAssertTrue(line.contains(expected), "\(key)=\(value): \(line)")
            XCTAssertTrue(line.contains("HINT: "), line)
            XCTAssertFalse(resumed.output.contains("done:"), resumed.output)
            // Through the run folder (the newest checkpoint is skipped, named) and as a model.
            try writePNG(run + "/small.png", width: 12, height: 10, bitDepth: 8, gray: true) { x, y, _ in x * 20 + y }
            let upscale = try runSRGANDist(["upscale", "--checkpoint", run, "--input", run + "/small.png", "--output", run + "/up.png"])
            XCTAssertTrue(upscale.error.contains("warning: skipping a damaged checkpoint: \(checkpointFolder(run, 6))/state.json"), upscale.error)
            XCTAssertFalse(upscale.error.contains("Fatal error"), upscale.error)
        }
    }

    /// A copy of the packed folder with index.json edited by `edit`.
    func tamperedPack(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let copy = try HardeningFixture.copy(HardeningFixture.packed, as: name)
        let path = copy + "/index.json"
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&manifest)
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return copy
    }

    func shards(_ manifest: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var list = manifest["shards"] as! [[String: Any]]
        edit(&list[0])
        manifest["shards"] = list
    }

    func testManifestShardNamesStayInsideTheDataset() throws {
        // A real shard outside the folder, with the right size and CRC: it must still not be read.
        let outside = HardeningFixture.work + "/other"
        try? FileManager.default.removeItem(atPath: outside)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: HardeningFixture.packed + "/shard-00000.srs", toPath: outside + "/shard-00000.srs")
        for (tag, name) in [("up", "../other/shard-00000.srs"), ("absolute", outside + "/shard-00000.srs"), ("sub", "sub/shard-00000.srs"),
                            ("dot", "..")] {
            let pack = try tamperedPack("escape-\(tag)") { manifest in shards(&manifest) { $0["file"] = name } }
            try FileManager.default.createDirectory(atPath: pack + "/sub", withIntermediateDirectories: true)
            try? FileManager.default.copyItem(atPath: pack + "/shard-00000.srs", toPath: pack + "/sub/shard-00000.srs")
            let inspect = try runSRGANDist(["inspect", pack, "--verify"])
            let line = oneErrorLine(inspect)
            XCTAssertTrue(line.contains("\(pack)/index.json: damaged or edited manifest: shards[0].file '\(name)' is not a file name inside the dataset folder"), line)
            XCTAssertFalse(inspect.output.contains("every block and file checksum matches"), inspect.output)
            let train = try runSRGANDist(["train", "--preset", "tiny", "--data", pack, "--steps", "1", "--batch", "2", "--run", pack + "-run"])
            XCTAssertTrue(oneErrorLine(train).contains("shards[0].file '\(name)' is not a file name inside the dataset folder"), train.error)
        }
        let validation = try tamperedPack("escape-val") { $0["validation"] = ["val/../../x.png"] }
        XCTAssertTrue(oneErrorLine(try runSRGANDist(["inspect", validation])).contains("validation[0] 'val/../../x.png' is not a file name inside val/"))
    }

    func testOutOfRangeManifestNumbersAreNamed() throws {
        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("patches", { m in self.shards(&m) { $0["patches"] = -3 } }, "shards[0].patches is -3"),
            ("total", { $0["total_patches"] = -1 }, "total_patches is -1"),
            ("patchsize", { m in var p = m["parameters"] as! [String: Any]; p["patch_size"] = 0; m["parameters"] = p }, "parameters.patch_size is 0"),
            ("huge", { m in self.shards(&m) { $0["bytes"] = 1e300 } }, "shards[0].bytes is 1e+300 (not an integer)"),
        ]
        for (tag, edit, expected) in cases {
            let pack = try tamperedPack("range-\(tag)", edit)
            let line = oneErrorLine(try runSRGANDist(["inspect", pack, "--verify"]))
            XCTAssertTrue(line.contains("\(pack)/index.json: ") && line.contains(expected), "\(tag): \(line)")
        }
    }

    /// Header fields with the header's CRC recomputed: refused by range, naming the byte offset.
    func testShardHeaderFieldsAreCheckedBeforeUse() throws {
        for (offset, value, expected) in [(24, UInt64.max, "patch count 18446744073709551615 at byte offset 24"),
                                          (32, UInt64(1) << 62, "block count 4611686018427387904 at byte offset 32"),
                                          (12, 0, "patch size 0 at byte offset 12")] {
            let pack = try HardeningFixture.copy(HardeningFixture.packed, as: "header-\(offset)")
            let path = pack + "/shard-00000.srs"
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let width = offset == 12 ? 4 : 8
            for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            let crc = CRC32.of(Array(bytes[0..<52]))
            for i in 0..<4 { bytes[52 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let line = oneErrorLine(try runSRGANDist(["inspect", pack, "--verify"]))
            XCTAssertTrue(line.contains("\(path): \(expected) is out of range"), line)
        }
    }
}

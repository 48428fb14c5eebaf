// A checkpoint written by the srgan-dist of 2026-12-01 (Tests/Fixtures/checkpoint-2026-12-01,
// made by Tests/Fixtures/make-checkpoint-fixture.sh) still resumes: later changes to the
// settings, the trainer or the step must keep reading the files runs already have on disk.

import Foundation
import XCTest

final class OldCheckpointTests: XCTestCase {
    func testTheCheckpointOf20261201ResumesAndTrainsOneMoreStep() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-old-checkpoint-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // The data the fixture was trained on: the same packing, so the patch size and the stream match.
        let pack = try runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                     "--output", work + "/packed48", "--patch-size", "48", "--stride", "96", "--val-images", "2"])
        XCTAssertEqual(pack.status, 0, pack.error)
        let fixture = repository.appendingPathComponent("Tests/Fixtures/checkpoint-2026-12-01").path
        let run = work + "/run"
        try FileManager.default.createDirectory(atPath: run + "/checkpoints", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture, toPath: checkpointFolder(run, 2))

        let result = try runSRGANDist(["train", "--resume", "--run", run, "--data", work + "/packed48", "--steps", "3",
                                       "--validate-every", "100"])
        XCTAssertEqual(result.status, 0, result.error + result.output)
        XCTAssertTrue(result.output.contains("step 2 (end checkpoint), stream item 4; training to step 3"), result.output)
        XCTAssertFalse(result.output.contains("changed settings"), result.output)
        // The checkpoint's own settings: its small networks, not the tiny preset's.
        let config = try String(contentsOfFile: run + "/config.yaml", encoding: .utf8)
        XCTAssertTrue(config.contains("channels: 16") && config.contains("hidden: 64"), config)

        // One step more: the counters went on from the fixture's, and every trained tensor moved by
        // about one Adam step (lr 1e-3) from the fixture's values.
        let next = checkpointFolder(run, 3)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: next + "/state.json"))) as! [String: Any]
        XCTAssertEqual(state["step"] as? Int, 3)
        XCTAssertEqual(state["generator_adam_steps"] as? Int, 3)
        XCTAssertEqual(state["discriminator_adam_steps"] as? Int, 3)
        XCTAssertEqual(state["stream_offset"] as? Int, 6)
        XCTAssertEqual(state["skipped_steps"] as? Int, 0)
        for name in ["generator", "generator_ema", "discriminator"] {
            let before = try readTensors("\(fixture)/\(name).safetensors"), after = try readTensors("\(next)/\(name).safetensors")
            XCTAssertEqual(Set(before.keys), Set(after.keys), name)
            var largest: Float = 0
            for (tensor, values) in before where !tensor.contains("running_") {
                XCTAssertEqual(values.count, after[tensor]?.count, tensor)
                for (x, y) in zip(values, after[tensor] ?? []) { largest = max(largest, abs(x - y)) }
            }
            XCTAssertGreaterThan(largest, 0, name)
            XCTAssertLessThan(largest, 5e-3, name)
        }
        let moments = try readTensors(fixture + "/training.safetensors"), movedMoments = try readTensors(next + "/training.safetensors")
        XCTAssertEqual(Set(moments.keys), Set(movedMoments.keys))
        XCTAssertNotEqual(moments["generator.exp_avg_sq"], movedMoments["generator.exp_avg_sq"])
    }
}

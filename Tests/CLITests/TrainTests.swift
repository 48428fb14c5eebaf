// Training through the release binary: real MPI ranks under mpirun, real shards, real photos.

import Foundation
import XCTest

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs `srgan-dist ARGS` under `mpirun -n RANKS` (as root, oversubscribed, one BLAS thread per rank).
func runUnderMPI(ranks: Int, _ arguments: [String]) throws -> CommandResult {
    try runProgram("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "\(ranks)",
                                    "-x", "OPENBLAS_NUM_THREADS=1", srganDistBinary] + arguments)
}

/// All float tensors of a safetensors file written by srgan-dist (F32 only), by name.
func readTensors(_ path: String) throws -> [String: [Float]] {
    try tensorBytes(path, dtype: "F32").mapValues { bytes in
        bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
    }
}

final class TrainTests: XCTestCase {
    static var work = ""

    override class func setUp() {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-train-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        let pack = try! runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                      "--output", work + "/packed48", "--patch-size", "48", "--stride", "96", "--val-images", "2"])
        precondition(pack.status == 0, pack.error)
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    /// With --sync-bn, 2 ranks x batch 2 take the same steps as 1 rank x batch 4, and the replicas
    /// are bit-identical after every step (--check-replicas stops the run otherwise).
    func testTwoRanksWithSyncBNEqualOneRankWithTheGlobalBatch() throws {
        // The paper's learning rate: Adam's first steps move every weight by about lr x sign(g),
        // so float rounding in near-zero gradients shows up in proportion to lr.
        let common = ["train", "--preset", "tiny", "--phase", "gan", "--data", Self.work + "/packed48", "--steps", "3",
                      "--sync-bn", "--log-every", "1", "--seed", "5", "--lr", "1e-4"]
        let one = try runSRGANDist(common + ["--batch", "4", "--run", Self.work + "/one"])
        XCTAssertEqual(one.status, 0, one.error)
        let two = try runUnderMPI(ranks: 2, common + ["--batch", "2", "--check-replicas", "--run", Self.work + "/two"])
        XCTAssertEqual(two.status, 0, two.error + two.output)
        XCTAssertTrue(two.output.contains("batch 2 per rank x 2 rank(s) x accumulate 1 = global batch 4"), two.output)
        for file in ["generator.safetensors", "discriminator.safetensors"] {
            let a = try readTensors(Self.work + "/one/" + file), b = try readTensors(Self.work + "/two/" + file)
            XCTAssertEqual(Set(a.keys), Set(b.keys))
            var difference = 0.0, norm = 0.0, moved = 0.0
            for (name, values) in a {
                for (x, y) in zip(values, b[name]!) {
                    difference += Double(x - y) * Double(x - y)
                    norm += Double(x) * Double(x)
                }
                moved += Double(values.count)
            }
            let relative = (difference / norm).squareRoot()
            XCTAssertLessThan(relative, 1e-4, "\(file): relative difference \(relative)")
            XCTAssertGreaterThan(moved, 0)
        }
        // Without sync-BN the two are different computations (per-rank statistics): the check can fail.
        let unsynced = try runUnderMPI(ranks: 2, ["train", "--preset", "tiny", "--phase", "gan", "--data", Self.work + "/packed48",
                                                  "--steps", "3", "--seed", "5", "--batch", "2", "--run", Self.work + "/unsynced"])
        XCTAssertEqual(unsynced.status, 0, unsynced.error)
        let a = try readTensors(Self.work + "/one/generator.safetensors"), c = try readTensors(Self.work + "/unsynced/generator.safetensors")
        XCTAssertNotEqual(a["body.0.conv1.weight"]!, c["body.0.conv1.weight"]!)
    }

    func testBadSettingsAreRefusedBeforeTraining() throws {
        let missing = try runSRGANDist(["train", "--preset", "tiny", "--data", Self.work + "/nothing", "--run", Self.work + "/bad1"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.error.contains("\(Self.work)/nothing: no such folder"), missing.error)
        let preset = try runSRGANDist(["train", "--preset", "huge", "--data", Self.work + "/packed48"])
        XCTAssertTrue(preset.error.contains("unknown preset 'huge'"), preset.error)
        let vgg = try runSRGANDist(["train", "--preset", "tiny", "--phase", "gan", "--content-loss", "vgg54",
                                    "--data", Self.work + "/packed48", "--run", Self.work + "/bad2"])
        XCTAssertTrue(vgg.error.contains("needs VGG19 weights"), vgg.error)
        try "steps: 5\nbogus_setting: 1\n".write(toFile: Self.work + "/bad.yaml", atomically: true, encoding: .utf8)
        let yaml = try runSRGANDist(["train", "--preset", "tiny", "--config", Self.work + "/bad.yaml", "--data", Self.work + "/packed48"])
        XCTAssertTrue(yaml.error.contains("unknown setting 'bogus_setting'"), yaml.error)
        // A run folder is never reused silently.
        let first = try runSRGANDist(["train", "--preset", "tiny", "--data", Self.work + "/packed48", "--steps", "1", "--run", Self.work + "/used"])
        XCTAssertEqual(first.status, 0, first.error)
        let again = try runSRGANDist(["train", "--preset", "tiny", "--data", Self.work + "/packed48", "--steps", "1", "--run", Self.work + "/used"])
        XCTAssertTrue(again.error.contains("already holds a run"), again.error)
        for result in [missing, preset, vgg, yaml, again] {
            XCTAssertFalse(result.error.contains("Fatal error"), result.error)
            XCTAssertEqual(result.error.split(separator: "\n").filter { $0.hasPrefix("error:") || $0.hasPrefix("Error:") }.count, 1, result.error)
        }
    }

    func testConfigFileAndOverridesResolveAndAreSaved() throws {
        try "steps: 2\nlr: 0.001\ngenerator:\n  channels: 16\nvalidate_every: 1\n".write(toFile: Self.work + "/ok.yaml", atomically: true, encoding: .utf8)
        let result = try runSRGANDist(["train", "--preset", "tiny", "--config", Self.work + "/ok.yaml", "--lr", "0.002",
                                       "--data", Self.work + "/packed48", "--val", Self.work + "/packed48", "--run", Self.work + "/cfg"])
        XCTAssertEqual(result.status, 0, result.error)
        let saved = try String(contentsOfFile: Self.work + "/cfg/config.yaml", encoding: .utf8)
        XCTAssertTrue(saved.contains("steps: 2"), saved)
        XCTAssertTrue(saved.contains("lr: 2e-3"), saved)           // command line over file
        XCTAssertTrue(saved.contains("channels: 16"), saved)       // file over preset
        XCTAssertTrue(saved.contains("residual_blocks: 4"), saved) // preset
        // metrics.jsonl: train records and validation records with the promised fields.
        let lines = try String(contentsOfFile: Self.work + "/cfg/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let validation = records.filter { $0["kind"] as? String == "validation" }
        XCTAssertEqual(validation.count, 2)
        for record in validation {
            for key in ["step", "psnr", "ssim", "psnr_bicubic", "ssim_bicubic"] { XCTAssertNotNil(record[key], key) }
        }
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: Self.work + "/cfg").contains { $0.hasPrefix("events.out.tfevents.") })
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.work + "/cfg/samples/step-0000002"))
    }
}

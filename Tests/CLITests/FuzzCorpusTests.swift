// The fuzzing harnesses' committed inputs (Tests/FuzzCorpus: the seeds, and the input of every
// finding once fixed) replayed through a normal build of srgan-fuzz: each harness runs, no input
// crashes, and the seeds reach past the parsers' first checks (a harness whose seeds were all
// refused would fuzz only the error paths). The coverage-guided runs are scripts/fuzz.sh.

import Foundation
import XCTest

final class FuzzCorpusTests: XCTestCase {
    let fuzzBinary = URL(fileURLWithPath: srganDistBinary).deletingLastPathComponent().appendingPathComponent("srgan-fuzz").path
    let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus").path

    func testEveryTargetReplaysItsCorpusWithoutAFinding() throws {
        let list = try runProgram(fuzzBinary, ["--list"])
        XCTAssertEqual(list.status, 0, list.error)
        let targets = list.output.split(separator: "\n").map { String($0.split(separator: " ").first!) }
        XCTAssertEqual(Set(targets), ["safetensors", "shard", "dataset", "checkpoint", "png", "jpeg", "yaml", "upload"])
        for target in targets {
            let folder = (corpus as NSString).appendingPathComponent(target)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder)
            XCTAssertFalse(files.isEmpty, "no seeds for \(target)")
            let replay = try runProgram(fuzzBinary, [target, "-v", folder])
            XCTAssertEqual(replay.status, 0, "\(target): \(replay.output)\n\(replay.error)")
            XCTAssertTrue(replay.output.contains("srgan-fuzz \(target): \(files.count) inputs replayed"), replay.output)
            let accepted = replay.output.split(separator: "\n").filter { $0.hasSuffix(": accepted") }
            XCTAssertFalse(accepted.isEmpty, "\(target): every seed was refused, so fuzzing would not reach past the first checks:\n\(replay.output)")
        }
    }

    func testSeedsThatMustParseDoParse() throws {
        // One representative per format that the harness must accept whole (reader, checks,
        // decode, and for the model files the network and its config).
        let mustAccept = [("safetensors", "small-generator.safetensors"), ("safetensors", "small-generator-config-only.safetensors"),
                          ("shard", "sample-repaired.srs"),
                          ("dataset", "index.json"), ("checkpoint", "state.json"), ("png", "rgb8-interlaced.png"),
                          ("png", "gray16.png"), ("jpeg", "progressive.jpg"), ("yaml", "tiny-gan.yaml"), ("upload", "baseline.jpg")]
        for (target, file) in mustAccept {
            let path = ((corpus as NSString).appendingPathComponent(target) as NSString).appendingPathComponent(file)
            let replay = try runProgram(fuzzBinary, [target, "-v", path])
            XCTAssertEqual(replay.status, 0, replay.error)
            XCTAssertTrue(replay.output.contains("\(file): accepted"), "\(target) \(file): \(replay.output)")
        }
        // And one the harness must refuse with the reader's own message, not a crash.
        let gif = ((corpus as NSString).appendingPathComponent("upload") as NSString).appendingPathComponent("small.gif")
        let refused = try runProgram(fuzzBinary, ["upload", "-v", gif])
        XCTAssertEqual(refused.status, 0, refused.error)
        XCTAssertTrue(refused.output.contains("refused: 415: This is not a PNG or JPEG file (it looks like a GIF)"), refused.output)
    }

    func testAnUnknownTargetIsOneLine() throws {
        let result = try runProgram(fuzzBinary, ["gif", "x"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.error, "error: no fuzzing target 'gif'. HINT: srgan-fuzz --list names them\n")
    }
}

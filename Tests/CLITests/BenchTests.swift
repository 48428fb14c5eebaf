// `srgan-dist bench` and the harness `srgan-bench` at tiny sizes: the children print the promised
// JSON, the FLOP count matches the hand count of the paper's generator, --profile prints its table
// (a summary line per rank under mpirun), srgan-bench without the peer still prints srgan-dist's
// row with a hint, and without an srgan-dist beside it stops with one line. No timing is checked: speed lives in benchmarks.

import Foundation
import XCTest

private func jsonObject(_ line: Substring?) -> [String: Any]? {
    line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

final class BenchTests: XCTestCase {
    func testStepCountsTheGeneratorFlopsAndProfilesItsLayers() throws {
        let result = try runSRGANDist(["bench", "step", "--phase", "srresnet", "--batch", "1", "--patch", "16",
                                       "--steps", "1", "--threads", "1", "--profile"])
        XCTAssertEqual(result.status, 0, result.error)
        let lines = result.output.split(separator: "\n")
        let fields = try XCTUnwrap(jsonObject(lines.last), result.output)
        // Per LR pixel: head 2*64*243, 33 body convs 2*64*576, upsamplers 2*256*576 at 1x and
        // at 4 pixels per LR pixel, tail 2*3*5184 at 16: 4,436,352 FLOPs; x 16 LR pixels x 3.
        XCTAssertEqual((fields["gflop_per_sample"] as? NSNumber)?.doubleValue ?? 0, 3 * 16 * 4_436_352 / 1e9, accuracy: 0.001)
        XCTAssertGreaterThan((fields["samples_per_s"] as? NSNumber)?.doubleValue ?? 0, 0)
        XCTAssertGreaterThan((fields["peak_rss_mb"] as? NSNumber)?.doubleValue ?? 0, 0)
        XCTAssertTrue(lines.contains { $0.hasPrefix("| Generator | Conv2d 3x3 64->64 -> 4x4 | 33 |") }, result.output)
        XCTAssertTrue(lines.contains { $0.hasPrefix("| all-reduce | Generator gradients") }, result.output)
    }

    func testProfileUnderMPIHasALinePerRank() throws {
        let result = try runUnderMPI(ranks: 2, ["bench", "step", "--phase", "srresnet", "--batch", "1", "--patch", "16",
                                                "--steps", "1", "--threads", "1", "--profile"])
        XCTAssertEqual(result.status, 0, result.error)
        let lines = result.output.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.contains("2 ranks") && $0.hasPrefix("profile of the last srresnet step") }, result.output)
        for rank in 0..<2 {
            let line = try XCTUnwrap(lines.first { $0.hasPrefix("rank \(rank) by network: Generator ") }, result.output)
            XCTAssertTrue(line.contains("all-reduce ") && line.contains(" ms, step "), String(line))
        }
    }

    func testInferenceProfileListsTheGeneratorsLayers() throws {
        let result = try runSRGANDist(["bench", "infer", "--input", "8", "--steps", "1", "--threads", "1", "--profile"])
        XCTAssertEqual(result.status, 0, result.error)
        let lines = result.output.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix("| Generator | Conv2d 9x9 64->3 -> 32x32 | 1 |") }, result.output)
        XCTAssertNotNil(jsonObject(lines.last)?["seconds_per_image"], result.output)
    }

    func testJsonHasTheSummaryKeysAndNoPeer() throws {
        let result = try runSRGANBench(["compare", "--json", "--workloads", "infer", "--infer-input", "8", "--steps", "1",
                                       "--threads", "1", "--gemm-size", "64", "--peer-python", "/nonexistent/python"])
        XCTAssertEqual(result.status, 0, result.error)
        let fields = try XCTUnwrap(jsonObject(result.output.split(separator: "\n").last), result.output)
        XCTAssertEqual(fields["threads"] as? Int, 1)
        XCTAssertGreaterThan((fields["infer_seconds_per_image"] as? NSNumber)?.doubleValue ?? 0, 0)
        XCTAssertNotNil(fields["sgemm_gflop_per_s"])
        XCTAssertNil(fields["errors"])
    }

    func testWithoutThePeerTheTableHasSrganDistAloneAndAHint() throws {
        let result = try runSRGANBench(["--workloads", "infer", "--infer-input", "8", "--steps", "1",
                                       "--threads", "1", "--gemm-size", "64", "--peer-python", "/nonexistent/python"])
        XCTAssertEqual(result.status, 0, result.error)
        let lines = result.output.split(separator: "\n")
        let row = try XCTUnwrap(lines.first { $0.hasPrefix("| inference 8x8 -> 32x32 | s/image |") }, result.output)
        XCTAssertNotNil(Double(row.split(separator: "|")[2].trimmingCharacters(in: .whitespaces)), String(row))
        XCTAssertTrue(lines.contains { $0.hasPrefix("peer not run: /nonexistent/python not found. HINT:") }, result.output)
    }

    func testRoundsPrintATablePerRoundAndTheRatiosPerRound() throws {
        let result = try runSRGANBench(["--workloads", "infer", "--infer-input", "8", "--steps", "1", "--rounds", "2",
                                       "--threads", "1", "--gemm-size", "64", "--peer-python", "/nonexistent/python"])
        XCTAssertEqual(result.status, 0, result.error)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(lines.contains("round 1 of 2:") && lines.contains("round 2 of 2:"), result.output)
        XCTAssertEqual(lines.filter { $0.hasPrefix("| inference 8x8 -> 32x32 | s/image |") }.count, 2, result.output)
        // No peer: the per-round ratios are blank, but the row is there.
        XCTAssertTrue(lines.contains("| inference 8x8 -> 32x32 |  |  |  |"), result.output)
        XCTAssertNotEqual(try runSRGANBench(["compare", "--json", "--rounds", "2"]).status, 0)
    }

    func testTheHarnessWithoutSrganDistBesideItSaysSoInOneLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-bench-alone-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: srganBenchBinary, toPath: folder + "/srgan-bench")
        let result = try runProgram(folder + "/srgan-bench", ["compare", "--workloads", "infer", "--skip-peer"])
        XCTAssertNotEqual(result.status, 0)
        let lines = result.error.split(separator: "\n").filter { $0.lowercased().contains("error") }
        XCTAssertEqual(lines.count, 1, result.error)
        XCTAssertTrue(lines.first?.contains("\(folder)/srgan-dist not found") ?? false, result.error)
        XCTAssertTrue(lines.first?.contains("HINT: swift build -c release") ?? false, result.error)
        // srgan-dist itself no longer has the harness, and says where it went
        let help = try runSRGANDist(["bench", "--help"])
        XCTAssertFalse(help.output.split(separator: "\n").contains { $0.hasPrefix("  compare") }, help.output)
        XCTAssertTrue(help.output.contains("srgan-bench"), help.output)
    }

    func testUnknownWorkloadGetsOneClearLine() throws {
        let result = try runSRGANBench(["--workloads", "infer,training"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("--workloads 'infer,training'"), result.error)
    }
}

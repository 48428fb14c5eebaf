// `srgan-bench compare --precision`: which arguments reach the children and how the table
// names the two sides. The peer is a stand-in shell script that writes down its arguments and
// prints a fixed JSON line, so no torch is needed and nothing is timed.

import Foundation
import XCTest

final class BenchPrecisionTests: XCTestCase {
    private var work = ""

    /// The stand-in peer: `peer-python` answers torch's version check, logs every other call's
    /// arguments to `peer-calls.log` and prints one result line; the peer scripts exist, empty.
    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-bench-precision-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work + "/peers", withIntermediateDirectories: true)
        for script in ["srgan_step.py", "srgan_infer.py", "srgan_ddp.py"] {
            XCTAssertTrue(FileManager.default.createFile(atPath: "\(work)/peers/\(script)", contents: Data()))
        }
        let python = """
            #!/bin/sh
            if [ "$1" = "-c" ]; then echo "0.0-standin"; exit 0; fi
            echo "$*" >> "\(work)/peer-calls.log"
            case "$*" in *--channels-last*) layout=channels_last ;; *) layout=contiguous ;; esac
            echo "{\\"layout\\": \\"$layout\\", \\"precision\\": \\"standin\\", \\"seconds_per_image\\": 1.0, \\"peak_rss_mb\\": 1.0}"

            """
        XCTAssertTrue(FileManager.default.createFile(atPath: work + "/peer-python", contents: Data(python.utf8),
                                                     attributes: [.posixPermissions: 0o755]))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    private func compare(_ extra: [String], environment: [String] = []) throws -> (CommandResult, [String]) {
        let arguments = ["compare", "--workloads", "infer", "--infer-input", "8", "--steps", "1", "--threads", "1",
                         "--gemm-size", "64", "--peer-python", work + "/peer-python", "--peer-dir", work + "/peers"] + extra
        let result = try runProgram("/usr/bin/env", environment + [srganBenchBinary] + arguments)
        let calls = ((try? String(contentsOfFile: work + "/peer-calls.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        return (result, calls)
    }

    func testFP32IsTheDefaultAndItsCommandLinesAndTableAreThePlainOnes() throws {
        let (result, calls) = try compare([])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(calls, ["\(work)/peers/srgan_infer.py --input 8 --steps 1 --threads 1",
                               "\(work)/peers/srgan_infer.py --input 8 --steps 1 --threads 1 --channels-last"])
        XCTAssertTrue(result.output.contains("| workload | unit | srgan-dist | PyTorch | PyTorch layout |"), result.output)
        XCTAssertFalse(result.output.contains("srgan-dist bf16") || result.output.contains("autocast"), result.output)
    }

    func testBF16GoesToBothPeerLayoutsAndNamesBothSides() throws {
        let (result, calls) = try compare(["--precision", "bf16"])
        XCTAssertEqual(calls, ["\(work)/peers/srgan_infer.py --input 8 --steps 1 --threads 1 --precision bf16",
                               "\(work)/peers/srgan_infer.py --input 8 --steps 1 --threads 1 --precision bf16 --channels-last"])
        let lines = result.output.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasSuffix("products in bf16: srgan-dist bf16 beside PyTorch bf16 (autocast) (not the fp32 comparison)") },
                      result.output)
        XCTAssertTrue(result.output.contains("| workload | unit | srgan-dist bf16 | PyTorch bf16 (autocast) | PyTorch layout |"), result.output)
        // The peer's own word for its precision is listed with each layout.
        XCTAssertTrue(lines.contains("PyTorch infer: contiguous standin 1.000 s/image, 1 MB; channels_last standin 1.000 s/image, 1 MB"),
                      result.output)
        // srgan-dist's side: measured where this CPU computes bf16, else one line saying why.
        let row = try XCTUnwrap(lines.first { $0.hasPrefix("| inference 8x8 -> 32x32 | s/image |") }, result.output)
        let ownCell = row.split(separator: "|")[2].trimmingCharacters(in: .whitespaces)
        if result.status == 0 {
            XCTAssertNotNil(Double(ownCell), String(row))
        } else {
            XCTAssertTrue(lines.contains { $0.hasPrefix("note: srgan-dist not run in bf16: ") && $0.contains("HINT:") }, result.output)
        }
    }

    func testBF16OnAPathWithoutItIsOneLineInTheReport() throws {
        let (result, calls) = try compare(["--precision", "bf16"], environment: ["SRGAN_DIST_ISA=baseline"])
        XCTAssertEqual(result.status, 1, result.error)
        let lines = result.output.split(separator: "\n")
        let notes = lines.filter { $0.hasPrefix("note: ") }
        XCTAssertEqual(notes.count, 1, result.output)
        // The forced path is named, or first the missing feature on a CPU without AVX512-BF16.
        XCTAssertTrue(notes[0].hasPrefix("note: srgan-dist not run in bf16: ")
                      && (notes[0].contains("baseline") || notes[0].contains("AVX512-BF16 (VDPBF16PS), which this CPU lacks"))
                      && notes[0].contains("HINT:"), result.output)
        // The table is there, srgan-dist's cells empty, the peer still measured in both layouts.
        XCTAssertTrue(lines.contains { $0.hasPrefix("| inference 8x8 -> 32x32 | s/image |  | 1.000 |") }, result.output)
        XCTAssertEqual(calls.count, 2, calls.joined(separator: "\n"))
    }

    func testJsonNamesThePrecisionAndCarriesTheRefusal() throws {
        let (result, _) = try compare(["--json", "--precision", "bf16"], environment: ["SRGAN_DIST_ISA=baseline"])
        let fields = try XCTUnwrap(try? JSONSerialization.jsonObject(with: Data((result.output.split(separator: "\n").last ?? "").utf8))
                                   as? [String: Any], result.output)
        XCTAssertEqual(fields["precision"] as? String, "bf16")
        XCTAssertTrue((fields["errors"] as? String)?.hasPrefix("srgan-dist not run in bf16: ") ?? false, result.output)
        XCTAssertNil(fields["infer_seconds_per_image"], result.output)
    }
}

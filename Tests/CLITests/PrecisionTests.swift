// `--precision bf16` where it cannot run: the forced AVX2 path (what a Zen 2/3 node gets) refuses
// with one error line naming the missing feature or path, and under mpirun a rank that cannot
// compute bf16, or was given another precision, stops the job before its first step, named.

import Foundation
import XCTest

final class PrecisionTests: XCTestCase {
    static var work = ""

    override class func setUp() {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-precision-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        let pack = try! runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                      "--output", work + "/packed", "--patch-size", "48", "--stride", "96", "--val-images", "1"])
        precondition(pack.status == 0, pack.error)
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    private func train(_ run: String, _ extra: [String]) -> [String] {
        ["train", "--preset", "tiny", "--data", Self.work + "/packed", "--steps", "2", "--batch", "2", "--validate-every", "2",
         "--watchdog", "60", "--run", Self.work + "/" + run] + extra
    }

    private func errorLines(_ text: String) -> [Substring] { text.split(separator: "\n").filter { $0.hasPrefix("error:") } }

    func testForcedAVX2PathRefusesBF16WithOneLine() throws {
        let result = try runProgram("/usr/bin/env", ["SRGAN_DIST_ISA=avx2", srganDistBinary] + train("avx2", ["--precision", "bf16"]))
        XCTAssertEqual(result.status, 1, result.output + result.error)
        let lines = errorLines(result.error)
        XCTAssertEqual(lines.count, 1, result.error)
        // On a CPU without AVX512-BF16 the missing feature is named first; with it, the forced path.
        let named = result.error.contains("bf16 products run on the avx512 kernel path only, and this process runs the avx2 path")
            || result.error.contains("bf16 products need AVX512-BF16 (VDPBF16PS), which this CPU lacks")
        XCTAssertTrue(named && result.error.contains("HINT:"), result.error)
        XCTAssertFalse(result.output.contains("srresnet step 1/"), "a step ran: \(result.output)")
        // The same run in fp32 trains on the forced path.
        let fp32 = try runProgram("/usr/bin/env", ["SRGAN_DIST_ISA=avx2", srganDistBinary] + train("avx2-fp32", ["--precision", "fp32"]))
        XCTAssertEqual(fp32.status, 0, fp32.error)
    }

    func testARankThatCannotComputeBF16IsNamed() throws {
        // mpirun's MPMD form: rank 0 as the machine is, rank 1 on the forced AVX2 path.
        let arguments = train("mixed", ["--precision", "bf16"])
        let result = try runProgram("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "-x", "OPENBLAS_NUM_THREADS=1",
                                                     "-n", "1", srganDistBinary] + arguments
                                        + [":", "-n", "1", "-x", "SRGAN_DIST_ISA=avx2", srganDistBinary] + arguments)
        XCTAssertNotEqual(result.status, 0, result.output)
        let text = result.output + result.error
        if text.contains("which this CPU lacks") {
            // Every rank shares this CPU, so every rank refuses, each for the missing feature
            // (RankErrors: an error all ranks share is reported as it is, without a rank).
            XCTAssertFalse(text.contains("srresnet step 1/"), "a step ran: \(text)")
            XCTAssertTrue(text.contains("HINT:"), text)
            throw XCTSkip("this CPU has no AVX512-BF16: rank 0 refuses too, so no rank can be singled out (\(text))")
        }
        XCTAssertTrue(text.contains("rank 1") && text.contains("bf16 products run on the avx512 kernel path only"), text)
        XCTAssertFalse(text.contains("srresnet step 1/"), "a step ran: \(text)")
    }

    func testRanksGivenDifferentPrecisionsAreRefused() throws {
        let result = try runProgram("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "-x", "OPENBLAS_NUM_THREADS=1",
                                                     "-n", "1", srganDistBinary] + train("differ", ["--precision", "fp32"])
                                        + [":", "-n", "1", srganDistBinary] + train("differ", ["--precision", "bf16"]))
        XCTAssertNotEqual(result.status, 0, result.output)
        let text = result.output + result.error
        XCTAssertTrue(text.contains("rank 1 computes its products in bf16 and rank 0 in fp32: every rank must use the same precision")
                      && text.contains("HINT:"), text)
        XCTAssertEqual(errorLines(result.error).count, 1, result.error)
    }
}

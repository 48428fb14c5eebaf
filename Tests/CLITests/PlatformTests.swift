// What the binary runs on: the BLAS core check (re-execution with a better OPENBLAS_CORETYPE,
// alone and under mpirun), a user's own OPENBLAS_CORETYPE, and a forced kernel path.

import Foundation
import XCTest
import SRCore

/// `srgan-dist ARGS` with the BLAS variables cleared and `variables` set (env -u / VAR=VALUE).
private func runClean(_ variables: [String], _ arguments: [String], ranks: Int? = nil) throws -> CommandResult {
    let clean = ["-u", "OPENBLAS_CORETYPE", "-u", "SRGAN_DIST_BLAS_REEXEC", "-u", "SRGAN_DIST_ISA", "-u", "SRGAN_DIST_TEST_BLAS_CORE"]
    if let ranks {
        let exported = variables.flatMap { ["-x", $0] }
        return try runProgram("/usr/bin/env", clean + ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "\(ranks)",
                                                       "-x", "OPENBLAS_NUM_THREADS=1"] + exported + [srganDistBinary] + arguments)
    }
    return try runProgram("/usr/bin/env", clean + variables + [srganDistBinary] + arguments)
}

private func field(_ name: String, _ output: String) -> [String] {
    output.split(separator: "\n").filter { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
}

final class PlatformTests: XCTestCase {
    /// The core OpenBLAS picks on this CPU when left alone, and whether it is the best one.
    private func ownChoice() throws -> (core: String, line: String) {
        let plain = try runClean([], ["--version"])
        XCTAssertEqual(plain.status, 0, plain.error)
        let blas = try XCTUnwrap(field("blas", plain.output).first, plain.output)
        let core = try XCTUnwrap(blas.split(separator: ",").last?.split(separator: " ").dropFirst().first.map(String.init), blas)
        return (core, blas)
    }

    func testVersionNamesCPUKernelsBLASAndThreads() throws {
        let result = try runClean([], ["--version"])
        XCTAssertEqual(result.status, 0, result.error)
        for name in ["cpu", "kernels", "blas", "threads"] { XCTAssertEqual(field(name, result.output).count, 1, "\(name) in \(result.output)") }
        XCTAssertTrue(field("cpu", result.output)[0].contains("family"), result.output)
        XCTAssertTrue(field("blas", result.output)[0].hasPrefix("OpenBLAS "), result.output)
    }

    /// OpenBLAS "picked" Prescott (the test hook): the binary re-executes itself with the best core
    /// for this CPU and says so; alone and on every rank under mpirun.
    func testAWeakCoreIsReplacedByReexecution() throws {
        let (own, line) = try ownChoice()
        guard !line.contains("srgan-dist set"), ["Haswell", "Zen", "SkylakeX", "Cooperlake", "Sandybridge"].contains(own) else {
            throw XCTSkip("OpenBLAS picks \(line) here; the test needs a CPU whose best core OpenBLAS already picks")
        }
        // On an AVX512-BF16 CPU (Zen 4) OpenBLAS picks Cooperlake itself; srgan-dist re-executes
        // with SkylakeX, as wide for sgemm (Debian's 0.3.21 does not accept Cooperlake as a forced core).
        let core = own == "Cooperlake" ? "SkylakeX" : own
        let alone = try runClean(["SRGAN_DIST_TEST_BLAS_CORE=Prescott"], ["--version"])
        XCTAssertEqual(alone.status, 0, alone.error)
        XCTAssertEqual(field("blas", alone.output),
                       ["OpenBLAS \(line.split(separator: ",")[0].dropFirst("OpenBLAS ".count)), core \(core) (srgan-dist set OPENBLAS_CORETYPE=\(core); OpenBLAS had picked Prescott)"],
                       alone.output)
        XCTAssertFalse(alone.error.contains("warning"), alone.error)
        let ranks = try runClean(["SRGAN_DIST_TEST_BLAS_CORE=Prescott"], ["--version"], ranks: 2)
        XCTAssertEqual(ranks.status, 0, ranks.error)
        let lines = field("blas", ranks.output)
        XCTAssertEqual(lines.count, 2, ranks.output)
        XCTAssertTrue(lines.allSatisfy { $0.contains("core \(core) (srgan-dist set OPENBLAS_CORETYPE=\(core)") }, ranks.output)
    }

    /// A user's OPENBLAS_CORETYPE wins, with one warning and a hint when it is weaker than the best.
    func testTheUsersCoreTypeWins() throws {
        let (core, _) = try ownChoice()
        let result = try runClean(["OPENBLAS_CORETYPE=Prescott"], ["--version"])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(field("blas", result.output).first?.hasSuffix("core Prescott (OPENBLAS_CORETYPE=Prescott set by the user)"), true, result.output)
        let warnings = result.error.split(separator: "\n").filter { $0.contains("warning") }
        XCTAssertEqual(warnings.count, 1, result.error)
        XCTAssertTrue(warnings.first?.contains("HINT: unset OPENBLAS_CORETYPE") ?? false, result.error)
        // What the hint promises holds: unset, the core that runs (OpenBLAS's own, or the one
        // srgan-dist re-executed with) is as wide as the one the warning names.
        let named = try XCTUnwrap(warnings.first?.split(separator: " ").first { $0.hasPrefix("OPENBLAS_CORETYPE=") && !$0.contains("Prescott") })
        let best = String(named.dropFirst("OPENBLAS_CORETYPE=".count).prefix { $0.isLetter || $0.isNumber })
        XCTAssertGreaterThanOrEqual(BLASCore.level(ofCore: core), BLASCore.level(ofCore: best), "unset runs \(core); the warning names \(best)")
    }

    func testForcedKernelPaths() throws {
        let baseline = try runClean(["SRGAN_DIST_ISA=baseline"], ["--version"])
        XCTAssertEqual(baseline.status, 0, baseline.error)
        XCTAssertEqual(field("kernels", baseline.output).first?.hasPrefix("baseline (forced by SRGAN_DIST_ISA=baseline"), true, baseline.output)
        let unknown = try runClean(["SRGAN_DIST_ISA=sse9"], ["--version"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.error.split(separator: "\n").count, 1, unknown.error)
        XCTAssertTrue(unknown.error.contains("SRGAN_DIST_ISA=sse9 is not a kernel path") && unknown.error.contains("HINT:"), unknown.error)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if !flags.contains(" avx512f") {
            let wide = try runClean(["SRGAN_DIST_ISA=avx512"], ["--version"])
            XCTAssertEqual(wide.status, 2)
            XCTAssertTrue(wide.error.contains("cannot run") && wide.error.contains("HINT:"), wide.error)
        }
    }
}

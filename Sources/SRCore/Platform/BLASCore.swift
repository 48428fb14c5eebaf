// Which OpenBLAS kernels this process runs, and making sure they are the best the CPU has.
//
// A DYNAMIC_ARCH OpenBLAS picks its kernels ("core") once, when the library loads, from CPUID;
// a build older than the CPU does not know its model and falls back to a weak core (Debian 12's
// 0.3.21 runs Prescott, SSE3, on Sapphire Rapids: 33 GFLOP/s sgemm per thread against 159 with
// SkylakeX). OpenBLAS reads OPENBLAS_CORETYPE at load time only, so the fix is to set it and
// re-execute the program before anything else starts (`BLASCore.ensureBestCore`, called first
// thing in main). The process keeps its PID, so this works under mpirun too. A user's own
// OPENBLAS_CORETYPE is never overridden.

import CBLAS
import Foundation

public enum BLASCore {
    /// Set to the core OpenBLAS first picked when srgan-dist re-executed itself with a better one.
    static let reexecVariable = "SRGAN_DIST_BLAS_REEXEC"
    /// Test hook: pretend OpenBLAS picked this core (before any re-execution). Tests only.
    static let pretendVariable = "SRGAN_DIST_TEST_BLAS_CORE"

    /// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64"
    public static var config: String { String(cString: openblas_get_config()) }
    /// "Zen", "Haswell", "SkylakeX", "Prescott", ...
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// "0.3.21", from the config string.
    public static var version: String {
        config.split(separator: " ").dropFirst().first.map(String.init) ?? "unknown"
    }

    /// The vector width class of an OpenBLAS core: 0 SSE-class, 1 AVX, 2 AVX2 + FMA, 3 AVX-512.
    public static func level(ofCore name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": 3
        case "haswell", "zen", "skylake", "excavator": 2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": 1
        default: 0
        }
    }

    /// The core OpenBLAS should run on `cpu` (nil: nothing better than its SSE kernels).
    public static func bestCore(for cpu: CPU) -> String? {
        let features = Set(cpu.features)
        if cpu.runs(.avx512) { return "SkylakeX" }
        if cpu.runs(.avx2) { return cpu.vendor == "AuthenticAMD" ? "Zen" : "Haswell" }
        if features.contains("avx") { return "Sandybridge" }
        return nil
    }

    public enum Decision: Equatable, Sendable {
        /// The loaded core is as good as the CPU allows.
        case keep
        /// Set OPENBLAS_CORETYPE to this and re-execute.
        case reexecute(coreType: String)
        /// The user set OPENBLAS_CORETYPE; it is kept even though `best` would be faster.
        case userChoseWeaker(best: String)
        /// Re-executed with `wanted`, but this OpenBLAS has no such kernels.
        case unavailable(wanted: String)
    }

    /// What to do, from the loaded core, the best for this CPU, the user's OPENBLAS_CORETYPE
    /// (nil: unset) and whether this process is already the re-executed one.
    public static func decide(loaded: String, best: String?, userCoreType: String?, reexecuted: Bool) -> Decision {
        guard let best, level(ofCore: loaded) < level(ofCore: best) else { return .keep }
        if reexecuted { return .unavailable(wanted: best) }
        if userCoreType != nil { return .userChoseWeaker(best: best) }
        return .reexecute(coreType: best)
    }

    /// The start-up line: "BLAS: OpenBLAS 0.3.21, core Zen (picked by OpenBLAS)".
    public nonisolated(unsafe) private(set) static var summary = ""
    /// A warning with a hint when the BLAS runs weaker kernels than the CPU allows, else nil.
    public nonisolated(unsafe) private(set) static var warning: String?

    /// Called first in main, before any thread or MPI starts: re-executes the program with a
    /// better OPENBLAS_CORETYPE when OpenBLAS picked a weak core (does not return then), and
    /// sets `summary` and `warning` otherwise; `tool` is the program's name in them.
    public static func ensureBestCore(tool: String) {
        let environment = ProcessInfo.processInfo.environment
        let reexecutedFrom = environment[reexecVariable]
        let userCoreType = reexecutedFrom == nil ? environment["OPENBLAS_CORETYPE"] : nil
        let loaded = reexecutedFrom == nil ? (environment[pretendVariable] ?? coreName) : coreName
        let best = bestCore(for: CPU.current)
        switch decide(loaded: loaded, best: best, userCoreType: userCoreType, reexecuted: reexecutedFrom != nil) {
        case .reexecute(let coreType):
            setenv("OPENBLAS_CORETYPE", coreType, 1)
            setenv(reexecVariable, loaded, 1)
            reexecute()
            // execv returned: carry on with the weak kernels, and say so
            summary = "OpenBLAS \(version), core \(coreName) (picked by OpenBLAS)"
            warning = "OpenBLAS runs its \(loaded) kernels on a CPU that runs \(coreType); re-executing with "
                + "OPENBLAS_CORETYPE=\(coreType) failed (\(String(cString: strerror(errno)))). "
                + "HINT: start \(tool) with OPENBLAS_CORETYPE=\(coreType) set."
        case .keep:
            if let reexecutedFrom {
                summary = "OpenBLAS \(version), core \(coreName) (\(tool) set OPENBLAS_CORETYPE=\(environment["OPENBLAS_CORETYPE"] ?? "?"); OpenBLAS had picked \(reexecutedFrom))"
            } else if let userCoreType {
                summary = "OpenBLAS \(version), core \(coreName) (OPENBLAS_CORETYPE=\(userCoreType) set by the user)"
            } else {
                summary = "OpenBLAS \(version), core \(coreName) (picked by OpenBLAS)"
            }
        case .userChoseWeaker(let best):
            summary = "OpenBLAS \(version), core \(coreName) (OPENBLAS_CORETYPE=\(userCoreType ?? "") set by the user)"
            // Unset, OpenBLAS's own pick is kept when it is as wide as `best` (Cooperlake on Zen 4,
            // where `best` is SkylakeX), else srgan-dist re-executes with `best`.
            warning = "OPENBLAS_CORETYPE=\(userCoreType ?? "") runs OpenBLAS's \(coreName) kernels; this CPU runs \(best) "
                + "or an equally wide core, several times faster for sgemm. HINT: unset OPENBLAS_CORETYPE and \(tool) "
                + "keeps OpenBLAS's own core when it is as wide, or re-executes with OPENBLAS_CORETYPE=\(best)."
        case .unavailable(let wanted):
            summary = "OpenBLAS \(version), core \(coreName) (asked for \(wanted))"
            warning = "OpenBLAS \(version) has no \(wanted) kernels in this build and runs \(coreName) on a CPU that runs \(wanted). "
                + "HINT: install an OpenBLAS built with DYNAMIC_ARCH that includes \(wanted) (0.3.22 or later), or point LD_LIBRARY_PATH at one."
        }
    }

    /// execv of this program with the same arguments; returns only when it fails.
    private static func reexecute() {
        let arguments = CommandLine.arguments
        var cArguments = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &cArguments)
        for pointer in cArguments { free(pointer) }
    }
}

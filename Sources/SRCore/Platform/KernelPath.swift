// The vector ISA path of srgan-dist's own kernels (Sources/CKernels: one C source compiled per
// ISA), chosen once per process: the widest the CPU runs, or the one SRGAN_DIST_ISA names
// (`baseline`, `avx2`, `avx512`; tests and benchmarks force the narrower paths with it).
//
// Only kernels whose results are local to a rank or all-reduced before use are dispatched; Adam
// stays one Swift loop on every path, so replicas on different CPU generations of one cluster
// still take bit-identical optimizer steps.

import CKernels
import Foundation

public enum ISAPath: Int, CaseIterable, Sendable, CustomStringConvertible {
    case baseline = 0, avx2 = 1, avx512 = 2

    public var description: String {
        switch self {
        case .baseline: "baseline"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    public init?(name: String) {
        guard let path = ISAPath.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = path
    }

    var cValue: sr_isa { sr_isa(rawValue: UInt32(rawValue)) }

    /// This path's kernel table (the CPU must run it: see `CPU.current.runs(_:)`).
    var kernels: UnsafePointer<sr_kernels> { sr_kernels_for(cValue)! }
}

/// The processor this process runs on, as CPUID reports it.
public struct CPU: Sendable {
    public let vendor: String, brand: String
    public let family: Int, model: Int, stepping: Int
    /// The feature names lscpu would show that matter here, in a fixed order.
    public let features: [String]
    fileprivate let info: sr_cpu_info

    public static let current = CPU()

    private init() {
        var info = sr_cpu_info()
        sr_cpu_detect(&info)
        self.info = info
        vendor = withUnsafeBytes(of: info.vendor) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        brand = withUnsafeBytes(of: info.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        family = Int(info.family)
        model = Int(info.model)
        stepping = Int(info.stepping)
        let os = info.os_avx != 0, os512 = info.os_avx512 != 0
        let named: [(String, Bool)] = [
            ("avx", info.avx != 0 && os), ("avx2", info.avx2 != 0 && os), ("fma", info.fma != 0 && os),
            ("avx512f", info.avx512f != 0 && os512), ("avx512bw", info.avx512bw != 0 && os512),
            ("avx512vl", info.avx512vl != 0 && os512), ("avx512_vnni", info.avx512vnni != 0 && os512),
            ("avx512_bf16", info.avx512bf16 != 0 && os512), ("avx512_fp16", info.avx512fp16 != 0 && os512),
            ("amx_bf16", info.amx_bf16 != 0 && info.os_amx != 0), ("amx_tile", info.amx_tile != 0 && info.os_amx != 0),
        ]
        features = named.filter(\.1).map(\.0)
    }

    public func runs(_ path: ISAPath) -> Bool { withUnsafePointer(to: info) { sr_isa_runs_on(path.cValue, $0) != 0 } }

    /// Whether the CPU runs the bf16 product (Sources/CKernels/bf16_gemm.c): the avx512 path's
    /// features plus AVX512-BF16, saved by the OS.
    public var runsBF16: Bool { withUnsafePointer(to: info) { sr_bf16_runs_on($0) != 0 } }

    public var bestPath: ISAPath { withUnsafePointer(to: info) { ISAPath(rawValue: Int(sr_isa_best($0).rawValue))! } }

    /// "AMD EPYC (AuthenticAMD family 23 model 49)".
    public var summary: String { "\(brand.isEmpty ? "unknown CPU" : brand) (\(vendor) family \(family) model \(model))" }
}

public struct KernelPathError: Error, CustomStringConvertible {
    public let description: String
}

public enum KernelPath {
    /// The environment variable that forces a path.
    public static let variable = "SRGAN_DIST_ISA"

    /// The path for `requested` (SRGAN_DIST_ISA's value; nil or empty: the best the CPU runs).
    public static func choose(_ requested: String?, cpu: CPU = .current) throws -> ISAPath {
        guard let requested, !requested.isEmpty else { return cpu.bestPath }
        guard let path = ISAPath(name: requested) else {
            throw KernelPathError(description: "\(variable)=\(requested) is not a kernel path. "
                + "HINT: use one of \(ISAPath.allCases.map(\.description).joined(separator: ", ")), or unset it to use the best this CPU runs (\(cpu.bestPath)).")
        }
        guard cpu.runs(path) else {
            throw KernelPathError(description: "\(variable)=\(requested) asks for kernels this CPU cannot run: "
                + "\(cpu.summary) has \(cpu.features.isEmpty ? "no AVX" : cpu.features.joined(separator: " ")). "
                + "HINT: use \(ISAPath.allCases.filter(cpu.runs).map(\.description).joined(separator: " or ")), or unset \(variable).")
        }
        return path
    }

    /// The path of this process, fixed at its first use. A bad SRGAN_DIST_ISA falls back to the
    /// best path here; the command line checks it first with `choose` and stops with its error.
    public static let active: ISAPath = (try? choose(environmentValue)) ?? CPU.current.bestPath

    public static var environmentValue: String? {
        getenv(variable).map { String(cString: $0) }
    }

    /// The kernel table of the active path.
    static let kernels: UnsafePointer<sr_kernels> = active.kernels
}

// What this process computes on, in the words every start-up log, benchmark and --version use:
// the CPU, the kernel path, the BLAS and its core, the thread count.

public enum PlatformSummary {
    /// "AMD EPYC (AuthenticAMD family 23 model 49), avx2 fma"
    public static var cpu: String {
        let cpu = CPU.current
        return "\(cpu.summary), \(cpu.features.isEmpty ? "no AVX" : cpu.features.joined(separator: " "))"
    }

    /// "avx2 (the best this CPU runs)" or "baseline (forced by SRGAN_DIST_ISA; this CPU runs avx2)"
    public static var kernels: String {
        let active = KernelPath.active, best = CPU.current.bestPath
        if let forced = KernelPath.environmentValue, !forced.isEmpty {
            return "\(active) (forced by \(KernelPath.variable)=\(forced); this CPU runs up to \(best))"
        }
        return "\(active) (the best this CPU runs)"
    }

    /// The lines, each "name: value".
    public static func lines(threads: Int) -> [String] {
        ["cpu: \(cpu)", "kernels: \(kernels)",
         "blas: \(BLASCore.summary.isEmpty ? "OpenBLAS \(BLASCore.version), core \(BLASCore.coreName)" : BLASCore.summary)",
         "threads: \(threads)"]
    }

    /// One line: "cpu ...; kernels ...; blas ...; threads N".
    public static func line(threads: Int) -> String { lines(threads: threads).joined(separator: "; ") }

    /// As a JSON-ready dictionary (bench --json, metrics).
    public static func fields(threads: Int) -> [String: String] {
        ["cpu": cpu, "cpu_model": "family \(CPU.current.family) model \(CPU.current.model)", "isa": KernelPath.active.description,
         "blas": "OpenBLAS \(BLASCore.version)", "blas_core": BLASCore.coreName, "threads": "\(threads)"]
    }
}

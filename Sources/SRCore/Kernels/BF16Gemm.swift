// The bf16 product: c (m, n) (+)= a (m, k) x b (k, n) with a and b rounded to bfloat16 (round to
// nearest, ties to even) and the products summed in fp32, on AVX512-BF16 (VDPBF16PS) through
// Sources/CKernels/bf16_gemm.c. The ground floor of `precision: bf16` (issue 19); the fp32
// `gemm` of Gemm.swift is unchanged and never calls it. BF16Reference.swift is the plain
// reference, docs/architecture.md ("bf16 products") has the measurements and the error bound.
//
// It runs only on the avx512 kernel path of a CPU with AVX512-BF16. Elsewhere, and when
// SRGAN_DIST_ISA forces a narrower path, `bf16Gemm` refuses with a KernelPathError instead of
// emulating: an emulation would be several times slower than fp32 and give other numbers.

import CKernels
import Foundation

public enum BF16Products {
    /// Why this process cannot run the bf16 product (nil: it can), for its kernel path and CPU.
    public static let refusal: KernelPathError? = refusal(path: KernelPath.active, cpuRunsBF16: CPU.current.runsBF16)

    /// Whether `bf16Gemm` runs here.
    public static var available: Bool { refusal == nil }

    /// The refusal for a process on `path` whose CPU does or does not run AVX512-BF16.
    public static func refusal(path: ISAPath, cpuRunsBF16: Bool, cpu: CPU = .current) -> KernelPathError? {
        if !cpuRunsBF16 {
            return KernelPathError(description: "bf16 products need AVX512-BF16 (VDPBF16PS), which this CPU lacks: "
                + "\(cpu.summary) has \(cpu.features.isEmpty ? "no AVX" : cpu.features.joined(separator: " ")). "
                + "HINT: compute in fp32 on this node, or use a CPU with avx512_bf16 (Intel Cooper Lake, Sapphire Rapids or later; AMD Zen 4 or later)")
        }
        if path != .avx512 {
            return KernelPathError(description: "bf16 products run on the avx512 kernel path only, and this process runs the \(path) path "
                + "(\(KernelPath.variable)=\(KernelPath.environmentValue ?? "")). "
                + "HINT: unset \(KernelPath.variable) (or set it to avx512) to compute in bf16, or compute in fp32 on the forced path")
        }
        return nil
    }

    /// Products below this many multiply-adds stay on one thread (parallelGemm's threshold).
    static let splitThreshold = 1 << 21
}

/// c (m, n) = a (m, k) x b (k, n), plus c itself when `accumulate`; row-major fp32, leading
/// dimensions default to the packed ones. a and b are rounded to bfloat16 as they are packed, the
/// products summed in fp32. Split over `BLASThreads.current` threads along the longer side of c
/// (column splits on whole 32-column panels), like `parallelGemm`. Throws `BF16Products.refusal`
/// where the bf16 kernel cannot run.
public func bf16Gemm(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    c: UnsafeMutablePointer<Float>, ldc: Int? = nil, accumulate: Bool = false
) throws {
    if let refusal = BF16Products.refusal { throw refusal }
    precondition(m >= 0 && n >= 0 && k >= 0, "bf16Gemm: negative size \(m)x\(n)x\(k)")
    let lda = lda ?? k, ldb = ldb ?? n, ldc = ldc ?? n
    precondition(lda >= k && ldb >= n && ldc >= n, "bf16Gemm: a leading dimension below its row length")
    let threads = BLASThreads.current
    func part(_ rows: Range<Int>, _ columns: Range<Int>) {
        guard !rows.isEmpty, !columns.isEmpty else { return }
        let status = sr_bf16_gemm(rows.count, columns.count, k, a + rows.lowerBound * lda, lda, b + columns.lowerBound, ldb,
                                  c + rows.lowerBound * ldc + columns.lowerBound, ldc, accumulate ? 1 : 0)
        precondition(status == 0, "bf16Gemm: no memory for its packing buffer")
    }
    guard threads > 1, m * n * k >= BF16Products.splitThreshold, max(m, n) >= 2 * threads else {
        part(0..<m, 0..<n)
        return
    }
    let splitRows = m >= n
    DispatchQueue.concurrentPerform(iterations: threads) { index in
        if splitRows {
            part(m * index / threads..<m * (index + 1) / threads, 0..<n)
        } else {
            let panels = (n + 31) / 32
            let start = min(n, panels * index / threads * 32), end = min(n, panels * (index + 1) / threads * 32)
            part(0..<m, start..<end)
        }
    }
}

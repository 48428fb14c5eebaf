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
}

/// How a product's inputs are represented while they are multiplied: fp32, or rounded to
/// bfloat16 (nearest, ties to even) with the products summed in fp32. A Conv2d's or Linear's
/// `precision`; `precision: bf16` in a run's settings sets it on every layer of G, D and VGG19.
public enum ProductPrecision: String, Sendable, CaseIterable, Codable {
    case fp32, bf16
}

/// c (m, n) = op(a) (m, k) x op(b) (k, n), plus c itself when `accumulate`; row-major fp32,
/// leading dimensions default to the packed ones. a and b are rounded to bfloat16 as they are
/// packed, the products summed in fp32. Split over `BLASThreads.current` threads as
/// `parallelGemm` splits (it is `parallelGemm` with `precision: .bf16`). Throws
/// `BF16Products.refusal` where the bf16 kernel cannot run.
public func bf16Gemm(
    _ transA: Transpose = .none, _ transB: Transpose = .none, m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    c: UnsafeMutablePointer<Float>, ldc: Int? = nil, accumulate: Bool = false
) throws {
    if let refusal = BF16Products.refusal { throw refusal }
    parallelGemm(transA, transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: c,
                 ldc: ldc, precision: .bf16)
}

/// One single-threaded bf16 product (gemm's `precision: .bf16`), leading dimensions resolved.
func bf16Product(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    precondition(BF16Products.available, "a bf16 product where this process cannot run one: "
                 + "callers check BF16Products.refusal when they set precision bf16 (\(BF16Products.refusal.map { "\($0)" } ?? ""))")
    precondition(alpha == 1 && (beta == 0 || beta == 1), "bf16 products take alpha 1 and beta 0 or 1 (given \(alpha), \(beta))")
    precondition(m >= 0 && n >= 0 && k >= 0, "bf16 product: negative size \(m)x\(n)x\(k)")
    precondition(lda >= (transA == .none ? k : m) && ldb >= (transB == .none ? n : k) && ldc >= n,
                 "bf16 product: a leading dimension below its row length")
    let status = sr_bf16_gemm(transA == .none ? 0 : 1, transB == .none ? 0 : 1, m, n, k, a, lda, b, ldb, c, ldc,
                              beta == 1 ? 1 : 0)
    precondition(status == 0, "bf16 product: no memory for its packing buffer")
}

// The one place that calls BLAS. Row-major C = alpha * op(A) * op(B) + beta * C with
// op(A) (M,K), op(B) (K,N), C (M,N); leading dimensions follow from the transpose flags,
// as in Caffe's caffe_cpu_gemm.

import CBLAS
import CKernels
import Foundation

public enum Transpose: Sendable {
    case none, transposed
}

///
/// `precision: .bf16` rounds op(A) and op(B) to bfloat16 and sums in fp32 (BF16Gemm.swift), for
/// alpha 1 and beta 0 or 1 only; the caller has checked `BF16Products.refusal` at start-up.
public func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil, precision: ProductPrecision = .fp32
) {
    _ = BLASThreads.current  // OpenBLAS set to one thread before its first call
    // Leading dimensions default to the packed ones; a caller may pass larger strides (views).
    let lda = lda ?? (transA == .none ? k : m)
    let ldb = ldb ?? (transB == .none ? n : k)
    if precision == .bf16 {
        bf16Product(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                    c: c, ldc: ldc ?? n)
        return
    }
    if transA == .none && transB == .none && alpha == 1 && (beta == 0 || beta == 1) && SmallGemm.wins(m: m, n: n, k: k) {
        SmallGemm.kernel(m, n, k, a, lda, b, ldb, c, ldc ?? n, beta == 1 ? 1 : 0)
        return
    }
    cblas_sgemm(
        CblasRowMajor,
        transA == .none ? CblasNoTrans : CblasTrans,
        transB == .none ? CblasNoTrans : CblasTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc ?? n))
}

/// The project's own product kernel (Sources/CKernels small_gemm) for the shapes where it beats
/// OpenBLAS: B (k, n) of at most 16k floats (64 kB, so a column panel stays in L1 across the rows
/// of A), n at least one register panel, on the AVX2 and AVX-512 paths. These are the Winograd
/// products (M = tiles, N, K = channels), where OpenBLAS 0.3.21's packing and separate beta pass
/// cost as much as half its kernel time. Measured on AMD EPYC (family 23 model 49, Zen 2), one
/// thread, M = 288 (Zen kernels / small_gemm, GFLOP/s): 64x64 57/80, 256x64 58/72, 64x256 68/77,
/// 128x128 68/76, 32x32 (M 144) 38/57; but 256x256 65/57 and 512x256 63/36, left to OpenBLAS.
enum SmallGemm {
    static let kernel = KernelPath.kernels.pointee.small_gemm!
    static let enabled = KernelPath.active != .baseline

    @inline(__always)
    static func wins(m: Int, n: Int, k: Int) -> Bool {
        enabled && k * n <= 1 << 14 && n >= 16 && m >= 6
    }
}

/// The threads one process's kernels may use (1 per rank when ranks share the cores). OpenBLAS
/// itself always runs single-threaded: after a threaded call its workers spin in sched_yield and
/// fight the kernels' own threads for the cores, and on SRGAN's small products (K = 64) two
/// OpenBLAS threads were slower than one. Instead `parallelGemm` splits a large product into one
/// single-threaded sgemm per thread, and kernels split their own work (Winograd: the 36 products).
///
/// The count is set once, at start-up (`set`: the command line, from --threads or the cores;
/// without it OPENBLAS_NUM_THREADS or the cores), and does not change after. Code that measures
/// or tests another count runs it inside `withThreads`, which holds for that call only and on
/// that thread (a task-local value), so nothing else sees it.
public enum BLASThreads {
    private static let startup = StartupThreads()
    @TaskLocal private static var scoped: Int?

    /// The process's thread count, once, before the first kernel runs; a second call with
    /// another count is a programming error.
    public static func set(_ threads: Int) { startup.set(max(1, threads)) }

    /// The count for kernels called now: `withThreads`'s inside it, else the start-up count.
    public static var current: Int { scoped ?? startup.count }

    /// Runs `body` with `threads` threads for its kernels (benchmarks at several counts, tests
    /// that compare one thread with two).
    public static func withThreads<Result>(_ threads: Int, _ body: () throws -> Result) rethrows -> Result {
        try $scoped.withValue(max(1, threads), operation: body)
    }
}

/// The start-up count: OPENBLAS_NUM_THREADS (or the cores) until `set`, which may run once.
private final class StartupThreads: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int?
    private var wasSet = false

    var count: Int {
        lock.withLock {
            if let value { return value }
            let configured = max(1, Int(openblas_get_num_threads()))  // OPENBLAS_NUM_THREADS, or the cores
            openblas_set_num_threads(1)
            value = configured
            return configured
        }
    }

    func set(_ threads: Int) {
        lock.withLock {
            precondition(!wasSet || value == threads, "BLASThreads.set(\(threads)) after BLASThreads.set(\(value ?? 0)): the count is set once, at start-up")
            value = threads
            wasSet = true
        }
        openblas_set_num_threads(1)
    }
}

/// gemm split into one single-threaded product per thread along the longer side of C, when the
/// product is large enough to pay for waking a thread (same arguments and result as `gemm`). A
/// bf16 product's columns split on whole 32-column panels (its kernel's register width).
public func parallelGemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil, precision: ProductPrecision = .fp32
) {
    let threads = BLASThreads.current
    guard threads > 1, m * n * k >= 1 << 21, max(m, n) >= 2 * threads else {
        gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
             precision: precision)
        return
    }
    let lda = lda ?? (transA == .none ? k : m)
    let ldb = ldb ?? (transB == .none ? n : k)
    let ldc = ldc ?? n
    let splitRows = m >= n
    let unit = splitRows || precision == .fp32 ? 1 : 32
    let units = splitRows ? m : (n + unit - 1) / unit, length = splitRows ? m : n
    DispatchQueue.concurrentPerform(iterations: threads) { part in
        let start = min(length, units * part / threads * unit), end = min(length, units * (part + 1) / threads * unit)
        guard start < end else { return }
        if splitRows {
            // rows start..<end of C take rows start..<end of op(A)
            let aPart = transA == .none ? a + start * lda : a + start
            gemm(transA, transB, m: end - start, n: n, k: k, alpha: alpha, a: aPart, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c + start * ldc, ldc: ldc, precision: precision)
        } else {
            // columns start..<end of C take columns start..<end of op(B)
            let bPart = transB == .none ? b + start : b + start * ldb
            gemm(transA, transB, m: m, n: end - start, k: k, alpha: alpha, a: a, lda: lda, b: bPart, ldb: ldb,
                 beta: beta, c: c + start, ldc: ldc, precision: precision)
        }
    }
}

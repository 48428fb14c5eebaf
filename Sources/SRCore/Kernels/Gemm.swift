// The one place that calls BLAS. Row-major C = alpha * op(A) * op(B) + beta * C with
// op(A) (M,K), op(B) (K,N), C (M,N); leading dimensions follow from the transpose flags,
// as in Caffe's caffe_cpu_gemm.

import CBLAS
import Foundation

public enum Transpose: Sendable {
    case none, transposed
}

public func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
    _ = BLASThreads.current  // OpenBLAS set to one thread before its first call
    // Leading dimensions default to the packed ones; a caller may pass larger strides (views).
    let lda = lda ?? (transA == .none ? k : m)
    let ldb = ldb ?? (transB == .none ? n : k)
    cblas_sgemm(
        CblasRowMajor,
        transA == .none ? CblasNoTrans : CblasTrans,
        transB == .none ? CblasNoTrans : CblasTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc ?? n))
}

/// The threads one process's kernels may use (1 per rank when ranks share the cores). OpenBLAS
/// itself always runs single-threaded: after a threaded call its workers spin in sched_yield and
/// fight the kernels' own threads for the cores, and on SRGAN's small products (K = 64) two
/// OpenBLAS threads were slower than one. Instead `parallelGemm` splits a large product into one
/// single-threaded sgemm per thread, and kernels split their own work (Winograd: the 36 products).
public enum BLASThreads {
    nonisolated(unsafe) private static var count: Int = {
        let configured = Int(openblas_get_num_threads())  // OPENBLAS_NUM_THREADS, or the cores
        openblas_set_num_threads(1)
        return max(1, configured)
    }()

    public static func set(_ threads: Int) {
        count = max(1, threads)
        openblas_set_num_threads(1)
    }

    public static var current: Int { count }
}

/// gemm split into one single-threaded sgemm per thread along the longer side of C, when the
/// product is large enough to pay for waking a thread (same arguments and result as `gemm`).
public func parallelGemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
    let threads = BLASThreads.current
    guard threads > 1, m * n * k >= 1 << 21, max(m, n) >= 2 * threads else {
        gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    let lda = lda ?? (transA == .none ? k : m)
    let ldb = ldb ?? (transB == .none ? n : k)
    let ldc = ldc ?? n
    let splitRows = m >= n
    let length = splitRows ? m : n
    DispatchQueue.concurrentPerform(iterations: threads) { part in
        let start = length * part / threads, end = length * (part + 1) / threads
        guard start < end else { return }
        if splitRows {
            // rows start..<end of C take rows start..<end of op(A)
            let aPart = transA == .none ? a + start * lda : a + start
            gemm(transA, transB, m: end - start, n: n, k: k, alpha: alpha, a: aPart, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c + start * ldc, ldc: ldc)
        } else {
            // columns start..<end of C take columns start..<end of op(B)
            let bPart = transB == .none ? b + start : b + start * ldb
            gemm(transA, transB, m: m, n: end - start, k: k, alpha: alpha, a: a, lda: lda, b: bPart, ldb: ldb,
                 beta: beta, c: c + start, ldc: ldc)
        }
    }
}

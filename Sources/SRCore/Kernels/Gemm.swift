// The one place that calls BLAS. Row-major C = alpha * op(A) * op(B) + beta * C with
// op(A) (M,K), op(B) (K,N), C (M,N); leading dimensions follow from the transpose flags,
// as in Caffe's caffe_cpu_gemm.

import CBLAS

public enum Transpose: Sendable {
    case none, transposed
}

public func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
    // Leading dimensions default to the packed ones; a caller may pass larger strides (views).
    let lda = lda ?? (transA == .none ? k : m)
    let ldb = ldb ?? (transB == .none ? n : k)
    cblas_sgemm(
        CblasRowMajor,
        transA == .none ? CblasNoTrans : CblasTrans,
        transB == .none ? CblasNoTrans : CblasTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc ?? n))
}

/// Number of threads BLAS may use (OpenBLAS). Set to 1 per rank when ranks share cores.
public enum BLASThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(count)) }
    public static var current: Int { Int(openblas_get_num_threads()) }
}

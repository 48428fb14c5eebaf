// How fast this process multiplies large matrices: the yardstick the benchmarks divide by
// (`srgan-dist bench kernels`, `srgan-bench compare`'s "of sgemm" column).

import Dispatch

public enum SGEMMRate {
    /// GFLOP/s of one n x n x n sgemm through the project's gemm wrapper (parallelGemm: what the
    /// kernels get at the current BLAS thread count), the median of `repeats` after a warm-up.
    public static func measure(size n: Int, repeats: Int) -> Double {
        let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), c = Tensor(shape: [n, n])
        var rng = SeededRandom(seed: 1)
        rng.fillUniform(a, -1, 1)
        rng.fillUniform(b, -1, 1)
        let run = { withPointers(a, b, c) { a, b, c in parallelGemm(.none, .none, m: n, n: n, k: n, a: a, b: b, beta: 0, c: c) } }
        run()  // warm-up
        let times = (0..<max(repeats, 1)).map { _ -> Double in
            let start = DispatchTime.now().uptimeNanoseconds
            run()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }.sorted()
        return 2 * Double(n) * Double(n) * Double(n) / times[times.count / 2] / 1e6
    }
}

// The batch-norm and activation span kernels (Sources/CKernels/norm_body.h) of every ISA path
// this CPU runs, against the same formulas in double. Spans of every length around the vector
// widths (4, 8, 16 floats; two vectors per lane block) and the networks' planes.
//
// Error bounds, unit roundoff u = 2^-24, gamma_n = n u / (1 - n u):
// - a sum of n float terms, each term rounded once or twice, added in any order:
//   |fast - exact| <= gamma_(n+2) * sum |term|;
// - z = x * scale + shift, with or without a fused multiply-add, then one more product or sum:
//   gamma_3 to gamma_6 of the sum of the magnitudes of what was added.
// The activation's branch (z > 0) is exact only where z is not within rounding of 0, so the inputs
// keep |z| >= 1e-3; an element at z = 0 exactly is a separate case below.

import CKernels
import SRCore
import XCTest

private func gamma(_ n: Int) -> Double { Double(n) * 0x1p-24 / (1 - Double(n) * 0x1p-24) }

final class NormKernelPathTests: XCTestCase {
    private let lengths = [0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 144, 576, 1000, 2304]
    private let slopes: [Float] = [1, 0.25, 0.2, 0, -0.5]

    /// x uniform in [-3, 3], kept away from x * scale + shift = 0.
    private func inputs(_ n: Int, scale: Float, shift: Float, _ rng: inout SeededRandom) -> [Float] {
        let t = Tensor(shape: [max(n, 1)])
        rng.fillUniform(t, -3, 3)
        return Array(t.toArray().prefix(n)).map { x in
            let z = Double(x) * Double(scale) + Double(shift)
            return abs(z) < 1e-3 ? x + 0.01 * (scale < 0 ? -1 : 1) : x
        }
    }

    private func check(_ fast: Float, _ exact: Double, _ magnitude: Double, _ allowed: Double, _ what: @autoclosure () -> String,
                       file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let bound = allowed * magnitude + Double(Float.leastNormalMagnitude)
        if abs(Double(fast) - exact) > bound {
            XCTFail("\(what()): \(fast) vs \(exact), bound \(bound)", file: file, line: line)
            return false
        }
        return true
    }

    func testStatisticsSumsOnEveryPath() {
        var rng = SeededRandom(seed: 41)
        for path in runnablePaths() {
            let kernels = table(path)
            for n in lengths {
                let x = inputs(n, scale: 1, shift: 0.5, &rng)
                let center: Float = 0.37
                var s = 0.0, s2 = 0.0, magnitude = 0.0, deviation = 0.0
                for v in x.map(Double.init) {
                    s += v
                    s2 += v * v
                    magnitude += abs(v)
                    deviation += (v - Double(center)) * (v - Double(center))
                }
                let what = "\(path) span of \(n)"
                guard check(kernels.span_sum(x, n), s, magnitude, gamma(n + 2), "\(what) span_sum") else { return }
                // (x - center)^2: the difference and the square each rounded once
                let deviationMagnitude = x.reduce(0.0) { $0 + (abs(Double($1)) + Double(center)) * (abs(Double($1)) + Double(center)) }
                guard check(kernels.span_squared_deviation(x, n, center), deviation, deviationMagnitude, gamma(n + 3),
                            "\(what) span_squared_deviation") else { return }
                var pair: [Float] = [.nan, .nan]
                kernels.span_sum_and_squares(x, n, &pair)
                guard check(pair[0], s, magnitude, gamma(n + 2), "\(what) span_sum_and_squares sum"),
                      check(pair[1], s2, s2, gamma(n + 2), "\(what) span_sum_and_squares squares") else { return }
            }
        }
    }

    func testAffineActivationOnEveryPath() {
        var rng = SeededRandom(seed: 42)
        for path in runnablePaths() {
            let kernels = table(path)
            for n in lengths {
                for slope in slopes {
                    let (scale, shift): (Float, Float) = (1.7, -0.4)
                    let x = inputs(n, scale: scale, shift: shift, &rng)
                    var y = [Float](repeating: .nan, count: n)
                    kernels.affine_activate(x, n, scale, shift, slope, &y)
                    for i in 0..<n {
                        let z = Double(x[i]) * Double(scale) + Double(shift)
                        let exact = z > 0 ? z : Double(slope) * z
                        let magnitude = (abs(Double(x[i]) * Double(scale)) + abs(Double(shift))) * max(1, abs(Double(slope)))
                        guard check(y[i], exact, magnitude, gamma(3), "\(path) affine_activate n \(n) slope \(slope) at \(i)") else { return }
                    }
                    // in place, as spanLeaky may be called
                    var inPlace = x
                    inPlace.withUnsafeMutableBufferPointer { kernels.affine_activate($0.baseAddress, n, scale, shift, slope, $0.baseAddress) }
                    XCTAssertEqual(inPlace, y, "\(path) affine_activate in place differs from out of place (n \(n))")
                }
            }
            // z = 0 is not positive: slope * 0; a NaN stays a NaN on every path
            var y: [Float] = [1, 1, 1]
            kernels.affine_activate([0, .nan, -2], 3, 1, 0, 0.5, &y)
            XCTAssertEqual(y[0], 0, "\(path)")
            XCTAssertTrue(y[1].isNaN, "\(path) affine_activate turned a NaN into \(y[1])")
            XCTAssertEqual(y[2], -1, "\(path)")
        }
    }

    func testGradientSumsAndInputGradientOnEveryPath() {
        var rng = SeededRandom(seed: 43)
        for path in runnablePaths() {
            let kernels = table(path)
            for n in lengths {
                for slope in slopes {
                    let (mean, scale, shift): (Float, Float, Float) = (0.21, -0.9, 0.3)
                    let x = inputs(n, scale: scale, shift: shift, &rng)
                    let dyTensor = Tensor(shape: [max(n, 1)])
                    rng.fillUniform(dyTensor, -2, 2)
                    let dy = Array(dyTensor.toArray().prefix(n))
                    var exact = [0.0, 0.0, 0.0], magnitude = [0.0, 0.0, 0.0]
                    var g = [Double](repeating: 0, count: n)
                    for i in 0..<n {
                        let v = Double(x[i]), d = Double(dy[i])
                        let z = v * Double(scale) + Double(shift)
                        g[i] = z > 0 ? d : Double(slope) * d
                        exact[0] += g[i]
                        magnitude[0] += abs(g[i])
                        exact[1] += g[i] * (v - Double(mean))
                        magnitude[1] += abs(g[i]) * (abs(v) + abs(Double(mean)))
                        if z <= 0 {
                            exact[2] += d * z
                            magnitude[2] += abs(d) * (abs(v * Double(scale)) + abs(Double(shift)))
                        }
                    }
                    var sums: [Float] = [.nan, .nan, .nan]
                    kernels.norm_grad_sums(dy, x, n, mean, scale, shift, slope, &sums)
                    let what = "\(path) norm_grad_sums n \(n) slope \(slope)"
                    guard check(sums[0], exact[0], magnitude[0], gamma(n + 2), "\(what) sum g"),
                          check(sums[1], exact[1], magnitude[1], gamma(n + 3), "\(what) sum g (x - mean)"),
                          check(sums[2], exact[2], magnitude[2], gamma(n + 4), "\(what) sum dy z over z <= 0") else { return }

                    let (a, b, k): (Float, Float, Float) = (0.8, -0.05, 0.3)
                    var dx = [Float](repeating: .nan, count: n)
                    kernels.norm_input_grad(dy, x, n, mean, scale, shift, slope, a, b, k, &dx)
                    for i in 0..<n {
                        let centered = Double(x[i]) - Double(mean)
                        let value = Double(a) * g[i] + Double(b) + Double(k) * centered
                        let size = abs(Double(a) * g[i]) + abs(Double(b)) + abs(Double(k)) * (abs(Double(x[i])) + abs(Double(mean)))
                        guard check(dx[i], value, size, gamma(6), "\(path) norm_input_grad n \(n) slope \(slope) at \(i)") else { return }
                    }
                    // in place over dy, as the layers never do but the header allows
                    var inPlace = dy
                    inPlace.withUnsafeMutableBufferPointer {
                        kernels.norm_input_grad($0.baseAddress, x, n, mean, scale, shift, slope, a, b, k, $0.baseAddress)
                    }
                    XCTAssertEqual(inPlace, dx, "\(path) norm_input_grad in place differs (n \(n))")
                }
            }
        }
    }
}

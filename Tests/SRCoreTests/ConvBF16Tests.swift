// Convolutions with `precision: .bf16` (every direct path: im2col, output-side, shifted window,
// 1x1) against the exact convolution of the same fp32 values (computed in double), forward,
// input gradient and weight gradient, each element within a bound derived from bf16's 8-bit
// significand, fp32's unit roundoff u = 2^-24 and the sums' lengths (gamma_n = n u / (1 - n u)):
//
// Direct paths (a sum of K products of a weight and an input, or of an upstream gradient and an
// input, plus the bias or the old gradient): each factor is rounded once to bf16 (relative error at
// most 2^-8), the product of two bf16 values is exact in fp32, and however the K + 1 terms are
// added in fp32 (blocks of k, parts of the batch, taps, col2im) the sum's error is at most
// gamma_{K+1} times the sum of their magnitudes. With S = sum_k |a_k| |b_k| + |c|:
//   |y - y_exact| <= ((1 + 2^-8)^2 (1 + gamma_{K+1}) - 1) S.
//
// Winograd layers keep fp32 products under bf16 (WinogradConv.swift): their results are fp32's bits.
// VDPBF16PS's flush of denormal products adds at most 2^-126 per term (nothing at these sizes).

import SRCore
import XCTest

private let u = 0x1p-24
private func gamma(_ n: Int) -> Double { Double(n) * u / (1 - Double(n) * u) }
private let bf16Squared = (1 + 0x1p-8) * (1 + 0x1p-8)

/// A 4-d array (n, c, h, w) of doubles.
private struct Grid {
    let n: Int, c: Int, h: Int, w: Int
    var values: [Double]
    init(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ values: [Float]) {
        (self.n, self.c, self.h, self.w) = (n, c, h, w)
        self.values = values.map(Double.init)
        precondition(values.count == n * c * h * w)
    }
    /// Zero outside the plane (padding).
    func at(_ i: Int, _ j: Int, _ y: Int, _ x: Int) -> Double {
        y < 0 || x < 0 || y >= h || x >= w ? 0 : values[((i * c + j) * h + y) * w + x]
    }
}

/// The exact direct convolution (forward, input and weight gradient) and each element's S.
private struct ExactConvolution {
    var y: [Double] = [], ySum: [Double] = []
    var dx: [Double] = [], dxSum: [Double] = []
    var dw: [Double] = [], dwSum: [Double] = []

    init(input x: Grid, weight: Grid, bias: [Double], upstream dy: Grid, stride s: Int, padding p: Int) {
        let (n, c, oc, k) = (x.n, x.c, weight.n, weight.h)
        let (oh, ow) = (dy.h, dy.w)
        y = Array(repeating: 0, count: n * oc * oh * ow); ySum = y
        dx = Array(repeating: 0, count: n * c * x.h * x.w); dxSum = dx
        dw = Array(repeating: 0, count: oc * c * k * k); dwSum = dw
        for i in 0..<n {
            for o in 0..<oc {
                for py in 0..<oh {
                    for px in 0..<ow {
                        let out = ((i * oc + o) * oh + py) * ow + px
                        y[out] = bias[o]; ySum[out] = abs(bias[o])
                        let g = dy.values[out]
                        for j in 0..<c {
                            for a in 0..<k {
                                for b in 0..<k {
                                    let (iy, ix) = (py * s + a - p, px * s + b - p)
                                    guard iy >= 0, ix >= 0, iy < x.h, ix < x.w else { continue }
                                    let wv = weight.values[((o * c + j) * k + a) * k + b], xv = x.at(i, j, iy, ix)
                                    y[out] += wv * xv; ySum[out] += abs(wv * xv)
                                    let inIndex = ((i * c + j) * x.h + iy) * x.w + ix
                                    dx[inIndex] += wv * g; dxSum[inIndex] += abs(wv * g)
                                    let wIndex = ((o * c + j) * k + a) * k + b
                                    dw[wIndex] += g * xv; dwSum[wIndex] += abs(g * xv)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

final class ConvBF16Tests: XCTestCase {
    private func requireKernel() throws {
        if let refusal = BF16Products.refusal {
            throw XCTSkip("ConvBF16Tests: the bf16 kernel does not run in this process (\(refusal)); not covered here")
        }
    }

    /// Worst error / bound over `got` against `exact` with `bound` per element; whether any element
    /// is further from the exact value than fp32 alone (gamma_terms of the magnitude) could be.
    private func check(_ what: String, _ got: [Float], _ exact: [Double], _ bound: [Double], fp32Only: [Double]) -> Bool {
        XCTAssertEqual(got.count, exact.count, what)
        var worst = 0.0, visible = false, largest = 0.0, worstError = 0.0
        for i in got.indices {
            let error = abs(Double(got[i]) - exact[i])
            worst = max(worst, error / max(bound[i], 0x1p-126))
            worstError = max(worstError, error)
            largest = max(largest, abs(exact[i]))
            if error > fp32Only[i] { visible = true }
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(what): worst error / bound")
        print("ConvBF16Tests \(what): worst error / bound \(String(format: "%.3f", worst)), worst error \(String(format: "%.2e", worstError)) of largest \(String(format: "%.2e", largest))")
        return visible
    }

    /// (batch, in, out, kernel, stride, padding, height, width)
    private static let cases: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (2, 3, 5, 3, 2, 1, 7, 6),      // stride 2 (the discriminator's): im2col
        (2, 64, 8, 3, 2, 1, 9, 8),     // stride 2 over 64 channels: k = 576, one cache block
        (2, 8, 6, 3, 1, 1, 7, 9),      // 3x3 same over im2col (Winograd off)
        (2, 2, 3, 9, 1, 4, 10, 11),    // 9x9 head: im2col
        (3, 5, 2, 1, 1, 0, 4, 3),      // 1x1: no im2col
        (2, 16, 3, 9, 1, 4, 7, 10),    // 9x9 16 -> 3: output-side
        (1, 17, 5, 5, 1, 2, 6, 5),     // 5x5 17 -> 5: shifted window
        (2, 16, 16, 9, 1, 4, 6, 7),    // 9x9 16 -> 16: shifted window
        (1, 512, 8, 3, 1, 1, 4, 5),    // 3x3 same over 512 channels: direct in bf16 with Winograd left on
    ]

    func testEveryPathWithinItsBF16Bound() throws {
        try requireKernel()
        // One thread: the batch stays whole, so small maps take several images per product.
        for (index, g) in Self.cases.enumerated() {
            for threads in [1, 2] {
                try BLASThreads.withThreads(threads) {
                    var rng = SeededRandom(seed: 40 + UInt64(index))
                    let store = ParameterStore()
                    let conv = Conv2d(store, "conv", inChannels: g.1, outChannels: g.2, kernelSize: g.3, stride: g.4, padding: g.5, rng: &rng)
                    // Winograd off, except over 512 channels, which leave it under bf16 by themselves
                    conv.options = ConvOptions(winograd: g.1 >= 512, precision: .bf16)
                    let (input, y, upstream, dx) = forwardAndBackward(conv, inputShape: [g.0, g.1, g.6, g.7], &rng)
                    let x = Grid(g.0, g.1, g.6, g.7, input.toArray())
                    let w = Grid(g.2, g.1, g.3, g.3, store.value(conv.weight).toArray())
                    let dyGrid = Grid(y.n, y.c, y.h, y.w, upstream.toArray())
                    let bias = store.value(conv.bias!).toArray().map(Double.init)
                    let exact = ExactConvolution(input: x, weight: w, bias: bias, upstream: dyGrid, stride: g.4, padding: g.5)
                    let what = "\(g.3)x\(g.3) \(g.1)->\(g.2) stride \(g.4) \(g.6)x\(g.7), \(threads) thread(s)"
                    let dW = grad(conv.weight, of: store)
                    var visible = false
                    let k = g.1 * g.3 * g.3, planes = g.0 * y.h * y.w
                    func direct(_ terms: Int) -> (Double) -> Double { { (bf16Squared * (1 + gamma(terms + 1)) - 1) * $0 + 0x1p-120 } }
                    visible = check("\(what) forward", y.toArray(), exact.y, exact.ySum.map(direct(k)), fp32Only: exact.ySum.map { gamma(k + 1) * $0 }) || visible
                    visible = check("\(what) input gradient", dx.toArray(), exact.dx, exact.dxSum.map(direct(g.2 * g.3 * g.3)),
                                    fp32Only: exact.dxSum.map { gamma(g.2 * g.3 * g.3) * $0 }) || visible
                    visible = check("\(what) weight gradient", dW, exact.dw, exact.dwSum.map(direct(planes)),
                                    fp32Only: exact.dwSum.map { gamma(planes) * $0 }) || visible
                    XCTAssertTrue(visible, "\(what): no value differs from the exact one by more than fp32 could: the products did not run in bf16")
                }
            }
        }
    }

    /// Winograd layers (3x3 same over 8 or more channels) give fp32's bits under bf16, both ways.
    func testWinogradLayersKeepFP32Products() throws {
        try requireKernel()
        func run(_ precision: ProductPrecision) -> [[Float]] {
            var rng = SeededRandom(seed: 9)
            let store = ParameterStore()
            let conv = Conv2d(store, "conv", inChannels: 16, outChannels: 12, kernelSize: 3, rng: &rng)
            conv.options.precision = precision
            let run = forwardAndBackward(conv, inputShape: [2, 16, 8, 8], &rng)
            return [run.output.toArray(), run.inputGrad.toArray(), grad(conv.weight, of: store)]
        }
        XCTAssertEqual(run(.bf16), run(.fp32))
    }

    /// A network set to bf16 computes every product in it in bf16 and back in fp32 gives fp32's bits.
    func testSettingThePrecisionReachesEveryLayerAndGoesBack() throws {
        try requireKernel()
        var rng = SeededRandom(seed: 5)
        let store = ParameterStore()
        let inner = Conv2d(store, "inner", inChannels: 4, outChannels: 4, kernelSize: 3, rng: &rng)
        let net = Sequential([Conv2d(store, "a", inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, rng: &rng),
                              Residual(Sequential([inner])), Flatten(),
                              Linear(store, "fc", inFeatures: 4 * 4 * 4, outFeatures: 2, rng: &rng)])
        let input = Tensor(shape: [2, 3, 8, 8])
        rng.fillUniform(input, -1, 1)
        let fp32 = net.forward(input, mode: .inference).toArray()
        try net.setProductPrecision(.bf16)
        var seen = 0
        net.forEachLayer { layer in
            if let conv = layer as? Conv2d { XCTAssertEqual(conv.options.precision, .bf16); seen += 1 }
            if let linear = layer as? Linear { XCTAssertEqual(linear.precision, .bf16); seen += 1 }
        }
        XCTAssertEqual(seen, 3, "two convolutions and the dense layer")
        XCTAssertNotEqual(net.forward(input, mode: .inference).toArray(), fp32, "bf16 products give other numbers")
        try net.setProductPrecision(.fp32)
        XCTAssertEqual(net.forward(input, mode: .inference).toArray(), fp32, "back in fp32: fp32's bits")
    }
}

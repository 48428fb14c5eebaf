// The narrow direct 3x3 convolution (at most 4 output channels, CKernels narrow_body.h) on every
// ISA path this CPU runs, against the plain-loop reference. Each output is a sum of n = 9 C (or
// 9 OC, or H W) products of floats, added in another order than the reference's: the error bound
// is gamma_(n+1) times the same sum over absolute values (the reference run on |x|, |w|, |dy|),
// plus the smallest normal.

import SRCore
import XCTest

private let unitRoundoff = 0x1p-24
private func gamma(_ n: Int) -> Double { Double(n) * unitRoundoff / (1 - Double(n) * unitRoundoff) }

final class NarrowConvTests: XCTestCase {
    private func random(_ count: Int, _ rng: inout SeededRandom) -> [Float] {
        let t = Tensor(shape: [count])
        rng.fillUniform(t, -2, 2)
        return t.toArray()
    }

    private func assertWithin(_ fast: [Float], _ reference: [Float], _ magnitude: [Float], terms: Int, _ what: String) {
        XCTAssertEqual(fast.count, reference.count, what)
        for i in fast.indices {
            let allowed = gamma(terms + 1) * Double(magnitude[i]) + Double(Float.leastNormalMagnitude)
            if abs(Double(fast[i]) - Double(reference[i])) > allowed {
                return XCTFail("\(what) at \(i): \(fast[i]) vs \(reference[i]), bound \(allowed)")
            }
        }
    }

    func testEveryPathMatchesTheReference() {
        var rng = SeededRandom(seed: 31)
        // (batch, C, OC, H, W): each output-channel count, widths with and without vector tails
        let shapes = [(2, 8, 1, 5, 7), (1, 13, 2, 4, 17), (2, 32, 3, 9, 16), (1, 9, 4, 6, 33), (1, 32, 3, 3, 64)]
        for path in runnablePaths() {
            for (batch, c, oc, h, w) in shapes {
                let g = ConvGeometry(batch: batch, inChannels: c, inHeight: h, inWidth: w, outChannels: oc,
                                     kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
                XCTAssertTrue(usesNarrowDirect(g, ConvOptions()))
                let x = random(batch * c * h * w, &rng), weight = random(oc * c * 9, &rng), bias = random(oc, &rng)
                let dy = random(batch * oc * h * w, &rng), dw0 = random(oc * c * 9, &rng)
                let (absX, absW, absDy, absBias) = (x.map(abs), weight.map(abs), dy.map(abs), bias.map(abs))
                let what = "\(path) \(batch)x\(c)->\(oc) \(h)x\(w)"

                var y = [Float](repeating: .nan, count: dy.count), yRef = y, yMag = y
                narrowConvForward(output: &y, input: x, weight: weight, bias: bias, g, path: path)
                convForwardReference(output: &yRef, input: x, weight: weight, bias: bias, g)
                convForwardReference(output: &yMag, input: absX, weight: absW, bias: absBias, g)
                assertWithin(y, yRef, yMag, terms: 9 * c, "forward " + what)

                // the weight gradient is added to what is there (dw0); the input gradient overwritten
                var dx = [Float](repeating: .nan, count: x.count), dxRef = dx, dxMag = dx
                var dW = dw0, dWRef = dw0, dWMag = dw0.map(abs)
                var db = [Float](repeating: 0, count: oc), dbRef = db, dbMag = db
                narrowConvBackward(inputGrad: &dx, weightGrad: &dW, biasGrad: &db, outputGrad: dy, input: x, weight: weight, g,
                                   path: path)
                convBackwardReference(inputGrad: &dxRef, weightGrad: &dWRef, biasGrad: &dbRef, outputGrad: dy, input: x,
                                      weight: weight, g)
                convBackwardReference(inputGrad: &dxMag, weightGrad: &dWMag, biasGrad: &dbMag, outputGrad: absDy, input: absX,
                                      weight: absW, g)
                assertWithin(dx, dxRef, dxMag, terms: 9 * oc, "input gradient " + what)
                assertWithin(dW, dWRef, dWMag, terms: batch * h * w + 1, "weight gradient " + what)
                assertWithin(db, dbRef, dbMag, terms: batch * h * w, "bias gradient " + what)
            }
        }
    }

    /// Rows split over two threads give the same bits as one thread (each row's sums are the same).
    func testSplitRowsComputeWhatOneThreadComputes() {
        var rng = SeededRandom(seed: 32)
        let g = ConvGeometry(batch: 1, inChannels: 32, inHeight: 64, inWidth: 64, outChannels: 3,
                             kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        let x = random(32 * 64 * 64, &rng), weight = random(3 * 32 * 9, &rng), dy = random(3 * 64 * 64, &rng)
        func run(threads: Int) -> [[Float]] {
            BLASThreads.withThreads(threads) {
                var y = [Float](repeating: 0, count: dy.count), dx = [Float](repeating: 0, count: x.count)
                narrowConvForward(output: &y, input: x, weight: weight, bias: nil, g)
                narrowConvBackward(inputGrad: &dx, weightGrad: nil, biasGrad: nil, outputGrad: dy, input: x, weight: weight, g)
                return [y, dx]
            }
        }
        XCTAssertEqual(run(threads: 1), run(threads: 2))
    }
}

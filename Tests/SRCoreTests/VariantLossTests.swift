// The loss variants' gradients by central differences: the relativistic average GAN loss (both
// sides, through the batch means), total variation, and the channel concatenation of the
// conditional discriminator.

import SRCore
import XCTest

/// Central differences of `loss` at every entry of `tensors` against the `analytic` gradients.
private func checkDifferences(_ tensors: [Tensor], _ analytic: [[Float]], eps: Float = 1e-2, tolerance: Float = 1e-3,
                              loss: () -> Double, file: StaticString = #filePath, line: UInt = #line) {
    var largest: Float = 0
    for (t, grads) in zip(tensors, analytic) {
        for i in 0..<t.count {
            let saved = t[i]
            t[i] = saved + eps
            let plus = loss()
            t[i] = saved - eps
            let minus = loss()
            t[i] = saved
            let numeric = Float((plus - minus) / (2 * Double(eps)))
            largest = max(largest, abs(numeric))
            XCTAssertEqual(grads[i], numeric, accuracy: tolerance * (1 + abs(numeric)), "[\(i)]", file: file, line: line)
        }
    }
    XCTAssertGreaterThan(largest, 1e-3, "all numeric gradients are ~0", file: file, line: line)
}

final class VariantLossTests: XCTestCase {
    private func logits(_ count: Int, _ rng: inout SeededRandom, shift: Float) -> Tensor {
        let t = Tensor(shape: [count, 1])
        rng.fillUniform(t, -2 + shift, 2 + shift)
        return t
    }

    /// Both sides of RaGAN, w.r.t. every real and fake logit of two micro-batches: the analytic
    /// gradient includes the terms through mean C(real) and mean C(fake).
    func testRelativisticGradientsMatchCentralDifferences() {
        var rng = SeededRandom(seed: 3)
        let real = [logits(3, &rng, shift: 1), logits(2, &rng, shift: 1)]
        let fake = [logits(3, &rng, shift: -1), logits(2, &rng, shift: -1)]
        for side in [RelativisticLoss.Side.discriminator, .generator] {
            let realGrads = real.map { Tensor(shape: $0.shape) }, fakeGrads = fake.map { Tensor(shape: $0.shape) }
            _ = RelativisticLoss.loss(side, real: real, fake: fake, realGrads: realGrads, fakeGrads: fakeGrads, reduce: { _ in })
            let loss = { RelativisticLoss.loss(side, real: real, fake: fake, realGrads: nil, fakeGrads: nil, reduce: { _ in }).loss }
            checkDifferences(real + fake, (realGrads + fakeGrads).map { $0.toArray() }, loss: loss)
        }
    }

    /// A detached mean would drop -mean(e_b)/B from every real logit's gradient: the check above
    /// must see it. Here: the through-the-means term is not small for these logits.
    func testTheTermThroughTheMeansMatters() {
        var rng = SeededRandom(seed: 4)
        let real = [logits(4, &rng, shift: 1)], fake = [logits(4, &rng, shift: -1)]
        let realGrads = [Tensor(shape: [4, 1])]
        _ = RelativisticLoss.loss(.discriminator, real: real, fake: fake, realGrads: realGrads, fakeGrads: nil, reduce: { _ in })
        let meanFake = (0..<4).map { Double(fake[0][$0]) }.reduce(0, +) / 4
        for i in 0..<4 {
            let a = Double(real[0][i]) - meanFake
            let detached = (1 / (1 + exp(-a)) - 1) / 4
            XCTAssertGreaterThan(abs(Double(realGrads[0][i]) - detached), 1e-3)
        }
    }

    func testGradScaleAndLocalNormalisation() {
        var rng = SeededRandom(seed: 5)
        let real = [logits(4, &rng, shift: 0)], fake = [logits(4, &rng, shift: 0)]
        let one = [Tensor(shape: [4, 1])], scaled = [Tensor(shape: [4, 1])]
        _ = RelativisticLoss.loss(.generator, real: real, fake: fake, realGrads: nil, fakeGrads: one, reduce: { _ in })
        _ = RelativisticLoss.loss(.generator, real: real, fake: fake, realGrads: nil, fakeGrads: scaled, gradScale: 0.25, reduce: { _ in })
        for i in 0..<4 { XCTAssertEqual(scaled[0][i], 0.25 * one[0][i], accuracy: 1e-7) }
    }

    func testTotalVariationGradientMatchesCentralDifferences() {
        var rng = SeededRandom(seed: 6)
        let image = Tensor(shape: [2, 2, 4, 5])
        rng.fillUniform(image, -1, 1)
        let grad = Tensor(shape: image.shape)
        grad.fill(0.5)   // the gradient is added: start from something that is not zero
        _ = Loss.totalVariation(image: image, grad: grad, gradScale: 3)
        let analytic = grad.toArray().map { ($0 - 0.5) / 3 }
        checkDifferences([image], [analytic]) { Double(Loss.totalVariation(image: image, grad: nil)) }
    }

    func testTotalVariationOfAConstantIsZeroAndOfARampIsCounted() {
        let image = Tensor(shape: [1, 1, 3, 4])
        image.fill(0.3)
        XCTAssertEqual(Loss.totalVariation(image: image, grad: nil), 0)
        for y in 0..<3 { for x in 0..<4 { image[y * 4 + x] = Float(x) } }   // horizontal steps of 1, none vertical
        XCTAssertEqual(Loss.totalVariation(image: image, grad: nil), 3 * 3)
    }

    /// The split is the adjoint of the concatenation: <concat(a, b), g> = <a, g_a> + <b, g_b>.
    func testConcatenationAndSplitAreAdjoint() {
        var rng = SeededRandom(seed: 8)
        let a = Tensor(shape: [2, 3, 2, 3]), b = Tensor(shape: [2, 1, 2, 3]), g = Tensor(shape: [2, 4, 2, 3])
        for t in [a, b, g] { rng.fillUniform(t, -1, 1) }
        let joined = concatenateChannels(a, b)
        let (ga, gb) = splitChannels(g, first: 3)
        func dot(_ x: Tensor, _ y: Tensor) -> Double { (0..<x.count).reduce(0) { $0 + Double(x[$1]) * Double(y[$1]) } }
        XCTAssertEqual(dot(joined, g), dot(a, ga) + dot(b, gb), accuracy: 1e-5)
        XCTAssertEqual(joined[3 * 6 + 2], b[2])            // image 0: b after a's 3 planes
        XCTAssertEqual(joined[4 * 6 + 6 + 1], a[18 + 6 + 1]) // image 1 starts with a's planes
        let (back, tail) = splitChannels(joined, first: 3)
        XCTAssertEqual(back.toArray(), a.toArray())
        XCTAssertEqual(tail.toArray(), b.toArray())
    }
}

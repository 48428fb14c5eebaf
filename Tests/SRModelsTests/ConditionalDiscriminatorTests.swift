// The conditional discriminator against PyTorch (Fixtures/make_conditional_fixtures.py, the
// reference in reference_models.py) for x2, x4 and x8, where the LR image joins, that its names
// are the plain discriminator's, and its LR gradient by central differences.

import SRCore
import SRModels
import XCTest

final class ConditionalDiscriminatorTests: XCTestCase {
    private func config(scale: Int, patch: Int = 32, base: Int = 8, hidden: Int = 16) -> DiscriminatorConfig {
        DiscriminatorConfig(patchSize: patch, baseChannels: base, hidden: hidden, conditional: true, lrChannels: 3, scale: scale)
    }

    func testMatchesPyTorchAtEachScale() throws {
        for scale in [2, 4, 8] {
            let name = "discriminator_cond_x\(scale)"
            let d = Discriminator(config(scale: scale), seed: 1)
            let state = try SafetensorsFile(path: fixturePath("\(name).safetensors"))
            XCTAssertEqual(Set(state.entries.map(\.name)), Set(d.stateDictNames), name)
            try d.load(from: state, strict: true)
            let io = try SafetensorsFile(path: fixturePath("\(name)_io.safetensors"))
            d.parameters.zeroGrads()
            let logits = d.forward(try io.tensor("input"), condition: try io.tensor("condition"), mode: .training)
            assertRelativeClose(logits.toArray(), try io.floats("output"), 1e-4, "\(name) logits")
            let imageGrad = d.backward(try io.tensor("upstream"), needInputGrad: true)!
            assertRelativeClose(imageGrad.toArray(), try io.floats("input_grad"), 1e-4, "\(name) image gradient")
            assertRelativeClose(d.conditionGrad!.toArray(), try io.floats("condition_grad"), 1e-4, "\(name) LR gradient")
            for slot in d.parameters.layout {
                assertRelativeClose(d.parameters.grad(slot).toArray(), try io.floats("grad.\(slot.name)"), 1e-4, "\(name) \(slot.name)")
            }
        }
    }

    /// The LR joins after block 2 log2(scale) - 2, which is lr_channels narrower; names do not change.
    /// Walking the layers (as setting the products' precision does) reaches both halves: every
    /// convolution and dense layer, as many as the plain discriminator has.
    func testEveryLayerIsReachedThroughBothHalves() {
        func count(_ d: Discriminator) -> Int {
            var found = 0
            d.forEachLayer { if $0 is Conv2d || $0 is Linear { found += 1 } }
            return found
        }
        let plain = Discriminator(DiscriminatorConfig(patchSize: 32, baseChannels: 8, hidden: 16), seed: 1)
        XCTAssertEqual(count(Discriminator(config(scale: 4), seed: 1)), count(plain))
        XCTAssertEqual(count(plain), 10, "8 convolutions and 2 dense layers")
    }

    func testWhereTheLRJoinsAndNaming() {
        XCTAssertEqual([2, 4, 8, 16].map { config(scale: $0).conditionBlock }, [0, 2, 4, 6])
        XCTAssertNil(DiscriminatorConfig().conditionBlock)
        let plain = Discriminator(DiscriminatorConfig(baseChannels: 16, hidden: 8), seed: 1)
        let joined = Discriminator(DiscriminatorConfig(baseChannels: 16, hidden: 8, conditional: true, lrChannels: 1, scale: 4), seed: 1)
        XCTAssertEqual(plain.stateDictNames, joined.stateDictNames)
        // Block k's convolution is features.(2 + 3k): block 2's (32 outputs) gives 31, and the LR's channel makes 32 again.
        let shape = { (d: Discriminator, name: String) in d.parameters.layout.first { $0.name == name }!.shape }
        XCTAssertEqual(shape(plain, "features.8.weight"), [32, 32, 3, 3])
        XCTAssertEqual(shape(joined, "features.8.weight"), [31, 32, 3, 3])
        XCTAssertEqual(shape(joined, "features.9.weight"), [31])
        XCTAssertEqual(shape(joined, "features.11.weight"), shape(plain, "features.11.weight"))
        XCTAssertNotNil(DiscriminatorConfig(conditional: true, scale: 32).problem)
        XCTAssertNotNil(DiscriminatorConfig(baseChannels: 2, conditional: true, lrChannels: 3, scale: 2).problem)
    }

    /// dLogits/dLR through the concatenation, by central differences (training-mode BN included).
    func testConditionGradientMatchesCentralDifferences() {
        let d = Discriminator(config(scale: 4, patch: 16, base: 4, hidden: 8), seed: 3)
        var rng = SeededRandom(seed: 9)
        let image = Tensor(shape: [2, 3, 16, 16]), lr = Tensor(shape: [2, 3, 4, 4]), upstream = Tensor(shape: [2, 1])
        for t in [image, lr, upstream] { rng.fillUniform(t, -1, 1) }
        func loss() -> Double {
            let y = d.forward(image, condition: lr, mode: .training)
            return (0..<y.count).reduce(0) { $0 + Double(y[$1]) * Double(upstream[$1]) }
        }
        _ = d.forward(image, condition: lr, mode: .training)
        _ = d.backward(upstream, needInputGrad: false)
        let analytic = d.conditionGrad!.toArray()
        var largest: Float = 0, failures = 0
        let eps: Float = 2e-3
        for i in 0..<lr.count {
            let saved = lr[i]
            lr[i] = saved + eps
            let plus = loss()
            lr[i] = saved - eps
            let minus = loss()
            lr[i] = saved
            let numeric = Float((plus - minus) / (2 * Double(eps)))
            largest = max(largest, abs(numeric))
            if abs(analytic[i] - numeric) > 2e-3 * (1 + abs(numeric)) {   // a LeakyReLU kink may be crossed
                failures += 1
                print("LR gradient [\(i)]: analytic \(analytic[i]) vs numeric \(numeric)")
            }
        }
        XCTAssertLessThanOrEqual(failures, 2, "\(failures) of \(lr.count) LR gradients off")
        XCTAssertGreaterThan(largest, 1e-3)
    }
}

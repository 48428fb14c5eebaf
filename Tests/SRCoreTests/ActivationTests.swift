import SRCore
import XCTest

/// Inputs in [-1,-0.05] U [0.05,1]: central differences with eps << 0.05 never cross the kink at 0.
private func awayFromZero(_ rng: inout SeededRandom, _ tensor: Tensor) {
    for i in 0..<tensor.count {
        let magnitude = rng.uniform(0.05, 1)
        tensor[i] = rng.next() & 1 == 0 ? magnitude : -magnitude
    }
}

final class ActivationTests: XCTestCase {
    func testPReLUGradients() {
        let store = ParameterStore()
        let prelu = PReLU(store, "act", channels: 3)
        var rng = SeededRandom(seed: 2)
        rng.fillUniform(store.value(prelu.slope), -0.5, 0.5)
        checkGradients(prelu, store: store, inputShape: [2, 3, 4, 3], makeInput: awayFromZero)
    }

    func testLeakyReLUAndReLUGradients() {
        checkGradients(LeakyReLU(negativeSlope: 0.2), inputShape: [2, 3, 5, 4], makeInput: awayFromZero)
        checkGradients(ReLU(), inputShape: [3, 2, 4, 4], makeInput: awayFromZero)
    }

    func testSigmoidGradientsAndSaturation() {
        checkGradients(Sigmoid(), inputShape: [2, 3, 4, 5], makeInput: { rng, t in rng.fillUniform(t, -4, 4) })
        let y = Sigmoid().forward(Tensor(shape: [4], values: [-200, -30, 30, 200]), mode: .inference)
        XCTAssertTrue(y.toArray().allSatisfy { $0.isFinite })
        XCTAssertEqual(y[0], 0, accuracy: 1e-30)
        XCTAssertEqual(y[3], 1)
    }

    func testPReLUMatchesPyTorch() throws {
        let fixture = try Fixture("small_ops")
        let store = ParameterStore()
        let prelu = PReLU(store, "act", channels: 3)
        load(fixture.values("prelu_weight"), into: prelu.slope, of: store)
        let y = prelu.forward(fixture.tensor("prelu_x"))
        assertClose(y.toArray(), fixture.values("prelu_y"), "y")
        let dx = prelu.backward(fixture.tensor("prelu_upstream"))
        assertClose(dx.toArray(), fixture.values("prelu_input_grad"), "dx")
        assertClose(grad(prelu.slope, of: store), fixture.values("prelu_weight_grad"), "dslope")
    }
}

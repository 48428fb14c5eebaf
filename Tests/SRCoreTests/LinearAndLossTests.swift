import SRCore
import XCTest

final class LinearTests: XCTestCase {
    func testGradients() {
        let store = ParameterStore()
        var rng = SeededRandom(seed: 9)
        let linear = Linear(store, "fc", inFeatures: 7, outFeatures: 5, rng: &rng)
        checkGradients(linear, store: store, inputShape: [3, 7])
    }

    /// The dense products split over two threads (parallelGemm) give what one thread gives.
    func testTwoThreadsComputeWhatOneThreadComputes() {
        func run(threads: Int) -> [[Float]] { BLASThreads.withThreads(threads) {
            let store = ParameterStore()
            var rng = SeededRandom(seed: 19)
            let linear = Linear(store, "fc", inFeatures: 700, outFeatures: 300, rng: &rng)
            let x = Tensor(shape: [24, 700])
            rng.fillUniform(x, -1, 1)
            let y = linear.forward(x)
            let upstream = Tensor(shape: y.shape)
            rng.fillUniform(upstream, -1, 1)
            let dx = linear.backward(upstream)
            return [y.toArray(), dx.toArray(), grad(linear.weight, of: store)]
        } }
        let one = run(threads: 1), two = run(threads: 2)
        for index in 0..<3 { assertClose(two[index], one[index], absolute: 1e-6, relative: 1e-6, "output \(index)") }
    }

    func testMatchesPyTorch() throws {
        let fixture = try Fixture("small_ops")
        let store = ParameterStore()
        var rng = SeededRandom(seed: 0)
        let linear = Linear(store, "fc", inFeatures: 6, outFeatures: 4, rng: &rng)
        load(fixture.values("linear_weight"), into: linear.weight, of: store)
        load(fixture.values("linear_bias"), into: linear.bias!, of: store)
        assertClose(linear.forward(fixture.tensor("linear_x")).toArray(), fixture.values("linear_y"), "y")
        assertClose(linear.backward(fixture.tensor("linear_upstream")).toArray(), fixture.values("linear_input_grad"), "dx")
        assertClose(grad(linear.weight, of: store), fixture.values("linear_weight_grad"), "dW")
        assertClose(grad(linear.bias!, of: store), fixture.values("linear_bias_grad"), "db")
    }

    func testSequentialChainsConvBatchNormActivationAndDense() {
        // A small discriminator-shaped stack checked end to end by finite differences.
        let parameters = ParameterStore(), buffers = ParameterStore()
        var rng = SeededRandom(seed: 4)
        let stack = Sequential([
            Conv2d(parameters, "0", inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, bias: false, rng: &rng),  // BN cancels a bias
            BatchNorm2d(parameters, buffers: buffers, "1", channels: 3),
            Sigmoid(),
            PixelShuffle(factor: 1),
            Flatten(),
            Linear(parameters, "4", inFeatures: 3 * 3 * 3, outFeatures: 2, rng: &rng),
        ])
        checkGradients(stack, store: parameters, inputShape: [3, 2, 6, 5], eps: 2e-3, tolerance: 3e-3)
    }
}

final class LossTests: XCTestCase {
    private func numericGradient(_ f: (Tensor) -> Float, at x: Tensor, eps: Float = 1e-3) -> [Float] {
        (0..<x.count).map { i in
            let saved = x[i]
            x[i] = saved + eps
            let plus = f(x)
            x[i] = saved - eps
            let minus = f(x)
            x[i] = saved
            return (plus - minus) / (2 * eps)
        }
    }

    func testMatchPyTorchValuesAndGradients() throws {
        let fixture = try Fixture("small_ops")
        let prediction = fixture.tensor("loss_prediction"), target = fixture.tensor("loss_target")
        let grad = Tensor(shape: prediction.shape)
        let mse = Loss.mse(prediction: prediction, target: target, grad: grad)
        XCTAssertEqual(mse, Float(fixture.child("mse").double("value")), accuracy: 1e-6)
        assertClose(grad.toArray(), fixture.child("mse").values("grad"), absolute: 1e-7, relative: 1e-5, "mse grad")
        let l1 = Loss.l1(prediction: prediction, target: target, grad: grad)
        XCTAssertEqual(l1, Float(fixture.child("l1").double("value")), accuracy: 1e-6)
        assertClose(grad.toArray(), fixture.child("l1").values("grad"), absolute: 1e-7, relative: 1e-5, "l1 grad")
        let logits = fixture.tensor("bce_logits")
        let bceGrad = Tensor(shape: logits.shape)
        let bce = Loss.bceWithLogits(logits: logits, targets: fixture.tensor("bce_labels"), grad: bceGrad)
        XCTAssertTrue(bce.isFinite, "BCE must stay finite for logits of +-150")
        XCTAssertEqual(bce, Float(fixture.double("bce_value")), accuracy: 1e-4)
        assertClose(bceGrad.toArray(), fixture.values("bce_grad"), absolute: 1e-7, relative: 1e-5, "bce grad")
    }

    func testGradientsByFiniteDifferences() {
        var rng = SeededRandom(seed: 8)
        let prediction = Tensor(shape: [2, 3, 4]), target = Tensor(shape: [2, 3, 4])
        rng.fillUniform(prediction, -1, 1)
        rng.fillUniform(target, -1, 1)
        let grad = Tensor(shape: prediction.shape)
        for (name, loss) in [
            ("mse", { (p: Tensor, g: Tensor?) in Loss.mse(prediction: p, target: target, grad: g, gradScale: 3) }),
            ("bce", { (p: Tensor, g: Tensor?) in Loss.bceWithLogits(logits: p, target: 1, grad: g, gradScale: 3) }),
            ("l1", { (p: Tensor, g: Tensor?) in Loss.l1(prediction: p, target: target, grad: g, gradScale: 3) }),
        ] {
            _ = loss(prediction, grad)
            let numeric = numericGradient({ 3 * loss($0, nil) }, at: prediction)
            assertClose(grad.toArray(), numeric, absolute: 2e-3, relative: 1e-2, name)
        }
    }
}

final class ParameterStoreTests: XCTestCase {
    func testParametersAreOneContiguousBufferWithANamedLayout() {
        let parameters = ParameterStore(), buffers = ParameterStore()
        var rng = SeededRandom(seed: 1)
        _ = Conv2d(parameters, "head", inChannels: 3, outChannels: 8, kernelSize: 9, rng: &rng)
        _ = BatchNorm2d(parameters, buffers: buffers, "body.bn", channels: 8)
        _ = PReLU(parameters, "body.act", channels: 8)
        XCTAssertEqual(parameters.layout.map(\.name),
                       ["head.weight", "head.bias", "body.bn.weight", "body.bn.bias", "body.act.weight"])
        XCTAssertEqual(parameters.layout.map(\.offset), [0, 1944, 1952, 1960, 1968])
        XCTAssertEqual(parameters.count, 1976)
        XCTAssertEqual(buffers.layout.map(\.name), ["body.bn.running_mean", "body.bn.running_var"])
        // Values written through a slot view land in the shared buffer at the slot's offset.
        let slot = parameters.slot(named: "body.act.weight")!
        XCTAssertEqual(parameters.withValues { $0[slot.offset] }, 0.25)
        parameters.value(slot)[3] = 7
        XCTAssertEqual(parameters.withValues { $0[1971] }, 7)
        parameters.withGradients { $0[5] = 1 }
        parameters.zeroGrads()
        XCTAssertEqual(parameters.withGradients { $0[5] }, 0)
    }

    func testSeededInitialisationIsReproducible() {
        func weights(seed: UInt64) -> [Float] {
            let store = ParameterStore()
            var rng = SeededRandom(seed: seed)
            _ = Conv2d(store, "c", inChannels: 4, outChannels: 4, kernelSize: 3, rng: &rng)
            return store.withValues { Array($0) }
        }
        XCTAssertEqual(weights(seed: 3), weights(seed: 3))
        XCTAssertNotEqual(weights(seed: 3), weights(seed: 4))
        // PyTorch's default bound for a 3x3 conv with 4 inputs: 1/sqrt(36).
        XCTAssertTrue(weights(seed: 3).allSatisfy { abs($0) <= 1 / 6 })
    }
}

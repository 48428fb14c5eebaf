import SRCore
import XCTest

final class BatchNormTests: XCTestCase {
    private func makeBatchNorm(channels: Int) -> (BatchNorm2d, ParameterStore, ParameterStore) {
        let parameters = ParameterStore(), buffers = ParameterStore()
        let bn = BatchNorm2d(parameters, buffers: buffers, "bn", channels: channels)
        var rng = SeededRandom(seed: 5)
        rng.fillUniform(parameters.value(bn.gamma), 0.5, 1.5)
        rng.fillUniform(parameters.value(bn.beta), -0.5, 0.5)
        return (bn, parameters, buffers)
    }

    func testTrainingModeGradients() {
        for shape in [[2, 3, 4, 5], [4, 2, 3, 3], [3, 1, 1, 2]] {
            let (bn, parameters, _) = makeBatchNorm(channels: shape[1])
            checkGradients(bn, store: parameters, inputShape: shape, mode: .training, eps: 2e-3, tolerance: 3e-3)
        }
    }

    func testEvaluationModeGradients() {
        let (bn, parameters, buffers) = makeBatchNorm(channels: 3)
        var rng = SeededRandom(seed: 6)
        rng.fillUniform(buffers.value(bn.runningMean), -0.3, 0.3)
        rng.fillUniform(buffers.value(bn.runningVar), 0.5, 2)
        checkGradients(bn, store: parameters, inputShape: [2, 3, 3, 4], mode: .evaluation)
    }

    func testMatchesPyTorch() throws {
        let fixture = try Fixture("batchnorm")
        let (bn, parameters, buffers) = makeBatchNorm(channels: 3)
        load(fixture.values("weight"), into: bn.gamma, of: parameters)
        load(fixture.values("bias"), into: bn.beta, of: parameters)
        parameters.zeroGrads()
        let out1 = bn.forward(fixture.tensor("x1"), mode: .training)
        assertClose(out1.toArray(), fixture.values("out1"), absolute: 1e-5, relative: 1e-5, "out1")
        let out2 = bn.forward(fixture.tensor("x2"), mode: .training)
        assertClose(out2.toArray(), fixture.values("out2"), absolute: 1e-5, relative: 1e-5, "out2")
        let dx = bn.backward(fixture.tensor("upstream"))
        assertClose(dx.toArray(), fixture.values("input_grad"), absolute: 1e-5, relative: 1e-4, "dx")
        assertClose(grad(bn.gamma, of: parameters), fixture.values("weight_grad"), absolute: 1e-5, relative: 1e-5, "dgamma")
        assertClose(grad(bn.beta, of: parameters), fixture.values("bias_grad"), absolute: 1e-5, relative: 1e-5, "dbeta")
        // Running statistics: momentum 0.1, unbiased variance.
        assertClose(buffers.value(bn.runningMean).toArray(), fixture.values("running_mean"), absolute: 1e-6, relative: 1e-5, "running_mean")
        assertClose(buffers.value(bn.runningVar).toArray(), fixture.values("running_var"), absolute: 1e-6, relative: 1e-5, "running_var")
        XCTAssertEqual(bn.numBatchesTracked, fixture.int("num_batches_tracked"))
        // Evaluation mode uses the running statistics and leaves them alone.
        let out3 = bn.forward(fixture.tensor("x3"), mode: .inference)
        assertClose(out3.toArray(), fixture.values("out3_eval"), absolute: 1e-5, relative: 1e-5, "eval")
        assertClose(buffers.value(bn.runningMean).toArray(), fixture.values("running_mean"), absolute: 1e-6, relative: 1e-5)
        XCTAssertEqual(bn.numBatchesTracked, 2)
    }
}

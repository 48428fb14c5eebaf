// torch.nn.BatchNorm2d(C, eps 1e-5, momentum 0.1): parameters `name.weight` (gamma) and
// `name.bias` (beta); buffers `name.running_mean`, `name.running_var` in a separate store (they
// take no gradient), and `num_batches_tracked` counted here.

public final class BatchNorm2d: Layer {
    /// The module's name in PyTorch's state_dict (its tensors are `name.weight`, ...).
    public let name: String
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    public let gamma: ParameterSlot, beta: ParameterSlot
    public let runningMean: ParameterSlot, runningVar: ParameterSlot
    /// Training-mode forward passes so far (PyTorch's num_batches_tracked).
    public var numBatchesTracked: Int = 0
    /// Set for synchronised batch norm: sums statistics across ranks (nil: this rank's batch only).
    public var statisticsReducer: StatisticsReducer?
    private var reducedCount = 0
    private let parameters: ParameterStore
    private let buffers: ParameterStore
    private var input: Tensor?
    private var mean: Tensor?, invStd: Tensor?
    private var usedBatchStatistics = true

    public init(_ parameters: ParameterStore, buffers: ParameterStore, _ name: String, channels: Int,
                eps: Float = 1e-5, momentum: Float = 0.1) {
        self.parameters = parameters
        self.buffers = buffers
        self.name = name
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        gamma = parameters.register("\(name).weight", shape: [channels])
        beta = parameters.register("\(name).bias", shape: [channels])
        runningMean = buffers.register("\(name).running_mean", shape: [channels])
        runningVar = buffers.register("\(name).running_var", shape: [channels])
        parameters.value(gamma).fill(1)
        buffers.value(runningVar).fill(1)
    }

    // input (N,C,H,W) -> output (N,C,H,W)
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        forward(input, mode: mode, activation: .identity)
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        backward(outputGrad, needInputGrad: needInputGrad, activation: .identity, slopeGrad: nil)
    }

    /// y = activation(BN(x)) (BatchNormActivation's forward); keeps x and the statistics.
    func forward(_ input: Tensor, mode: ForwardMode, activation: ChannelActivation) -> Tensor {
        precondition(input.shape.count == 4 && input.c == channels, "BatchNorm2d(\(channels)) given \(input)")
        let output = Tensor(uninitializedShape: input.shape)
        let plane = input.h * input.w
        let mean = Tensor(shape: [channels]), invStd = Tensor(shape: [channels])
        let gammaPointer = parameters.values + gamma.offset, betaPointer = parameters.values + beta.offset
        if mode.usesBatchStatistics {
            reducedCount = withPointers(output, mean, invStd, input) { y, mean, invStd, x in
                batchNormForwardTraining(
                    output: y, mean: mean, invStd: invStd,
                    runningMean: buffers.values + runningMean.offset, runningVar: buffers.values + runningVar.offset,
                    input: x, gamma: gammaPointer, beta: betaPointer, activation: activation,
                    batch: input.n, channels: channels, plane: plane, eps: eps, momentum: momentum,
                    reduce: statisticsReducer)
            }
            numBatchesTracked += 1
        } else {
            withPointers(output, input) { y, x in
                batchNormForwardInference(
                    output: y, input: x,
                    runningMean: buffers.values + runningMean.offset, runningVar: buffers.values + runningVar.offset,
                    gamma: gammaPointer, beta: betaPointer, activation: activation,
                    batch: input.n, channels: channels, plane: plane, eps: eps)
            }
            for c in 0..<channels {
                mean[c] = buffers.values[runningMean.offset + c]
                invStd[c] = 1 / (buffers.values[runningVar.offset + c] + eps).squareRoot()
            }
        }
        if mode.recordsForBackward {
            self.input = input
            self.mean = mean
            self.invStd = invStd
            usedBatchStatistics = mode.usesBatchStatistics
        } else {
            self.input = nil
        }
        return output
    }

    /// Backward of activation(BN(x)); adds the PReLU slopes' gradient into `slopeGrad` when given.
    func backward(_ outputGrad: Tensor, needInputGrad: Bool, activation: ChannelActivation,
                  slopeGrad: UnsafeMutablePointer<Float>?) -> Tensor? {
        let input = cached(self.input, "BatchNorm2d")
        let inputGrad = needInputGrad ? Tensor(uninitializedShape: input.shape) : nil
        let mean = cached(self.mean, "BatchNorm2d"), invStd = cached(self.invStd, "BatchNorm2d")
        withPointers(mean, invStd) { mean, invStd in withPointers(optional: inputGrad, outputGrad, input) { dx, dy, x in
            batchNormBackward(
                inputGrad: dx, gammaGrad: parameters.gradPointer(gamma),
                betaGrad: parameters.gradPointer(beta), slopeGrad: slopeGrad, outputGrad: dy,
                input: x, mean: mean, invStd: invStd,
                gamma: parameters.values + gamma.offset, beta: parameters.values + beta.offset, activation: activation,
                batch: input.n, channels: channels, plane: input.h * input.w, batchStatistics: usedBatchStatistics,
                reduce: statisticsReducer, reducedCount: reducedCount)
        } }
        return inputGrad
    }
}

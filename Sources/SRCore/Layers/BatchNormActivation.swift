// BatchNorm2d followed by PReLU or LeakyReLU, computed as one layer: one pass over the data
// forward (y = act(BN(x)), the BN output never stored) and two backward, instead of five and
// three. Its parameters stay in the two layers it is built from, under their PyTorch names
// (`body.0.bn1.weight`, `body.0.act.weight`, ...), so model files and checkpoints are unchanged;
// the batch norm keeps its running statistics, num_batches_tracked and synchronised statistics.

public final class BatchNormActivation: Layer {
    public enum Activation {
        case prelu(PReLU)
        case leakyReLU(negativeSlope: Float)
    }

    public let batchNorm: BatchNorm2d
    public let activation: Activation

    public init(_ batchNorm: BatchNorm2d, _ activation: Activation) {
        if case .prelu(let prelu) = activation {
            precondition(prelu.channels == batchNorm.channels, "PReLU(\(prelu.channels)) after BatchNorm2d(\(batchNorm.channels))")
        }
        self.batchNorm = batchNorm
        self.activation = activation
    }

    private var kernelActivation: ChannelActivation {
        switch activation {
        case .prelu(let prelu): return .prelu(slopes: prelu.slopes)
        case .leakyReLU(let slope): return .leakyReLU(negativeSlope: slope)
        }
    }

    // input (N,C,H,W) -> output (N,C,H,W)
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        batchNorm.forward(input, mode: mode, activation: kernelActivation)
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        var slopeGrad: UnsafeMutablePointer<Float>?
        if case .prelu(let prelu) = activation { slopeGrad = prelu.store.gradPointer(prelu.slope) }
        return batchNorm.backward(outputGrad, needInputGrad: needInputGrad, activation: kernelActivation,
                                  slopeGrad: slopeGrad)
    }
}

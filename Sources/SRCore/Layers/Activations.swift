// Activation layers: PReLU (one learnable slope per channel, torch.nn.PReLU(C)), LeakyReLU,
// ReLU and Sigmoid.

public final class PReLU: Layer {
    public let channels: Int
    public let slope: ParameterSlot
    let store: ParameterStore
    private var input: Tensor?

    /// The slopes, for a batch norm that applies this activation itself (BatchNormActivation).
    var slopes: UnsafePointer<Float> { UnsafePointer(store.values + slope.offset) }

    /// Registers `name.weight` (C slopes), initialised to 0.25 as PyTorch does.
    public init(_ store: ParameterStore, _ name: String, channels: Int, initialSlope: Float = 0.25) {
        self.store = store
        self.channels = channels
        slope = store.register("\(name).weight", shape: [channels])
        store.value(slope).fill(initialSlope)
    }

    // input (N,C,H,W) -> output (N,C,H,W)
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.shape.count == 4 && input.c == channels, "PReLU(\(channels)) given \(input)")
        let output = Tensor(uninitializedShape: input.shape)
        withPointers(output, input) { y, x in
            preluForward(output: y, input: x, slope: store.values + slope.offset,
                         batch: input.n, channels: channels, plane: input.h * input.w)
        }
        self.input = mode.recordsForBackward ? input : nil
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let input = cached(self.input, "PReLU")
        let inputGrad = needInputGrad ? Tensor(uninitializedShape: input.shape) : nil
        withPointers(optional: inputGrad, outputGrad, input) { dx, dy, x in
            preluBackward(inputGrad: dx, slopeGrad: store.gradPointer(slope),
                          outputGrad: dy, input: x, slope: store.values + slope.offset,
                          batch: input.n, channels: channels, plane: input.h * input.w)
        }
        return inputGrad
    }
}

/// LeakyReLU(negativeSlope); ReLU is LeakyReLU(0).
public final class LeakyReLU: Layer {
    public let negativeSlope: Float
    private var input: Tensor?

    public init(negativeSlope: Float = 0.2) { self.negativeSlope = negativeSlope }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let output = Tensor(uninitializedShape: input.shape)
        withPointers(output, input) { y, x in
            leakyReLUForward(output: y, input: x, count: input.count, negativeSlope: negativeSlope)
        }
        self.input = mode.recordsForBackward ? input : nil
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let input = cached(self.input, "LeakyReLU")
        guard needInputGrad else { return nil }
        let inputGrad = Tensor(uninitializedShape: input.shape)
        withPointers(inputGrad, outputGrad, input) { dx, dy, x in
            leakyReLUBackward(inputGrad: dx, outputGrad: dy, input: x, count: input.count, negativeSlope: negativeSlope)
        }
        return inputGrad
    }
}

public func ReLU() -> LeakyReLU { LeakyReLU(negativeSlope: 0) }

public final class Sigmoid: Layer {
    private var output: Tensor?

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let output = Tensor(uninitializedShape: input.shape)
        withPointers(output, input) { y, x in sigmoidForward(output: y, input: x, count: input.count) }
        self.output = mode.recordsForBackward ? output : nil
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let output = cached(self.output, "Sigmoid")
        guard needInputGrad else { return nil }
        let inputGrad = Tensor(uninitializedShape: output.shape)
        withPointers(inputGrad, outputGrad, output) { dx, dy, y in
            sigmoidBackward(inputGrad: dx, outputGrad: dy, output: y, count: output.count)
        }
        return inputGrad
    }
}

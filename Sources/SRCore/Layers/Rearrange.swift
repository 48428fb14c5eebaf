// Layers that move values without arithmetic: PixelShuffle, MaxPool2d(2), Flatten.

/// torch.nn.PixelShuffle(factor): (N, C*r*r, H, W) -> (N, C, H*r, W*r).
public final class PixelShuffle: Layer {
    public let factor: Int
    private var inputShape: [Int]?

    public init(factor: Int = 2) { self.factor = factor }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let r2 = factor * factor
        precondition(input.shape.count == 4 && input.c % r2 == 0, "PixelShuffle(\(factor)) given \(input)")
        let output = Tensor(uninitializedShape: [input.n, input.c / r2, input.h * factor, input.w * factor])
        withPointers(input, output) { x, y in
            pixelShuffle(x, y, batch: input.n, outChannels: input.c / r2,
                         inHeight: input.h, inWidth: input.w, factor: factor, inverse: false)
        }
        inputShape = input.shape
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let shape = cached(inputShape, "PixelShuffle")
        guard needInputGrad else { return nil }
        let inputGrad = Tensor(uninitializedShape: shape)
        withPointers(outputGrad, inputGrad) { dy, dx in
            pixelShuffle(dy, dx, batch: shape[0], outChannels: shape[1] / (factor * factor),
                         inHeight: shape[2], inWidth: shape[3], factor: factor, inverse: true)
        }
        return inputGrad
    }
}

/// torch.nn.MaxPool2d(2): (N,C,H,W) -> (N,C,H/2,W/2).
public final class MaxPool2d: Layer {
    private var inputShape: [Int]?
    private var argmax: UnsafeMutableBufferPointer<Int32>?

    public init() {}

    deinit { argmax?.deallocate() }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.shape.count == 4, "MaxPool2d given \(input)")
        let output = Tensor(uninitializedShape: [input.n, input.c, input.h / 2, input.w / 2])
        if argmax?.count != output.count {
            argmax?.deallocate()
            argmax = .allocate(capacity: output.count)
        }
        withPointers(output, input) { y, x in
            maxPool2Forward(output: y, argmax: argmax!.baseAddress!, input: x,
                            planes: input.n * input.c, height: input.h, width: input.w)
        }
        inputShape = input.shape
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let shape = cached(inputShape, "MaxPool2d")
        guard needInputGrad else { return nil }
        let inputGrad = Tensor(uninitializedShape: shape)  // the kernel clears it
        withPointers(inputGrad, outputGrad) { dx, dy in
            maxPool2Backward(inputGrad: dx, outputGrad: dy, argmax: argmax!.baseAddress!,
                             inputCount: inputGrad.count, outputCount: outputGrad.count)
        }
        return inputGrad
    }
}

/// (N, C, H, W) -> (N, C*H*W), torch.flatten(x, 1) order.
public final class Flatten: Layer {
    private var inputShape: [Int]?

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        inputShape = input.shape
        return input.reshaped([input.shape[0], input.count / input.shape[0]])
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let shape = cached(inputShape, "Flatten")
        return needInputGrad ? outputGrad.reshaped(shape) : nil
    }
}

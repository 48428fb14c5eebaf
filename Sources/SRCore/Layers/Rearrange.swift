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

/// torch.nn.MaxPool2d(2): (N,C,H,W) -> (N,C,H/2,W/2). The active ISA path's row kernels
/// (Sources/CKernels/pool_body.h), each window's maximum kept as a 1-byte position for backward;
/// the plane loop split over the kernel threads. maxPool2Forward/Backward are their reference.
public final class MaxPool2d: Layer {
    private var inputShape: [Int]?
    private var positions: UnsafeMutableBufferPointer<UInt8>?

    public init() {}

    deinit { positions?.deallocate() }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.shape.count == 4, "MaxPool2d given \(input)")
        let output = Tensor(uninitializedShape: [input.n, input.c, input.h / 2, input.w / 2])
        if positions?.count != output.count {
            positions?.deallocate()
            positions = .allocate(capacity: output.count)
        }
        let code = positions!.baseAddress!
        let row = KernelPath.kernels.pointee.max_pool2_row!
        let (height, width, outH, outW) = (input.h, input.w, input.h / 2, input.w / 2)
        withPointers(output, input) { y, x in
            forEachRange(input.n * input.c, work: input.count) { planes in
                for p in planes {
                    for oh in 0..<outH {
                        let top = x + p * height * width + 2 * oh * width, out = p * outH * outW + oh * outW
                        row(top, top + width, outW, y + out, code + out)
                    }
                }
            }
        }
        inputShape = input.shape
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let shape = cached(inputShape, "MaxPool2d")
        guard needInputGrad else { return nil }
        let inputGrad = Tensor(uninitializedShape: shape)  // every element written below
        let code = UnsafePointer(positions!.baseAddress!)
        let rowGrad = KernelPath.kernels.pointee.max_pool2_row_grad!
        let (height, width) = (shape[2], shape[3])
        let (outH, outW) = (height / 2, width / 2)
        withPointers(inputGrad, outputGrad) { dx, dy in
            forEachRange(shape[0] * shape[1], work: inputGrad.count) { planes in
                for p in planes {
                    let plane = dx + p * height * width
                    for oh in 0..<outH {
                        let top = plane + 2 * oh * width, out = p * outH * outW + oh * outW
                        rowGrad(dy + out, code + out, outW, top, top + width)
                        if width % 2 == 1 { top[width - 1] = 0; top[2 * width - 1] = 0 }
                    }
                    if height % 2 == 1 { (plane + (height - 1) * width).update(repeating: 0, count: width) }
                }
            }
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

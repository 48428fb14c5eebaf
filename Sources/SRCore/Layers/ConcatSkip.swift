// A skip connection that concatenates instead of adding: y = cat(x, inner(x)) along channels,
// torch.cat([x, inner(x)], dim=1). The U-Net's skips (each scale's features beside the
// upsampled deeper ones) and the colourising generator's "grayscale input beside the U-Net's
// output" are both this layer. inner must keep the batch and spatial size.

public final class ConcatSkip: Layer {
    public let inner: Layer
    private var inputShape: [Int]?

    public init(_ inner: Layer) { self.inner = inner }

    // input (N,C,H,W), inner(input) (N,K,H,W) -> output (N,C+K,H,W)
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let branch = inner.forward(input, mode: mode)
        precondition(branch.shape.count == 4 && branch.n == input.n && branch.h == input.h && branch.w == input.w,
                     "ConcatSkip: inner maps \(input) to \(branch)")
        let output = Tensor(uninitializedShape: [input.n, input.c + branch.c, input.h, input.w])
        let plane = input.h * input.w
        for n in 0..<input.n {
            (output.data + n * output.c * plane).update(from: input.data + n * input.c * plane, count: input.c * plane)
            (output.data + (n * output.c + input.c) * plane).update(from: branch.data + n * branch.c * plane, count: branch.c * plane)
        }
        inputShape = input.shape
        return output
    }

    /// dy = [dy_skip, dy_inner] along channels; dx = dy_skip + inner.backward(dy_inner).
    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let shape = cached(inputShape, "ConcatSkip")
        let (batch, channels, plane) = (shape[0], shape[1], shape[2] * shape[3])
        let branchChannels = outputGrad.c - channels
        let branchGrad = Tensor(uninitializedShape: [batch, branchChannels, shape[2], shape[3]])
        for n in 0..<batch {
            (branchGrad.data + n * branchChannels * plane).update(from: outputGrad.data + (n * outputGrad.c + channels) * plane,
                                                                  count: branchChannels * plane)
        }
        guard let innerGrad = inner.backward(branchGrad, needInputGrad: needInputGrad) else { return nil }
        let inputGrad = innerGrad.data == branchGrad.data ? innerGrad.copy() : innerGrad
        precondition(inputGrad.shape == shape, "ConcatSkip: inner's input gradient is \(inputGrad), expected \(shape)")
        for n in 0..<batch {
            addInPlace(inputGrad.data + n * channels * plane, outputGrad.data + n * outputGrad.c * plane, count: channels * plane)
        }
        return inputGrad
    }
}

// A skip connection that concatenates instead of adding: y = cat(x, inner(x)) along channels,
// torch.cat([x, inner(x)], dim=1). The U-Net's skips (each scale's features beside the
// upsampled deeper ones) and the colourising generator's "grayscale input beside the U-Net's
// output" are both this layer. inner must keep the batch and spatial size.

public final class ConcatSkip: Layer {
    public let inner: Layer
    private var inputShape: [Int]?

    public init(_ inner: Layer) { self.inner = inner }

    public var sublayers: [Layer] { [inner] }

    // input (N,C,H,W), inner(input) (N,K,H,W) -> output (N,C+K,H,W)
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let output = concatenateChannels(input, inner.forward(input, mode: mode))  // checks the batch and spatial sizes
        inputShape = input.shape
        return output
    }

    /// dy = [dy_skip, dy_inner] along channels; dx = dy_skip + inner.backward(dy_inner).
    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let shape = cached(inputShape, "ConcatSkip")
        let (skipGrad, branchGrad) = splitChannels(outputGrad, first: shape[1])
        guard let innerGrad = inner.backward(branchGrad, needInputGrad: needInputGrad) else { return nil }
        let inputGrad = innerGrad.sharesStorage(with: branchGrad) ? innerGrad.copy() : innerGrad
        precondition(inputGrad.shape == shape, "ConcatSkip: inner's input gradient is \(inputGrad), expected \(shape)")
        withPointers(inputGrad, skipGrad) { dx, skip in addInPlace(dx, skip, count: skipGrad.count) }
        return inputGrad
    }
}

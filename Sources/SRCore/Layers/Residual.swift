// A skip connection around any layer: y = x + inner(x). SRResNet's residual blocks, the
// residual-in-residual groups and the long skip over the whole body are all this layer.

public final class Residual: Layer {
    public let inner: Layer

    public init(_ inner: Layer) { self.inner = inner }

    public var sublayers: [Layer] { [inner] }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let output = inner.forward(input, mode: mode)
        precondition(output.shape == input.shape, "Residual: inner maps \(input) to \(output)")
        withPointers(output, input) { y, x in addInPlace(y, x, count: output.count) }
        return output
    }

    /// dx = dy + inner.backward(dy)
    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        guard let innerGrad = inner.backward(outputGrad, needInputGrad: needInputGrad) else { return nil }
        if innerGrad.sharesStorage(with: outputGrad) {  // an inner layer that passed its gradient through
            let sum = outputGrad.copy()
            withPointers(sum, outputGrad) { sum, dy in addInPlace(sum, dy, count: outputGrad.count) }
            return sum
        }
        withPointers(innerGrad, outputGrad) { dx, dy in addInPlace(dx, dy, count: outputGrad.count) }
        return innerGrad
    }
}

/// target[i] += source[i]; split over the available threads when large.
public func addInPlace(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
    forEachRange(count, work: 3 * count) { range in
        for i in range { target[i] += source[i] }
    }
}

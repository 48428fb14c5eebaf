// The layer interface (Caffe's shape: set up once, then forward/backward). A layer keeps what
// its backward needs from the last forward. Backward returns dLoss/dInput (nil when the caller
// says it is not needed) and ADDS parameter gradients into its ParameterStore, which one
// `zeroGrads` clears per step (llm.c's convention). Kernels live in Kernels/, so a faster kernel
// replaces a slower one without touching the networks.

/// How a forward pass runs.
public enum ForwardMode: Sendable {
    /// Batch statistics in BN (running statistics updated); keeps what backward needs.
    case training
    /// Running statistics in BN; keeps what backward needs (a frozen VGG19 in the perceptual loss).
    case evaluation
    /// Running statistics; keeps nothing, so memory stays bounded (validation, upscaling).
    case inference

    public var usesBatchStatistics: Bool { self == .training }
    public var recordsForBackward: Bool { self != .inference }
}

public protocol Layer: AnyObject {
    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor
    func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor?
    /// The layers this one applies (containers: Sequential, Residual, ConcatSkip, a Network).
    var sublayers: [Layer] { get }
}

extension Layer {
    public func forward(_ input: Tensor) -> Tensor { forward(input, mode: .training) }
    public func backward(_ outputGrad: Tensor) -> Tensor { backward(outputGrad, needInputGrad: true)! }
    public var sublayers: [Layer] { [] }

    /// body(layer) for this layer and every layer inside it, depth first in forward order.
    public func forEachLayer(_ body: (Layer) -> Void) {
        body(self)
        for layer in sublayers { layer.forEachLayer(body) }
    }

    /// Sets the products' precision of every Conv2d and Linear in this layer (itself included).
    /// bf16 throws `BF16Products.refusal` where this process cannot compute it, before any change.
    public func setProductPrecision(_ precision: ProductPrecision) throws {
        if precision == .bf16, let refusal = BF16Products.refusal { throw refusal }
        forEachLayer { layer in
            if let conv = layer as? Conv2d { conv.options.precision = precision }
            if let linear = layer as? Linear { linear.precision = precision }
        }
    }
}

/// Layers applied one after another (timed per layer while a LayerProfiler is active).
public final class Sequential: Layer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public var sublayers: [Layer] { layers }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        guard let profiler = LayerProfiler.active else { return layers.reduce(input) { $1.forward($0, mode: mode) } }
        return layers.reduce(input) { profiler.forward($1, $0, mode: mode) }
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let profiler = LayerProfiler.active
        var grad = outputGrad
        for (index, layer) in layers.enumerated().reversed() {
            let needed = index > 0 || needInputGrad
            let next = profiler.map { $0.backward(layer, grad, needInputGrad: needed) } ?? layer.backward(grad, needInputGrad: needed)
            guard let next else { return nil }
            grad = next
        }
        return grad
    }
}

/// Returns the cached forward input, or stops with a message naming the layer (a programming
/// error: backward called before forward).
@inline(__always)
func cached<T>(_ value: T?, _ layer: String) -> T {
    guard let value else { preconditionFailure("\(layer).backward called without a recording forward") }
    return value
}

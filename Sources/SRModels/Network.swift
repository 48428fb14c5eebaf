// A network: its layers plus the memory they live in. Parameters (trained) and buffers (batch
// norm running statistics) are two ParameterStores, each one contiguous buffer; every tensor is
// named as PyTorch's state_dict() names the same module, so model files move between the two.

import SRCore

open class Network: Layer {
    public let parameters: ParameterStore
    public let buffers = ParameterStore(trainable: false)
    public private(set) var batchNorms: [BatchNorm2d] = []
    /// The layers, set once by the subclass's initialiser.
    public var root: Layer = Sequential([])

    /// `trainable: false` for a frozen network: no gradient memory, no parameter gradients.
    public init(trainable: Bool = true) { parameters = ParameterStore(trainable: trainable) }

    /// A BatchNorm2d registered under `name`, tracked for `num_batches_tracked`.
    public func batchNorm(_ name: String, channels: Int) -> BatchNorm2d {
        let layer = BatchNorm2d(parameters, buffers: buffers, name, channels: channels)
        batchNorms.append(layer)
        return layer
    }

    /// The root; a network that applies other layers too (a conditional D's halves) lists them.
    open var sublayers: [Layer] { [root] }

    /// A short description for messages, e.g. "Generator(16 blocks, 64 channels, x4)".
    open var summary: String { String(describing: type(of: self)) }

    /// The name a LayerProfiler files this network's layers under.
    var profileScope: String { String(describing: type(of: self)) }

    open func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        guard let profiler = LayerProfiler.active else { return root.forward(input, mode: mode) }
        return profiler.within(profileScope) { root.forward(input, mode: mode) }
    }

    open func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        guard let profiler = LayerProfiler.active else { return root.backward(outputGrad, needInputGrad: needInputGrad) }
        return profiler.within(profileScope) { root.backward(outputGrad, needInputGrad: needInputGrad) }
    }

    /// Inference on `input` with running statistics and no recording.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input, mode: .inference) }
}

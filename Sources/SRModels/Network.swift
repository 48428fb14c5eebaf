// A network: its layers plus the memory they live in. Parameters (trained) and buffers (batch
// norm running statistics) are two ParameterStores with named layouts; every tensor is named as
// PyTorch's state_dict() names the same module, so model files move between the two. Once the
// layers are built, both stores move into the network's one allocation (NetworkMemory), where
// the gradients and, once trained, Adam's moments sit beside them.

import SRCore

open class Network: Layer {
    public let parameters: ParameterStore
    public let buffers = ParameterStore(trainable: false)
    public private(set) var batchNorms: [BatchNorm2d] = []
    /// The layers, set once by the subclass's initialiser.
    public var root: Layer = Sequential([])

    private var laidOutMemory: NetworkMemory?

    /// `trainable: false` for a frozen network: no gradient memory, no parameter gradients.
    public init(trainable: Bool = true) { parameters = ParameterStore(trainable: trainable) }

    /// The one allocation of this network's values, statistics and gradients (and moments, once
    /// prepared for training), laid out when the subclass's initialiser ends (`layOutMemory`).
    public var memory: NetworkMemory {
        guard let laidOutMemory else { preconditionFailure("\(summary): its initialiser did not call layOutMemory()") }
        return laidOutMemory
    }

    /// Moves both stores into one allocation: the last line of every subclass's initialiser,
    /// after which nothing is registered.
    public func layOutMemory() {
        precondition(laidOutMemory == nil, "\(summary): memory laid out twice")
        laidOutMemory = NetworkMemory(parameters: parameters, statistics: buffers)
    }

    /// A BatchNorm2d registered under `name`, tracked for `num_batches_tracked`.
    public func batchNorm(_ name: String, channels: Int) -> BatchNorm2d {
        let layer = BatchNorm2d(parameters, buffers: buffers, name, channels: channels)
        batchNorms.append(layer)
        return layer
    }

    /// Copies `other`'s parameter values (a network of the same layout: the EMA generator).
    public func copyParameters(from other: Network) {
        precondition(other.parameters.layout == parameters.layout, "\(summary): copying parameters of a different layout")
        let count = parameters.count
        memory.withModel { target in other.memory.withModel { source in
            target.baseAddress!.update(from: source.baseAddress!, count: count)
        } }
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

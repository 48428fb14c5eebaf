// Parameter memory for one network: every parameter is a slice of ONE contiguous float buffer,
// described by a named layout (name, shape, offset). Gradients live in a second buffer with the
// same layout, and Adam's moments use it too, so a gradient all-reduce is one call over `grads`,
// the optimizer is one flat loop, and a checkpoint is one walk over `layout`.
//
// Layers register their parameters while the network is built (the buffers grow then); after
// that, layers reach their slices through `ParameterSlot.offset`, never through cached pointers.
// The buffers move when a registration grows them and when `swapValues` exchanges the values
// (Adam's kept-previous update, every GAN step). What is enforced: a tensor view from `value(_:)`
// or `grad(_:)` remembers `generation`, and every access to it after the buffers moved stops
// the program with a precondition failure instead of reading freed or swapped-out memory.

public struct ParameterSlot: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

public final class ParameterStore {
    public private(set) var layout: [ParameterSlot] = []
    public private(set) var count: Int = 0
    /// Parameter values, `count` floats.
    public private(set) var values: UnsafeMutablePointer<Float>
    /// Gradients, same layout as `values` (one unused float for a frozen store). Backward passes
    /// add into it; `zeroGrads` clears it.
    public private(set) var grads: UnsafeMutablePointer<Float>
    /// When false, backward passes skip parameter gradients (a frozen VGG19, or the
    /// discriminator during the generator's step): they still return input gradients.
    public var accumulatesGradients: Bool {
        get { trainable && gradientsOn }
        set { gradientsOn = newValue }
    }
    /// False for a store that never takes gradients (a frozen network): its gradient buffer is
    /// never allocated, saving as much memory as the parameters take.
    public let trainable: Bool
    /// Bumped by `valuesChanged()` when values are written other than by an optimizer step (a
    /// model file loaded): a layer that keeps something derived from a frozen store's values (the
    /// Winograd transform of VGG19's weights) compares it with the version it was made from.
    public private(set) var version = 0
    /// Bumped whenever `values` or `grads` moves to another buffer (a registration that grows
    /// them, `swapValues`): views made before are stale, and Tensor checks this on each access.
    public private(set) var generation = 0
    private var gradientsOn = true
    private var capacity: Int = 0
    private var slotByName: [String: Int] = [:]

    public init(trainable: Bool = true) {
        self.trainable = trainable
        values = .allocate(capacity: 1)
        grads = .allocate(capacity: 1)
        grads.initialize(to: 0)
    }

    deinit {
        values.deallocate()
        grads.deallocate()
    }

    /// Exchanges the values buffer with `other` (at least `count` floats, from `allocate`); no
    /// parameter may be registered afterwards. Layers read `values` at each call, so the swap
    /// takes effect at once (Adam.updateKeepingPrevious).
    public func swapValues(with other: inout UnsafeMutablePointer<Float>) {
        swap(&values, &other)
        capacity = count
        generation &+= 1
    }

    /// Tells the layers that cache derived values that `values` were written (see `version`).
    public func valuesChanged() { version &+= 1 }

    /// Adds a parameter named `name` (as PyTorch's state_dict would name it) and returns its slot.
    /// Values start at zero; `initialize` fills them.
    @discardableResult
    public func register(_ name: String, shape: [Int]) -> ParameterSlot {
        precondition(slotByName[name] == nil, "parameter \(name) registered twice")
        let slot = ParameterSlot(name: name, shape: shape, offset: count)
        let newCount = count + slot.count
        if newCount > capacity { grow(to: max(newCount, capacity * 2)) }
        values.advanced(by: count).initialize(repeating: 0, count: slot.count)
        if trainable { grads.advanced(by: count).initialize(repeating: 0, count: slot.count) }
        slotByName[name] = layout.count
        layout.append(slot)
        count = newCount
        return slot
    }

    private func grow(to newCapacity: Int) {
        let newValues = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
        newValues.initialize(from: values, count: count)
        values.deallocate()
        values = newValues
        if trainable {
            let newGrads = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
            newGrads.initialize(from: grads, count: count)
            grads.deallocate()
            grads = newGrads
        }
        capacity = newCapacity
        generation &+= 1
    }

    public func slot(named name: String) -> ParameterSlot? {
        slotByName[name].map { layout[$0] }
    }

    /// A tensor view of the parameter's values (valid until the buffers move: see `generation`).
    public func value(_ slot: ParameterSlot) -> Tensor {
        Tensor(viewOf: values + slot.offset, shape: slot.shape, owner: self, store: self, generation: generation)
    }

    /// A tensor view of the parameter's gradient (trainable stores only).
    public func grad(_ slot: ParameterSlot) -> Tensor {
        precondition(trainable, "\(slot.name) belongs to a frozen store: it has no gradients")
        return Tensor(viewOf: grads + slot.offset, shape: slot.shape, owner: self, store: self, generation: generation)
    }

    public func zeroGrads() {
        if trainable { grads.update(repeating: 0, count: count) }
    }

    /// Where backward adds the gradient of `slot`, or nil when gradients are switched off.
    public func gradPointer(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float>? {
        accumulatesGradients ? grads + slot.offset : nil
    }

    public func valuePointer(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float> { values + slot.offset }
}

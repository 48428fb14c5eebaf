// Parameter memory for one network: every parameter is a slice of ONE contiguous float buffer,
// described by a named layout (name, shape, offset). Gradients live in a second buffer with the
// same layout, and Adam's moments use it too, so a gradient all-reduce is one call over `grads`,
// the optimizer is one flat loop, and a checkpoint is one walk over `layout`.
//
// Layers register their parameters while the network is built; the store's own buffers grow
// then. A network then lays its stores out in its one allocation (NetworkMemory), which the
// store keeps alive and which owns the buffers from then on; no registration follows. Layers
// reach their slices through `ParameterSlot.offset` at each call, never through cached pointers,
// because the buffers move: when a registration grows them, when the memory is laid out or
// prepared for training, and when Adam's kept-previous update flips the memory's banks (every
// GAN step). What is enforced: a tensor view from `value(_:)` or `grad(_:)` remembers
// `generation`, and every access to it after the buffers moved stops the program with a
// precondition failure instead of reading freed or swapped-out memory.

public struct ParameterSlot: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

public final class ParameterStore {
    public private(set) var layout: [ParameterSlot] = []
    public private(set) var count: Int = 0
    /// Parameter values, `count` floats. Layers (in this module) read it at each call; code
    /// elsewhere reaches it only inside `withValues`.
    private(set) var values: UnsafeMutablePointer<Float>
    /// Gradients, same layout as `values` (one unused float for a frozen store). Backward passes
    /// add into it; `zeroGrads` clears it; elsewhere it is reached inside `withGradients`.
    private(set) var grads: UnsafeMutablePointer<Float>
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
    /// The network memory the buffers live in once laid out (nil: the store owns them).
    private var memory: NetworkMemory?

    public init(trainable: Bool = true) {
        self.trainable = trainable
        values = .allocate(capacity: 1)
        grads = .allocate(capacity: 1)
        grads.initialize(to: 0)
    }

    deinit {
        guard memory == nil else { return }
        values.deallocate()
        grads.deallocate()
    }

    /// Whether the buffers live in a NetworkMemory (after which nothing may be registered).
    public var isLaidOut: Bool { memory != nil }

    /// Copies the values (count floats) to `target` (NetworkMemory laying the store out).
    func copyValues(to target: UnsafeMutablePointer<Float>) {
        target.update(from: values, count: count)
    }

    /// Reads `values` (and `grads`, nil for none) from `memory`, which this store keeps alive;
    /// frees the store's own buffers the first time. Layers read the buffers at each call, so a
    /// move takes effect at once.
    func place(values newValues: UnsafeMutablePointer<Float>, grads newGrads: UnsafeMutablePointer<Float>?, in memory: NetworkMemory) {
        if self.memory == nil {
            values.deallocate()
            grads.deallocate()
        }
        self.memory = memory
        values = newValues
        // A frozen store's gradient pointer is never read (accumulatesGradients is false); it
        // points at the values so that it points into live memory all the same.
        grads = newGrads ?? newValues
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
        precondition(memory == nil, "parameter \(name) registered after the network's memory was laid out")
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
    func gradPointer(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float>? {
        accumulatesGradients ? grads + slot.offset : nil
    }

    /// Calls `body` with the values (`count` floats), keeping the store and the memory it lives
    /// in alive until `body` returns. The pointer must not be kept past `body`: the buffers move
    /// (see the header).
    public func withValues<Result>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: values, count: count)) }
    }

    /// `withValues` for the gradients (trainable stores only).
    public func withGradients<Result>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        precondition(trainable, "a frozen store has no gradients")
        return try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: grads, count: count)) }
    }
}

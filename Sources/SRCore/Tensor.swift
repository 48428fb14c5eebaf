// A float32 tensor: a shape and count = product(shape) floats, NCHW for images.
// A tensor either owns its memory or is a view into memory owned by something else (a parameter
// store, another tensor); a view keeps its owner alive. Owned memory of large tensors is recycled
// (TensorMemory): when a tensor is released its buffer may be handed to the next tensor made.
//
// The memory is reached only inside `withUnsafeMutablePointer` / `withUnsafePointer` (and
// `withPointers` for several tensors, TensorPointers.swift), which keep the tensor alive until the
// closure returns: the stored pointer is private, so no code can hold the memory of a tensor that
// ARC has already released (the pointer must not be kept past the closure). A view of a
// ParameterStore also checks, on every access, that the store has not moved its buffers since the
// view was made (`ParameterStore.generation`).

public final class Tensor {
    public let shape: [Int]
    public let count: Int
    private let storage: UnsafeMutablePointer<Float>
    private let owner: AnyObject?
    /// The store this is a view of, and the store's generation when the view was made.
    private let viewedStore: ParameterStore?
    private let viewedGeneration: Int

    /// A new tensor owning zero-filled memory.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = TensorMemory.allocate(max(count, 1))
        self.storage.initialize(repeating: 0, count: max(count, 1))
        self.owner = nil
        self.viewedStore = nil
        self.viewedGeneration = 0
    }

    /// A new tensor owning memory that is NOT initialised: for outputs a kernel overwrites
    /// completely before anything reads them.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = TensorMemory.allocate(max(count, 1))
        self.owner = nil
        self.viewedStore = nil
        self.viewedGeneration = 0
    }

    /// A new tensor owning a copy of `values` (row-major, count must match the shape).
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    /// A view of `count(shape)` floats at `pointer`, kept valid by `owner`; a view of a parameter
    /// store's buffer names the store and its generation (checked at each access).
    init(viewOf pointer: UnsafeMutablePointer<Float>, shape: [Int], owner: AnyObject,
         store: ParameterStore? = nil, generation: Int = 0) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = pointer
        self.owner = owner
        self.viewedStore = store
        self.viewedGeneration = generation
    }

    deinit {
        if owner == nil { TensorMemory.release(storage, count: max(count, 1)) }
    }

    /// True for a view of a parameter store that has moved its buffers since (any access to it
    /// stops the program).
    public var isStale: Bool {
        guard let store = viewedStore else { return false }
        return store.generation != viewedGeneration
    }

    /// The memory, after checking that a parameter-store view has not gone stale.
    private var checkedStorage: UnsafeMutablePointer<Float> {
        precondition(!isStale, "a view \(shape) of a parameter store used after the store moved its buffers (swapValues or a registration): take a new view")
        return storage
    }

    /// Calls `body` with the tensor's `count` floats, keeping the tensor (so its memory) alive
    /// until `body` returns. The pointer must not be used after `body` returns.
    public func withUnsafeMutablePointer<Result>(_ body: (UnsafeMutablePointer<Float>) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(checkedStorage) }
    }

    /// `withUnsafeMutablePointer` for reading only.
    public func withUnsafePointer<Result>(_ body: (UnsafePointer<Float>) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(UnsafePointer(checkedStorage)) }
    }

    /// Whether `other` starts at the same memory (a layer that passed its gradient through).
    public func sharesStorage(with other: Tensor) -> Bool {
        withExtendedLifetime((self, other)) { checkedStorage == other.checkedStorage }
    }

    /// The same memory seen with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(viewOf: checkedStorage, shape: newShape, owner: owner ?? self,
                      store: viewedStore, generation: viewedGeneration)
    }

    // A method's `self` lives until the method returns, so the element accessors below read
    // the memory directly (no pointer leaves them).
    public subscript(index: Int) -> Float {
        get { checkedStorage[index] }
        set { checkedStorage[index] = newValue }
    }

    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: checkedStorage, count: count)) }

    public func fill(_ value: Float) { checkedStorage.update(repeating: value, count: count) }

    /// Overwrites every value with `source`'s (the same count).
    public func update(from source: Tensor) {
        precondition(source.count == count, "cannot copy \(source) into \(self)")
        withPointers(self, source) { target, source in target.update(from: source, count: count) }
    }

    public func copy() -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        result.update(from: self)
        return result
    }

    /// Dimension `i` of a 4-D NCHW tensor, named for readability at call sites.
    public var n: Int { shape[0] }
    public var c: Int { shape[1] }
    public var h: Int { shape[2] }
    public var w: Int { shape[3] }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor\(shape)" }
}

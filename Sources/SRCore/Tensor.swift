// A float32 tensor: a shape and a pointer to count = product(shape) floats, NCHW for images.
// A tensor either owns its memory or is a view into memory owned by something else (a parameter
// store, another tensor); a view keeps its owner alive. Owned memory of large tensors is recycled
// (TensorMemory).

public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>
    private let owner: AnyObject?

    /// A new tensor owning zero-filled memory.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = TensorMemory.allocate(max(count, 1))
        self.data.initialize(repeating: 0, count: max(count, 1))
        self.owner = nil
    }

    /// A new tensor owning memory that is NOT initialised: for outputs a kernel overwrites
    /// completely before anything reads them.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = TensorMemory.allocate(max(count, 1))
        self.owner = nil
    }

    /// A new tensor owning a copy of `values` (row-major, count must match the shape).
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A view of `count(shape)` floats at `pointer`, kept valid by `owner`.
    public init(viewOf pointer: UnsafeMutablePointer<Float>, shape: [Int], owner: AnyObject) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = pointer
        self.owner = owner
    }

    deinit {
        if owner == nil { TensorMemory.release(data, count: max(count, 1)) }
    }

    /// The same memory seen with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(viewOf: data, shape: newShape, owner: owner ?? self)
    }

    public subscript(index: Int) -> Float {
        get { data[index] }
        set { data[index] = newValue }
    }

    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    public func copy() -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        result.data.update(from: data, count: count)
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

// The memory of several tensors at once, for kernels that take outputs, inputs and gradients:
//
//   withPointers(output, input) { y, x in pixelShuffle(x, y, ...) }
//
// Each tensor is kept alive until the closure returns (Tensor.withUnsafeMutablePointer). An
// optional tensor (a gradient that is not wanted) comes first, labelled, and gives an optional
// pointer: withPointers(optional: inputGrad, outputGrad, input) { dx, dy, x in ... }.
// Kernels with more tensors nest two calls. Inside SRCore the closures are inlined; across
// modules each call costs tens of nanoseconds, once per kernel call, never per element.

public func withPointers<Result>(
    _ a: Tensor, _ b: Tensor,
    _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> Result
) rethrows -> Result {
    try a.withUnsafeMutablePointer { a in try b.withUnsafeMutablePointer { b in try body(a, b) } }
}

public func withPointers<Result>(
    _ a: Tensor, _ b: Tensor, _ c: Tensor,
    _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> Result
) rethrows -> Result {
    try a.withUnsafeMutablePointer { a in try withPointers(b, c) { b, c in try body(a, b, c) } }
}

public func withPointers<Result>(
    _ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: Tensor,
    _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
             UnsafeMutablePointer<Float>) throws -> Result
) rethrows -> Result {
    try withPointers(a, b) { a, b in try withPointers(c, d) { c, d in try body(a, b, c, d) } }
}

/// The memory of `tensor`, or nil when there is no tensor.
public func withOptionalPointer<Result>(
    _ tensor: Tensor?, _ body: (UnsafeMutablePointer<Float>?) throws -> Result
) rethrows -> Result {
    guard let tensor else { return try body(nil) }
    return try tensor.withUnsafeMutablePointer { try body($0) }
}

public func withPointers<Result>(
    optional a: Tensor?, _ b: Tensor,
    _ body: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>) throws -> Result
) rethrows -> Result {
    try withOptionalPointer(a) { a in try b.withUnsafeMutablePointer { b in try body(a, b) } }
}

public func withPointers<Result>(
    optional a: Tensor?, _ b: Tensor, _ c: Tensor,
    _ body: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> Result
) rethrows -> Result {
    try withOptionalPointer(a) { a in try withPointers(b, c) { b, c in try body(a, b, c) } }
}

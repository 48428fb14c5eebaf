// Contiguous float spans walked in SIMD blocks of 16 (four SSE or two AVX registers), with a
// scalar tail. Sums accumulate in float blocks over one span (a plane of a few thousand values at
// most, relative error about 1e-7 * sqrt(span / 16)) and the callers add spans up in double, so
// results stay as accurate as a double loop while the inner loops vectorise. Batch norm's span
// passes are the per-ISA C kernels of Sources/CKernels/norm_body.h.

typealias FloatBlock = SIMD16<Float>
let floatBlockWidth = 16

@inline(__always)
func loadBlock(_ pointer: UnsafePointer<Float>, _ index: Int) -> FloatBlock {
    UnsafeRawPointer(pointer + index).loadUnaligned(as: FloatBlock.self)
}

@inline(__always)
func storeBlock(_ value: FloatBlock, _ pointer: UnsafeMutablePointer<Float>, _ index: Int) {
    UnsafeMutableRawPointer(pointer + index).storeBytes(of: value, as: FloatBlock.self)
}

/// The index where the scalar tail of a span of `count` floats starts.
@inline(__always)
func blockedEnd(_ count: Int) -> Int { count - count % floatBlockWidth }

/// sum x[i] over one span.
@inline(__always)
func spanSum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = FloatBlock()
    let end = blockedEnd(count)
    var i = 0
    while i < end {
        accumulator += loadBlock(x, i)
        i += floatBlockWidth
    }
    var sum = accumulator.sum()
    while i < count {
        sum += x[i]
        i += 1
    }
    return sum
}

/// No NaN or infinity among `count` floats: x * 0 is NaN exactly for those, and a sum of the
/// products stays 0 otherwise. Vectorised, split over the available threads.
public func allFinite(_ values: UnsafePointer<Float>, count: Int) -> Bool {
    let probe = chunkedSum(count, work: count, chunk: 1 << 16) { range in
        var accumulator = FloatBlock(), i = range.lowerBound
        let end = range.lowerBound + blockedEnd(range.count)
        while i < end {
            accumulator += loadBlock(values, i) * 0
            i += floatBlockWidth
        }
        var sum = accumulator.sum()
        for j in i..<range.upperBound { sum += values[j] * 0 }
        return sum
    }
    return probe == 0
}

// Bicubic resizing as MATLAB's imresize computes it (and BasicSR's matlab_functions.imresize,
// the SR community's convention for making LR images): cubic kernel with a = -0.5; when
// shrinking, the kernel is stretched by 1/scale (antialiasing); each output sample's weights are
// normalised to sum to 1; borders are mirrored symmetrically; the height is resized first, then
// the width. Output size is ceil(input x scale).

import Foundation

/// Weights and source indices for resizing one dimension from `inLength` to `outLength`.
public struct ResizeTaps: Sendable {
    public let inLength: Int
    public let outLength: Int
    /// Taps per output sample.
    public let taps: Int
    /// outLength x taps source indices (0-based, already mirrored into [0, inLength)).
    public let indices: [Int32]
    /// outLength x taps weights, each row summing to 1.
    public let weights: [Float]

    static func cubic(_ x: Double) -> Double {
        let a = abs(x), a2 = a * a, a3 = a2 * a
        if a <= 1 { return 1.5 * a3 - 2.5 * a2 + 1 }
        if a <= 2 { return -0.5 * a3 + 2.5 * a2 - 4 * a + 2 }
        return 0
    }

    public init(inLength: Int, outLength: Int, scale: Double, antialiasing: Bool = true) {
        self.inLength = inLength
        self.outLength = outLength
        let shrinking = scale < 1 && antialiasing
        let kernelWidth = shrinking ? 4 / scale : 4
        let taps = Int(kernelWidth.rounded(.up)) + 2
        self.taps = taps
        var indices = [Int32](repeating: 0, count: outLength * taps)
        var weights = [Float](repeating: 0, count: outLength * taps)
        var row = [Double](repeating: 0, count: taps)
        for x in 0..<outLength {
            // MATLAB's 1-based coordinates: output x+1 maps to input position u.
            let u = Double(x + 1) / scale + 0.5 * (1 - 1 / scale)
            let left = Int((u - kernelWidth / 2).rounded(.down))
            var sum = 0.0
            for t in 0..<taps {
                let distance = u - Double(left + t)
                row[t] = shrinking ? scale * Self.cubic(distance * scale) : Self.cubic(distance)
                sum += row[t]
            }
            for t in 0..<taps {
                var index = left + t  // 1-based
                // symmetric mirror: 0 -> 1, -1 -> 2, ...; in+1 -> in, in+2 -> in-1, ...
                let period = 2 * inLength
                index = ((index - 1) % period + period) % period + 1
                if index > inLength { index = period + 1 - index }
                indices[x * taps + t] = Int32(index - 1)
                weights[x * taps + t] = Float(row[t] / sum)
            }
        }
        self.indices = indices
        self.weights = weights
    }
}

/// Resizes planar float images (C,H,W) by `scale` with MATLAB's bicubic; the tap tables are
/// computed once per size and reused.
public struct BicubicResizer: Sendable {
    public let inHeight: Int, inWidth: Int
    public let outHeight: Int, outWidth: Int
    private let rows: ResizeTaps, columns: ResizeTaps

    public init(inHeight: Int, inWidth: Int, scale: Double, antialiasing: Bool = true) {
        self.inHeight = inHeight
        self.inWidth = inWidth
        outHeight = Int((Double(inHeight) * scale).rounded(.up))
        outWidth = Int((Double(inWidth) * scale).rounded(.up))
        rows = ResizeTaps(inLength: inHeight, outLength: outHeight, scale: scale, antialiasing: antialiasing)
        columns = ResizeTaps(inLength: inWidth, outLength: outWidth, scale: scale, antialiasing: antialiasing)
    }

    /// input (C, inHeight, inWidth) -> output (C, outHeight, outWidth); `scratch` needs
    /// outHeight x inWidth floats.
    public func resize(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, channels: Int,
                       scratch: UnsafeMutablePointer<Float>) {
        resize(input, rows: 0..<outHeight, output, channels: channels, scratch: scratch)
    }

    /// Output rows `band` only (a band of a large result, the same values as the whole resize):
    /// input (C, inHeight, inWidth) -> output (C, band.count, outWidth); `scratch` needs
    /// band.count x inWidth floats.
    public func resize(_ input: UnsafePointer<Float>, rows band: Range<Int>, _ output: UnsafeMutablePointer<Float>, channels: Int,
                       scratch: UnsafeMutablePointer<Float>) {
        let bandRows = band.count
        rows.indices.withUnsafeBufferPointer { rowIndex in
            rows.weights.withUnsafeBufferPointer { rowWeight in
                columns.indices.withUnsafeBufferPointer { columnIndex in
                    columns.weights.withUnsafeBufferPointer { columnWeight in
                        for c in 0..<channels {
                            let source = input + c * inHeight * inWidth
                            // Height first: scratch (band rows, inWidth).
                            for y in band {
                                let target = scratch + (y - band.lowerBound) * inWidth
                                target.update(repeating: 0, count: inWidth)
                                for t in 0..<rows.taps {
                                    let weight = rowWeight[y * rows.taps + t]
                                    if weight == 0 { continue }
                                    let line = source + Int(rowIndex[y * rows.taps + t]) * inWidth
                                    for x in 0..<inWidth { target[x] += weight * line[x] }
                                }
                            }
                            // Then the width: output (band rows, outWidth).
                            let plane = output + c * bandRows * outWidth
                            for y in 0..<bandRows {
                                let line = scratch + y * inWidth
                                for x in 0..<outWidth {
                                    var sum: Float = 0
                                    for t in 0..<columns.taps {
                                        sum += columnWeight[x * columns.taps + t] * line[Int(columnIndex[x * columns.taps + t])]
                                    }
                                    plane[y * outWidth + x] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Convenience for tests and tools: resize a [C*H*W] array.
    public func resize(_ input: [Float], channels: Int) -> [Float] {
        precondition(input.count == channels * inHeight * inWidth)
        var output = [Float](repeating: 0, count: channels * outHeight * outWidth)
        var scratch = [Float](repeating: 0, count: outHeight * inWidth)
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                scratch.withUnsafeMutableBufferPointer { resize(source.baseAddress!, target.baseAddress!, channels: channels, scratch: $0.baseAddress!) }
            }
        }
        return output
    }
}

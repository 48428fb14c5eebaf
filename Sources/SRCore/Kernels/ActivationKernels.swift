// Pointwise activations, vectorised and split over the available threads (ActivationReference.swift
// has the plain loops they are tested against). Forward: y from x. Backward: inputGrad =
// f'(x) * outputGrad (overwritten); parameter gradients are added to.

import Foundation

// The span loops are the active path's C kernels (Sources/CKernels/norm_body.h): a LeakyReLU
// is the batch-norm epilogue with scale 1 and shift 0.

/// y = x > 0 ? x : slope * x over one span.
@inline(__always)
func spanLeaky(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, slope: Float) {
    KernelPath.kernels.pointee.affine_activate(x, count, 1, 0, slope, y)
}

/// dx = x > 0 ? dy : slope * dy over one span.
@inline(__always)
func spanLeakyGradient(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                       count: Int, slope: Float) {
    KernelPath.kernels.pointee.norm_input_grad(dy, x, count, 0, 1, 0, slope, 1, 0, 0, dx)
}

/// sum over x <= 0 of dy * x over one span (a PReLU slope's gradient).
@inline(__always)
func spanNegativeProductSum(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int) -> Float {
    var sums: (Float, Float, Float) = (0, 0, 0)
    withUnsafeMutablePointer(to: &sums) {
        $0.withMemoryRebound(to: Float.self, capacity: 3) {
            KernelPath.kernels.pointee.norm_grad_sums(dy, x, count, 0, 1, 0, 1, $0)
        }
    }
    return sums.2
}

/// PReLU with one slope per channel. x, y (N,C,H,W); slope (C).
public func preluForward(output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
                         slope: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int) {
    forEachRange(batch * channels, work: 2 * batch * channels * plane) { planes in
        for p in planes {
            spanLeaky(y + p * plane, x + p * plane, count: plane, slope: slope[p % channels])
        }
    }
}

/// x, outputGrad, inputGrad (N,C,H,W); slope, slopeGrad (C).
public func preluBackward(inputGrad: UnsafeMutablePointer<Float>?, slopeGrad: UnsafeMutablePointer<Float>?,
                          outputGrad dy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                          slope: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int) {
    forEachRange(channels, work: 3 * batch * channels * plane) { range in
        for c in range {
            var sum = 0.0
            for n in 0..<batch {
                let offset = (n * channels + c) * plane
                if slopeGrad != nil { sum += Double(spanNegativeProductSum(dy + offset, x + offset, count: plane)) }
                if let inputGrad { spanLeakyGradient(inputGrad + offset, dy + offset, x + offset, count: plane, slope: slope[c]) }
            }
            slopeGrad?[c] += Float(sum)
        }
    }
}

/// LeakyReLU (negativeSlope 0.2 in SRGAN's discriminator); ReLU is negativeSlope 0. x, y (count).
public func leakyReLUForward(output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
                             count: Int, negativeSlope: Float) {
    forEachRange(count, work: 2 * count) { range in
        spanLeaky(y + range.lowerBound, x + range.lowerBound, count: range.count, slope: negativeSlope)
    }
}

public func leakyReLUBackward(inputGrad: UnsafeMutablePointer<Float>, outputGrad dy: UnsafePointer<Float>,
                              input x: UnsafePointer<Float>, count: Int, negativeSlope: Float) {
    forEachRange(count, work: 3 * count) { range in
        let start = range.lowerBound
        spanLeakyGradient(inputGrad + start, dy + start, x + start, count: range.count, slope: negativeSlope)
    }
}

/// Numerically stable logistic: never evaluates exp of a large positive number.
@inline(__always) public func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 {
        return 1 / (1 + expf(-x))
    }
    let e = expf(x)
    return e / (1 + e)
}

public func sigmoidForward(output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = stableSigmoid(x[i]) }
}

/// Uses the forward output: dy/dx = y (1 - y).
public func sigmoidBackward(inputGrad: UnsafeMutablePointer<Float>, outputGrad dy: UnsafePointer<Float>,
                            output y: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { inputGrad[i] = dy[i] * y[i] * (1 - y[i]) }
}

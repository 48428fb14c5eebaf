// Pointwise activations. Forward: y from x. Backward: inputGrad = f'(x) * outputGrad
// (overwritten); parameter gradients are added to.

import Foundation

/// PReLU with one slope per channel. x, y (N,C,H,W); slope (C).
public func preluForward(output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
                         slope: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int) {
    for n in 0..<batch {
        for c in 0..<channels {
            let a = slope[c]
            let base = (n * channels + c) * plane
            for i in base..<(base + plane) { y[i] = x[i] > 0 ? x[i] : a * x[i] }
        }
    }
}

public func preluBackward(inputGrad: UnsafeMutablePointer<Float>?, slopeGrad: UnsafeMutablePointer<Float>?,
                          outputGrad dy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                          slope: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int) {
    for n in 0..<batch {
        for c in 0..<channels {
            let a = slope[c]
            let base = (n * channels + c) * plane
            if let slopeGrad {
                var sum: Float = 0
                for i in base..<(base + plane) where x[i] <= 0 { sum += dy[i] * x[i] }
                slopeGrad[c] += sum
            }
            if let inputGrad {
                for i in base..<(base + plane) { inputGrad[i] = x[i] > 0 ? dy[i] : a * dy[i] }
            }
        }
    }
}

/// LeakyReLU (negativeSlope 0.2 in SRGAN's discriminator); ReLU is negativeSlope 0.
public func leakyReLUForward(output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
                             count: Int, negativeSlope: Float) {
    for i in 0..<count { y[i] = x[i] > 0 ? x[i] : negativeSlope * x[i] }
}

public func leakyReLUBackward(inputGrad: UnsafeMutablePointer<Float>, outputGrad dy: UnsafePointer<Float>,
                              input x: UnsafePointer<Float>, count: Int, negativeSlope: Float) {
    for i in 0..<count { inputGrad[i] = x[i] > 0 ? dy[i] : negativeSlope * dy[i] }
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

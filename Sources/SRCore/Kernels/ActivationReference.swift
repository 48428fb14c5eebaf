// The plain reference loops for PReLU and LeakyReLU (ActivationKernels.swift has the fast ones;
// tests compare the two). Backward: inputGrad = f'(x) * outputGrad (overwritten); parameter
// gradients are added to.

/// PReLU with one slope per channel. x, y (N,C,H,W); slope (C).
public func preluForwardReference(output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
                                  slope: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int) {
    for n in 0..<batch {
        for c in 0..<channels {
            let a = slope[c]
            let base = (n * channels + c) * plane
            for i in base..<(base + plane) { y[i] = x[i] > 0 ? x[i] : a * x[i] }
        }
    }
}

public func preluBackwardReference(inputGrad: UnsafeMutablePointer<Float>?, slopeGrad: UnsafeMutablePointer<Float>?,
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
public func leakyReLUForwardReference(output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
                                      count: Int, negativeSlope: Float) {
    for i in 0..<count { y[i] = x[i] > 0 ? x[i] : negativeSlope * x[i] }
}

public func leakyReLUBackwardReference(inputGrad: UnsafeMutablePointer<Float>, outputGrad dy: UnsafePointer<Float>,
                                       input x: UnsafePointer<Float>, count: Int, negativeSlope: Float) {
    for i in 0..<count { inputGrad[i] = x[i] > 0 ? dy[i] : negativeSlope * dy[i] }
}


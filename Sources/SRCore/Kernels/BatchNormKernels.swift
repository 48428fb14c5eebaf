// Batch normalisation over (N,H,W) per channel, as torch.nn.BatchNorm2d computes it.

import Foundation

/// Training mode. x, y (N,C,H,W); gamma, beta (C). Writes y and, per channel, the batch mean and
/// 1/sqrt(biased var + eps) that backward needs; updates the running statistics with `momentum`
/// using the unbiased variance (n/(n-1)), as PyTorch does.
public func batchNormForwardTraining(
    output y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    invStd: UnsafeMutablePointer<Float>, runningMean: UnsafeMutablePointer<Float>,
    runningVar: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    batch: Int, channels: Int, plane: Int, eps: Float, momentum: Float
) {
    let reduced = batch * plane
    for c in 0..<channels {
        var sum = 0.0
        for n in 0..<batch {
            let p = x + (n * channels + c) * plane
            for i in 0..<plane { sum += Double(p[i]) }
        }
        let mu = sum / Double(reduced)
        var squares = 0.0
        for n in 0..<batch {
            let p = x + (n * channels + c) * plane
            for i in 0..<plane {
                let d = Double(p[i]) - mu
                squares += d * d
            }
        }
        let variance = squares / Double(reduced)
        let inv = Float(1 / (variance + Double(eps)).squareRoot())
        mean[c] = Float(mu)
        invStd[c] = inv
        let unbiased = reduced > 1 ? variance * Double(reduced) / Double(reduced - 1) : variance
        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * Float(mu)
        runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(unbiased)
        let scale = gamma[c] * inv
        let shift = beta[c] - Float(mu) * scale
        for n in 0..<batch {
            let source = x + (n * channels + c) * plane
            let target = y + (n * channels + c) * plane
            for i in 0..<plane { target[i] = source[i] * scale + shift }
        }
    }
}

/// Evaluation mode: y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta.
public func batchNormForwardInference(
    output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
    runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    batch: Int, channels: Int, plane: Int, eps: Float
) {
    for c in 0..<channels {
        let scale = gamma[c] / (runningVar[c] + eps).squareRoot()
        let shift = beta[c] - runningMean[c] * scale
        for n in 0..<batch {
            let source = x + (n * channels + c) * plane
            let target = y + (n * channels + c) * plane
            for i in 0..<plane { target[i] = source[i] * scale + shift }
        }
    }
}

/// Backward of either mode, given the per-channel mean and invStd the forward used.
/// gammaGrad, betaGrad (C) are added to and inputGrad (N,C,H,W) overwritten, each when non-nil.
/// Training mode (statistics depend on x):
///   dx = gamma*invStd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)),  M = N*H*W
/// Evaluation mode (statistics are constants): dx = gamma*invStd*dy.
public func batchNormBackward(
    inputGrad: UnsafeMutablePointer<Float>?, gammaGrad: UnsafeMutablePointer<Float>?,
    betaGrad: UnsafeMutablePointer<Float>?, outputGrad dy: UnsafePointer<Float>,
    input x: UnsafePointer<Float>, mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, batchStatistics: Bool
) {
    let reduced = Float(batch * plane)
    for c in 0..<channels {
        let mu = mean[c], inv = invStd[c]
        var sumDy: Float = 0, sumDyXhat: Float = 0
        for n in 0..<batch {
            let g = dy + (n * channels + c) * plane
            let p = x + (n * channels + c) * plane
            for i in 0..<plane {
                sumDy += g[i]
                sumDyXhat += g[i] * (p[i] - mu) * inv
            }
        }
        gammaGrad?[c] += sumDyXhat
        betaGrad?[c] += sumDy
        guard let inputGrad else { continue }
        let scale = gamma[c] * inv
        for n in 0..<batch {
            let g = dy + (n * channels + c) * plane
            let p = x + (n * channels + c) * plane
            let target = inputGrad + (n * channels + c) * plane
            if batchStatistics {
                let k = scale / reduced
                for i in 0..<plane {
                    let xhat = (p[i] - mu) * inv
                    target[i] = k * (reduced * g[i] - sumDy - xhat * sumDyXhat)
                }
            } else {
                for i in 0..<plane { target[i] = scale * g[i] }
            }
        }
    }
}

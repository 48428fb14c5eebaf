// Batch normalisation over (N,H,W) per channel, as torch.nn.BatchNorm2d computes it: the plain
// reference loops (double sums, one channel at a time). BatchNormKernels.swift holds the fast,
// fused kernels the layers use; tests compare the two.

import Foundation

/// Training mode. x, y (N,C,H,W); gamma, beta (C). Writes y and, per channel, the batch mean and
/// 1/sqrt(biased var + eps) that backward needs; updates the running statistics with `momentum`
/// using the unbiased variance (n/(n-1)), as PyTorch does. With `reduce`, the statistics are those
/// of the global batch over all ranks (sums of x and x^2 in double, all-reduced); returns the
/// number of values per channel the statistics cover.
@discardableResult
public func batchNormForwardTrainingReference(
    output y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    invStd: UnsafeMutablePointer<Float>, runningMean: UnsafeMutablePointer<Float>,
    runningVar: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    batch: Int, channels: Int, plane: Int, eps: Float, momentum: Float,
    reduce: StatisticsReducer? = nil
) -> Int {
    var reduced = batch * plane
    var means = [Double](repeating: 0, count: channels), variances = [Double](repeating: 0, count: channels)
    if let reduce {
        // sums[c] = sum x, sums[C + c] = sum x^2, sums[2C] = count; then all ranks' totals.
        var sums = [Double](repeating: 0, count: 2 * channels + 1)
        for c in 0..<channels {
            var s1 = 0.0, s2 = 0.0
            for n in 0..<batch {
                let p = x + (n * channels + c) * plane
                for i in 0..<plane {
                    let v = Double(p[i])
                    s1 += v
                    s2 += v * v
                }
            }
            sums[c] = s1
            sums[channels + c] = s2
        }
        sums[2 * channels] = Double(reduced)
        sums.withUnsafeMutableBufferPointer { reduce($0.baseAddress!, $0.count) }
        reduced = Int(sums[2 * channels])
        for c in 0..<channels {
            means[c] = sums[c] / Double(reduced)
            variances[c] = max(sums[channels + c] / Double(reduced) - means[c] * means[c], 0)
        }
    } else {
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
            means[c] = mu
            variances[c] = squares / Double(reduced)
        }
    }
    for c in 0..<channels {
        let mu = means[c], variance = variances[c]
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
    return reduced
}

/// Evaluation mode: y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta.
public func batchNormForwardInferenceReference(
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
///   dx = gamma*invStd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)),  M = values per channel
/// where, with `reduce`, the two sums and M are those of the global batch (synchronised BN; each
/// rank's dy comes from its own loss, and the sums add them up, as PyTorch's SyncBatchNorm does).
/// Evaluation mode (statistics are constants): dx = gamma*invStd*dy.
public func batchNormBackwardReference(
    inputGrad: UnsafeMutablePointer<Float>?, gammaGrad: UnsafeMutablePointer<Float>?,
    betaGrad: UnsafeMutablePointer<Float>?, outputGrad dy: UnsafePointer<Float>,
    input x: UnsafePointer<Float>, mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, batchStatistics: Bool,
    reduce: StatisticsReducer? = nil, reducedCount: Int? = nil
) {
    var sums = [Double](repeating: 0, count: 2 * channels)   // sum dy, then sum dy*xhat
    for c in 0..<channels {
        let mu = mean[c], inv = invStd[c]
        var sumDy = 0.0, sumDyXhat = 0.0
        for n in 0..<batch {
            let g = dy + (n * channels + c) * plane
            let p = x + (n * channels + c) * plane
            for i in 0..<plane {
                sumDy += Double(g[i])
                sumDyXhat += Double(g[i] * (p[i] - mu) * inv)
            }
        }
        sums[c] = sumDy
        sums[channels + c] = sumDyXhat
        gammaGrad?[c] += Float(sumDyXhat)   // parameter gradients stay local: the all-reduce of
        betaGrad?[c] += Float(sumDy)         // the gradient buffer averages them later
    }
    guard let inputGrad else { return }
    var reduced = Float(batch * plane)
    if batchStatistics, let reduce {
        sums.withUnsafeMutableBufferPointer { reduce($0.baseAddress!, $0.count) }
        reduced = Float(reducedCount ?? batch * plane)
    }
    for c in 0..<channels {
        let mu = mean[c], inv = invStd[c]
        let sumDy = Float(sums[c]), sumDyXhat = Float(sums[channels + c])
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

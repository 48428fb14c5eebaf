// Batch normalisation over (N,H,W) per channel, as torch.nn.BatchNorm2d computes it, fused with
// the pointwise activation that follows it in the SRGAN networks (PReLU in the generator's
// blocks, LeakyReLU(0.2) in the discriminator's). The BN output z = x * scale + shift is never
// stored: the activation is applied as it is written, and backward recomputes z from x.
// Channels are split over the available threads; within a channel, every pass walks contiguous
// planes with the active ISA path's C kernels (Sources/CKernels/norm_body.h), with plane sums
// added up in double. BatchNormReference.swift holds the
// plain loops these are tested against.

/// Sums a buffer of doubles across ranks in place (synchronised batch norm); nil on one process.
public typealias StatisticsReducer = (UnsafeMutablePointer<Double>, Int) -> Void

/// The activation applied to a batch norm's output z, per channel c: y = z > 0 ? z : slope(c) * z.
public enum ChannelActivation {
    case identity
    /// LeakyReLU(negativeSlope); ReLU is negativeSlope 0.
    case leakyReLU(negativeSlope: Float)
    /// torch.nn.PReLU(C): one learnable slope per channel, (C).
    case prelu(slopes: UnsafePointer<Float>)

    @inline(__always)
    func negativeSlope(_ channel: Int) -> Float {
        switch self {
        case .identity: return 1
        case .leakyReLU(let slope): return slope
        case .prelu(let slopes): return slopes[channel]
        }
    }
}

/// y = act(x * scale + shift) over one span (the active path's C kernel, norm_body.h).
@inline(__always)
private func writeAffineActivated(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int,
                                  scale: Float, shift: Float, slope: Float) {
    KernelPath.kernels.pointee.affine_activate(x, count, scale, shift, slope, y)
}

/// Training mode. x, y (N,C,H,W); gamma, beta (C); y = act(BN(x)). Writes, per channel, the batch
/// mean and 1/sqrt(biased var + eps) that backward needs; updates the running statistics with
/// `momentum` using the unbiased variance (n/(n-1)), as PyTorch does. With `reduce`, the
/// statistics are those of the global batch over all ranks (sums of x and x^2 in double,
/// all-reduced); returns the number of values per channel the statistics cover.
@discardableResult
public func batchNormForwardTraining(
    output y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    invStd: UnsafeMutablePointer<Float>, runningMean: UnsafeMutablePointer<Float>,
    runningVar: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, activation: ChannelActivation = .identity,
    batch: Int, channels: Int, plane: Int, eps: Float, momentum: Float,
    reduce: StatisticsReducer? = nil
) -> Int {
    let work = batch * channels * plane
    let kernels = KernelPath.kernels.pointee
    var reduced = batch * plane
    // Once a channel's mean and biased variance are known: its statistics, then its output.
    func finish(_ c: Int, mu: Double, variance: Double, count: Int) {
        let inv = Float(1 / (variance + Double(eps)).squareRoot())
        mean[c] = Float(mu)
        invStd[c] = inv
        let unbiased = count > 1 ? variance * Double(count) / Double(count - 1) : variance
        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * Float(mu)
        runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(unbiased)
        let scale = gamma[c] * inv, shift = beta[c] - Float(mu) * scale
        let slope = activation.negativeSlope(c)
        for n in 0..<batch {
            let offset = (n * channels + c) * plane
            writeAffineActivated(y + offset, x + offset, count: plane, scale: scale, shift: shift, slope: slope)
        }
    }
    if let reduce {
        // sums[c] = sum x, sums[C + c] = sum x^2, sums[2C] = count; then all ranks' totals.
        var sums = [Double](repeating: 0, count: 2 * channels + 1)
        sums.withUnsafeMutableBufferPointer { buffer in
            let sums = buffer.baseAddress!
            forEachRange(channels, work: work) { range in
                for c in range {
                    var s1 = 0.0, s2 = 0.0
                    for n in 0..<batch {
                        var pair: (Float, Float) = (0, 0)
                        withUnsafeMutablePointer(to: &pair) {
                            $0.withMemoryRebound(to: Float.self, capacity: 2) {
                                kernels.span_sum_and_squares(x + (n * channels + c) * plane, plane, $0)
                            }
                        }
                        s1 += Double(pair.0)
                        s2 += Double(pair.1)
                    }
                    sums[c] = s1
                    sums[channels + c] = s2
                }
            }
            sums[2 * channels] = Double(reduced)
            reduce(sums, 2 * channels + 1)
            reduced = Int(sums[2 * channels])
            let count = reduced
            forEachRange(channels, work: 2 * work) { range in
                for c in range {
                    let mu = sums[c] / Double(count)
                    finish(c, mu: mu, variance: max(sums[channels + c] / Double(count) - mu * mu, 0), count: count)
                }
            }
        }
    } else {
        // Two passes per channel (sum, then squared deviations) while its planes are in cache.
        let count = reduced
        forEachRange(channels, work: 3 * work) { range in
            for c in range {
                var sum = 0.0
                for n in 0..<batch { sum += Double(kernels.span_sum(x + (n * channels + c) * plane, plane)) }
                let mu = sum / Double(count)
                var squares = 0.0
                for n in 0..<batch {
                    squares += Double(kernels.span_squared_deviation(x + (n * channels + c) * plane, plane, Float(mu)))
                }
                finish(c, mu: mu, variance: squares / Double(count), count: count)
            }
        }
    }
    return reduced
}

/// Evaluation mode: y = act(gamma * (x - runningMean) / sqrt(runningVar + eps) + beta).
/// x, y (N,C,H,W); the rest (C).
public func batchNormForwardInference(
    output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
    runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, activation: ChannelActivation = .identity,
    batch: Int, channels: Int, plane: Int, eps: Float
) {
    forEachRange(channels, work: 2 * batch * channels * plane) { range in
        for c in range {
            let scale = gamma[c] * (1 / (runningVar[c] + eps).squareRoot())
            let shift = beta[c] - runningMean[c] * scale
            let slope = activation.negativeSlope(c)
            for n in 0..<batch {
                let offset = (n * channels + c) * plane
                writeAffineActivated(y + offset, x + offset, count: plane, scale: scale, shift: shift, slope: slope)
            }
        }
    }
}

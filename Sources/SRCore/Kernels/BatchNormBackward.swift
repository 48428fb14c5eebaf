// Backward of batch norm fused with its activation (BatchNormKernels.swift has the forward).
// With z = x * scale + shift the BN output (scale = gamma * invStd, shift = beta - mean * scale,
// recomputed from x, never stored) and y = act(z):
//   g  = dL/dz = dy * (z > 0 ? 1 : slope)          slopeGrad += sum over z <= 0 of dy * z (PReLU)
//   betaGrad += sum g,  gammaGrad += sum g * xhat,  xhat = (x - mean) * invStd
// Training mode (statistics depend on x), M values per channel:
//   dx = scale/M * (M g - sum g - xhat sum(g xhat))  =  scale g + b + k (x - mean)
// where, with `reduce`, the two sums and M are those of the global batch (synchronised BN; each
// rank's dy comes from its own loss, and the sums add them up, as PyTorch's SyncBatchNorm does);
// parameter gradients stay local (the gradient all-reduce averages them later).
// Evaluation mode (statistics are constants): dx = scale g.

// The span passes are the active ISA path's C kernels (Sources/CKernels/norm_body.h).

/// Per-channel sums of one span: (sum g, sum g (x - mean), sum over z <= 0 of dy z).
@inline(__always)
private func spanGradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mean: Float,
                              scale: Float, shift: Float, slope: Float) -> (Float, Float, Float) {
    var sums: (Float, Float, Float) = (0, 0, 0)
    withUnsafeMutablePointer(to: &sums) {
        $0.withMemoryRebound(to: Float.self, capacity: 3) {
            KernelPath.kernels.pointee.norm_grad_sums(dy, x, count, mean, scale, shift, slope, $0)
        }
    }
    return sums
}

/// dx = a g + b + k (x - mean) over one span (k = b = 0 in evaluation mode).
@inline(__always)
private func spanInputGradient(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                               count: Int, mean: Float, scale: Float, shift: Float, slope: Float,
                               a: Float, b: Float, k: Float) {
    KernelPath.kernels.pointee.norm_input_grad(dy, x, count, mean, scale, shift, slope, a, b, k, dx)
}

/// x, dy, inputGrad (N,C,H,W); mean, invStd, gamma, beta, gammaGrad, betaGrad, slopeGrad (C).
/// gammaGrad, betaGrad and slopeGrad (PReLU only) are added to, inputGrad overwritten, each when
/// non-nil. `mean` and `invStd` are the ones the forward used (batch or running statistics).
public func batchNormBackward(
    inputGrad: UnsafeMutablePointer<Float>?, gammaGrad: UnsafeMutablePointer<Float>?,
    betaGrad: UnsafeMutablePointer<Float>?, slopeGrad: UnsafeMutablePointer<Float>? = nil,
    outputGrad dy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, activation: ChannelActivation = .identity,
    batch: Int, channels: Int, plane: Int, batchStatistics: Bool,
    reduce: StatisticsReducer? = nil, reducedCount: Int? = nil
) {
    let work = batch * channels * plane
    var sums = [Double](repeating: 0, count: 2 * channels)   // sum g, then sum g*xhat
    sums.withUnsafeMutableBufferPointer { buffer in
        let sums = buffer.baseAddress!
        let local = Double(batch * plane)
        let globalSums = inputGrad != nil && batchStatistics && reduce != nil
        // The sums of channel c; then its parameter gradients.
        func gradientSums(_ c: Int) {
            let scale = gamma[c] * invStd[c], shift = beta[c] - mean[c] * scale
            let slope = activation.negativeSlope(c)
            var sumG = 0.0, sumGCentered = 0.0, sumSlope = 0.0
            for n in 0..<batch {
                let offset = (n * channels + c) * plane
                let (g, centered, slopePart) = spanGradientSums(dy + offset, x + offset, count: plane, mean: mean[c],
                                                               scale: scale, shift: shift, slope: slope)
                sumG += Double(g)
                sumGCentered += Double(centered)
                sumSlope += Double(slopePart)
            }
            sums[c] = sumG
            sums[channels + c] = sumGCentered * Double(invStd[c])
            gammaGrad?[c] += Float(sums[channels + c])
            betaGrad?[c] += Float(sumG)
            if case .prelu = activation { slopeGrad?[c] += Float(sumSlope) }
        }
        // Channel c's input gradient from its (possibly global) sums over `count` values.
        func inputGradient(_ c: Int, _ inputGrad: UnsafeMutablePointer<Float>, count: Double) {
            let inv = invStd[c], scale = gamma[c] * inv, shift = beta[c] - mean[c] * scale
            let b = batchStatistics ? Float(-Double(scale) * sums[c] / count) : 0
            let k = batchStatistics ? Float(-Double(scale) * Double(inv) * sums[channels + c] / count) : 0
            let slope = activation.negativeSlope(c)
            for n in 0..<batch {
                let offset = (n * channels + c) * plane
                spanInputGradient(inputGrad + offset, dy + offset, x + offset, count: plane, mean: mean[c],
                                  scale: scale, shift: shift, slope: slope, a: scale, b: b, k: k)
            }
        }
        if let inputGrad, !globalSums {
            // One visit per channel: both passes while its planes are in cache.
            forEachRange(channels, work: 3 * work) { range in
                for c in range {
                    gradientSums(c)
                    inputGradient(c, inputGrad, count: local)
                }
            }
            return
        }
        forEachRange(channels, work: 2 * work) { range in
            for c in range { gradientSums(c) }
        }
        guard let inputGrad, let reduce else { return }
        reduce(sums, 2 * channels)
        let count = Double(reducedCount ?? batch * plane)
        forEachRange(channels, work: 3 * work) { range in
            for c in range { inputGradient(c, inputGrad, count: count) }
        }
    }
}

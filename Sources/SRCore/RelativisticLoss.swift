// The relativistic average GAN loss (Jolicoeur-Martineau 2018, as in ESRGAN) on the logits C of
// the discriminator for real (HR) and fake (SR) images, over the GLOBAL batch:
//   a_i = C(x_r,i) - mean_j C(x_f,j)      D_Ra(x_r, x_f) = sigmoid(a_i)
//   b_j = C(x_f,j) - mean_i C(x_r,i)      D_Ra(x_f, x_r) = sigmoid(b_j)
//   L = mean_i BCE(a_i, t_real) + mean_j BCE(b_j, t_fake)
// discriminator: t_real = 1, t_fake = 0 (-E log D_Ra(x_r,x_f) - E log(1 - D_Ra(x_f,x_r)));
// generator:     t_real = 0, t_fake = 1 (-E log(1 - D_Ra(x_r,x_f)) - E log D_Ra(x_f,x_r)).
// With e_a = sigmoid(a) - t_real and e_b = sigmoid(b) - t_fake, the gradient through the means
// included (nothing is detached):
//   dL/dC(x_r,i) = (e_a,i - mean_j e_b,j) / B_r      dL/dC(x_f,j) = (e_b,j - mean_i e_a,i) / B_f
// The means are global: `reduce` sums a few doubles across ranks (the identity on one process),
// called twice, in the same order on every rank. The gradients written are those of the global
// loss times B / B_local, i.e. normalised as a local mean, so that averaging the resulting
// parameter gradients over ranks (what the training step's all-reduce does) gives exactly the
// gradient of the global loss. Micro-batches are simply more entries of `real` and `fake`.

import Foundation

public enum RelativisticLoss {
    public enum Side: Sendable {
        case discriminator, generator

        var targets: (real: Double, fake: Double) { self == .discriminator ? (1, 0) : (0, 1) }
    }

    public struct Result: Sendable {
        /// L over the global batch (the same on every rank).
        public var loss = 0.0
        /// Global means of D_Ra(x_r, x_f) = sigmoid(a) and D_Ra(x_f, x_r) = sigmoid(b).
        public var realOverFake = 0.0
        public var fakeOverReal = 0.0
    }

    /// `real`, `fake`: this rank's logits, one tensor per micro-batch (any shape, one logit per
    /// element). Writes gradScale * (the scaled gradient above) into `realGrads` (optional: the
    /// generator's loss needs no gradient for real images) and `fakeGrads`.
    public static func loss(_ side: Side, real: [Tensor], fake: [Tensor], realGrads: [Tensor]?, fakeGrads: [Tensor]?,
                            gradScale: Float = 1, reduce: (inout [Double]) -> Void) -> Result {
        // Stage 1: the global means of the logits.
        var sums = [0.0, 0.0, 0.0, 0.0]   // sum C_r, sum C_f, count real, count fake
        for t in real { for i in 0..<t.count { sums[0] += Double(t[i]) }; sums[2] += Double(t.count) }
        for t in fake { for i in 0..<t.count { sums[1] += Double(t[i]) }; sums[3] += Double(t.count) }
        let localReal = sums[2], localFake = sums[3]
        reduce(&sums)
        let realCount = sums[2], fakeCount = sums[3]
        let meanReal = sums[0] / realCount, meanFake = sums[1] / fakeCount
        let (tReal, tFake) = side.targets

        // Stage 2: the global means of e_a, e_b, the loss terms and the probabilities.
        var moments = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]   // sum e_a, sum e_b, sum BCE(a), sum BCE(b), sum sig(a), sum sig(b)
        func accumulate(_ logits: [Tensor], shift: Double, target: Double, into index: Int) {
            for t in logits {
                for i in 0..<t.count {
                    let x = Double(t[i]) - shift, p = sigmoid(x)
                    moments[index] += p - target
                    moments[index + 2] += bce(x, target)
                    moments[index + 4] += p
                }
            }
        }
        accumulate(real, shift: meanFake, target: tReal, into: 0)
        accumulate(fake, shift: meanReal, target: tFake, into: 1)
        reduce(&moments)
        let meanErrorReal = moments[0] / realCount, meanErrorFake = moments[1] / fakeCount

        func write(_ logits: [Tensor], _ grads: [Tensor]?, shift: Double, target: Double, other: Double, localCount: Double) {
            guard let grads else { return }
            precondition(grads.count == logits.count, "\(grads.count) gradients for \(logits.count) logit tensors")
            let k = Double(gradScale) / localCount
            for (t, g) in zip(logits, grads) {
                precondition(g.count == t.count, "gradient \(g) for logits \(t)")
                for i in 0..<t.count { g[i] = Float(k * (sigmoid(Double(t[i]) - shift) - target - other)) }
            }
        }
        write(real, realGrads, shift: meanFake, target: tReal, other: meanErrorFake, localCount: localReal)
        write(fake, fakeGrads, shift: meanReal, target: tFake, other: meanErrorReal, localCount: localFake)
        return Result(loss: moments[2] / realCount + moments[3] / fakeCount,
                      realOverFake: moments[4] / realCount, fakeOverReal: moments[5] / fakeCount)
    }

    @inline(__always) static func sigmoid(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }

    /// max(x,0) - x t + log(1 + exp(-|x|)), the stable BCE with logits.
    @inline(__always) static func bce(_ x: Double, _ t: Double) -> Double { max(x, 0) - x * t + log1p(exp(-abs(x))) }
}

// Adam as torch.optim.Adam computes it (single-tensor path, float32 state), over a whole
// network at once: the moments sit beside the values in the network's one allocation
// (NetworkMemory) with the same layout, so the update is one flat loop.
//
//   t += 1
//   g  = grad + weightDecay * p                     (L2, as torch's weight_decay)
//   m  = lerp(m, g, 1 - beta1)                      (torch: exp_avg.lerp_(grad, 1 - beta1))
//   v  = beta2 * v + (1 - beta2) * g * g
//   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Hyper-parameters are doubles (Python floats in PyTorch); the scalars derived from them are
// computed in double and rounded to float once, as ATen does when a float tensor meets a Python
// scalar. (Storing beta2 as a float first would change 1 - beta2 by 1.3e-5 relative.)

import Foundation

public struct AdamSettings: Equatable, Sendable {
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double

    public init(beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }
}

public final class Adam {
    public let settings: AdamSettings
    /// The network memory whose values, gradients and moments (its live bank) this updates.
    public let memory: NetworkMemory
    public var count: Int { memory.layout.parameterCount }
    /// Updates taken so far (PyTorch's `step` in the optimizer state).
    public var step: Int = 0

    /// Adam over `memory`, which must have been prepared for training (its moments).
    public init(memory: NetworkMemory, settings: AdamSettings = AdamSettings()) {
        precondition(memory.layout.sections.moments && memory.layout.hasGradients,
                     "Adam needs a trainable network memory prepared for training (prepareForTraining)")
        self.settings = settings
        self.memory = memory
    }

    /// One update of the live values and moments from the gradients, in place.
    public func update(learningRate: Float) {
        step += 1
        let bank = memory.liveBank
        withExtendedLifetime(memory) {
            memory.withGradients { grads in
                Self.apply(count, bank.values, UnsafePointer(grads.baseAddress!), bank.firstMoment, bank.secondMoment,
                           into: (bank.values, bank.firstMoment, bank.secondMoment), scalars(learningRate: learningRate))
            }
        }
    }

    /// The update written into the memory's spare bank (with a copy of the running statistics),
    /// which then becomes the live one: afterwards the spare bank holds the values, moments and
    /// statistics from before the update, and `revert(step:)` brings them back without a copy (the
    /// GAN step's discriminator update, undone when the generator's update is skipped).
    public func updateKeepingPrevious(learningRate: Float) {
        step += 1
        let live = memory.liveBank, spare = memory.spareBank
        withExtendedLifetime(memory) {
            spare.statistics.update(from: live.statistics, count: memory.layout.statisticsCount)
            memory.withGradients { grads in
                Self.apply(count, live.values, UnsafePointer(grads.baseAddress!), live.firstMoment, live.secondMoment,
                           into: (spare.values, spare.firstMoment, spare.secondMoment), scalars(learningRate: learningRate))
            }
        }
        memory.flipBanks()
    }

    /// Undoes `updateKeepingPrevious`: the previous bank is live again and the step count `step`.
    public func revert(step: Int) {
        memory.flipBanks()
        self.step = step
    }

    /// The step's scalars, computed in double and rounded once (see the header).
    private func scalars(learningRate: Float) -> AdamScalars {
        let t = Double(step)
        let beta1 = settings.beta1, beta2 = settings.beta2
        return AdamScalars(stepSize: Float(Double(learningRate) / (1 - pow(beta1, t))),
                           correction2Sqrt: Float((1 - pow(beta2, t)).squareRoot()),
                           weight1: Float(1 - beta1), keep2: Float(beta2), weight2: Float(1 - beta2),
                           eps: Float(settings.eps), decay: Float(settings.weightDecay))
    }

    /// (pOut, mOut, vOut) = the update of (p, m, v) by grads, count floats each; the outputs may
    /// be the inputs. One flat loop in blocks of 8, split over the available threads. The lerp's
    /// fused multiply-add is computed in double: the product of two floats is exact there and the
    /// sum is rounded twice (to double, then to float), which equals one rounding except at exact
    /// float ties, about one value in 2^29; a hardware FMA is not assumed (the package builds for
    /// baseline x86-64, where a scalar fmaf is a library call).
    private static func apply(_ count: Int, _ p: UnsafeMutablePointer<Float>, _ grads: UnsafePointer<Float>,
                              _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                              into out: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>),
                              _ s: AdamScalars) {
        let (pOut, mOut, vOut) = out
        // Split by whole blocks, so each value takes the same path (block or scalar tail) whatever
        // the thread count: the result is the same bits on every rank and after a resume.
        let blocks = count / 8
        forEachRange(blocks, work: 5 * count) { blockRange in
            var i = blockRange.lowerBound * 8
            let blockEnd = blockRange.upperBound * 8
            while i < blockEnd {
                var g = UnsafeRawPointer(grads + i).loadUnaligned(as: SIMD8<Float>.self)
                var value = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
                var first = UnsafeRawPointer(m + i).loadUnaligned(as: SIMD8<Float>.self)
                var second = UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self)
                if s.decay != 0 { g += s.decay * value }
                let difference = g - first
                if s.weight1 < 0.5 {
                    first = SIMD8<Float>(SIMD8<Double>(first) + Double(s.weight1) * SIMD8<Double>(difference))
                } else {
                    first = SIMD8<Float>(SIMD8<Double>(g) + Double(s.weight1 - 1) * SIMD8<Double>(difference))
                }
                second = second * s.keep2 + (s.weight2 * g) * g
                let denominator = second.squareRoot() / s.correction2Sqrt + s.eps
                value = value + ((-s.stepSize) * first) / denominator
                UnsafeMutableRawPointer(mOut + i).storeBytes(of: first, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(vOut + i).storeBytes(of: second, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(pOut + i).storeBytes(of: value, as: SIMD8<Float>.self)
                i += 8
            }
        }
        let tail = blocks * 8..<count
        if pOut != p {
            (pOut + tail.lowerBound).update(from: p + tail.lowerBound, count: tail.count)
            (mOut + tail.lowerBound).update(from: m + tail.lowerBound, count: tail.count)
            (vOut + tail.lowerBound).update(from: v + tail.lowerBound, count: tail.count)
        }
        updateScalar(pOut, grads, mOut, vOut, s, tail)
    }

    /// The plain loop (ATen's scalar path, with a true fused multiply-add) over the live bank, in
    /// place: the reference the tests compare the fast update with.
    public func updateReference(learningRate: Float) {
        step += 1
        let bank = memory.liveBank
        withExtendedLifetime(memory) {
            memory.withGradients { grads in
                Self.updateScalar(bank.values, UnsafePointer(grads.baseAddress!), bank.firstMoment, bank.secondMoment,
                                  scalars(learningRate: learningRate), 0..<count)
            }
        }
    }

    private static func updateScalar(_ p: UnsafeMutablePointer<Float>, _ grads: UnsafePointer<Float>,
                                     _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                                     _ s: AdamScalars, _ range: Range<Int>) {
        for i in range {
            let g = s.decay == 0 ? grads[i] : grads[i] + s.decay * p[i]
            // lerp as ATen's vectorised kernel: one fused multiply-add
            m[i] = s.weight1 < 0.5
                ? m[i].addingProduct(s.weight1, g - m[i])
                : g.addingProduct(s.weight1 - 1, g - m[i])
            v[i] = v[i] * s.keep2 + (s.weight2 * g) * g      // addcmul: self + (value * t1) * t2
            let denominator = v[i].squareRoot() / s.correction2Sqrt + s.eps
            p[i] = p[i] + ((-s.stepSize) * m[i]) / denominator  // addcdiv: self + (value * t1) / t2
        }
    }
}

/// One step's float scalars: bias-corrected step size, sqrt(1 - beta2^t), the lerp weight
/// 1 - beta1, beta2 and 1 - beta2, eps and the L2 weight decay.
struct AdamScalars {
    let stepSize: Float, correction2Sqrt: Float
    let weight1: Float, keep2: Float, weight2: Float
    let eps: Float, decay: Float
}

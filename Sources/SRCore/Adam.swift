// Adam as torch.optim.Adam computes it (single-tensor path, float32 state), over a whole
// ParameterStore at once: the moments share the store's layout, so the update is one flat loop.
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
    public let count: Int
    /// First and second moments, same layout as the store's values (read them through these
    /// properties at the time of use: `updateKeepingPrevious` swaps the buffers).
    public private(set) var firstMoment: UnsafeMutablePointer<Float>
    public private(set) var secondMoment: UnsafeMutablePointer<Float>
    /// Updates taken so far (PyTorch's `step` in the optimizer state).
    public var step: Int = 0

    public init(parameterCount: Int, settings: AdamSettings = AdamSettings()) {
        self.settings = settings
        self.count = parameterCount
        firstMoment = .allocate(capacity: max(parameterCount, 1))
        secondMoment = .allocate(capacity: max(parameterCount, 1))
        firstMoment.initialize(repeating: 0, count: max(parameterCount, 1))
        secondMoment.initialize(repeating: 0, count: max(parameterCount, 1))
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    /// One update of `store.values` from `store.grads` with learning rate `learningRate`.
    public func update(_ store: ParameterStore, learningRate: Float) {
        precondition(store.count == count && store.trainable, "Adam built for \(count) parameters, store has \(store.count)")
        update(values: store.values, grads: store.grads, learningRate: learningRate)
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

    /// p, grads, and both moments (count). One flat loop in blocks of 8, split over the available
    /// threads. The lerp's fused multiply-add is computed in double: the product of two floats is
    /// exact there and the sum is rounded twice (to double, then to float), which equals one
    /// rounding except at exact float ties, about one value in 2^29; a hardware FMA is not
    /// assumed (the package builds for baseline x86-64, where a scalar fmaf is a library call).
    public func update(values p: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, learningRate: Float) {
        step += 1
        apply(p, grads, firstMoment, secondMoment, into: (p, firstMoment, secondMoment), scalars(learningRate: learningRate))
    }

    /// The update of `store` written into `previous`'s buffers (count floats each), which are
    /// then swapped in: afterwards `previous` holds the values and moments from before the
    /// update, and `revert(store, to: previous, step:)` brings them back without a copy (the
    /// GAN step's discriminator update, undone when the generator's update is skipped).
    public func updateKeepingPrevious(_ store: ParameterStore, learningRate: Float, previous: AdamState) {
        precondition(store.count == count && store.trainable && previous.count == count, "Adam built for \(count) parameters")
        step += 1
        apply(store.values, store.grads, firstMoment, secondMoment,
              into: (previous.values, previous.firstMoment, previous.secondMoment), scalars(learningRate: learningRate))
        swap(store, previous)
    }

    /// Undoes `updateKeepingPrevious`: `previous` is swapped back in and the step count restored.
    public func revert(_ store: ParameterStore, to previous: AdamState, step: Int) {
        swap(store, previous)
        self.step = step
    }

    private func swap(_ store: ParameterStore, _ other: AdamState) {
        store.swapValues(with: &other.values)
        Swift.swap(&firstMoment, &other.firstMoment)
        Swift.swap(&secondMoment, &other.secondMoment)
    }

    /// (pOut, mOut, vOut) = the update of (p, m, v) by grads; the outputs may be the inputs.
    private func apply(_ p: UnsafeMutablePointer<Float>, _ grads: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                       _ v: UnsafeMutablePointer<Float>,
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
        Self.updateScalar(pOut, grads, mOut, vOut, s, tail)
    }

    /// The plain loop (ATen's scalar path, with a true fused multiply-add), for the tail of a
    /// block loop and as the reference the tests compare the fast update with.
    public func updateReference(values p: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, learningRate: Float) {
        step += 1
        Self.updateScalar(p, grads, firstMoment, secondMoment, scalars(learningRate: learningRate), 0..<count)
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

/// Parameter values and Adam moments of one network, `count` floats each: the spare set that
/// `Adam.updateKeepingPrevious` writes into and swaps with the live one. It owns whichever three
/// buffers it holds (a swap exchanges ownership with the store and the optimizer) and frees them
/// when it goes: a class, so there is no copy to free them twice.
public final class AdamState {
    public let count: Int
    public fileprivate(set) var values: UnsafeMutablePointer<Float>
    public fileprivate(set) var firstMoment: UnsafeMutablePointer<Float>
    public fileprivate(set) var secondMoment: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        values = .allocate(capacity: max(count, 1))
        firstMoment = .allocate(capacity: max(count, 1))
        secondMoment = .allocate(capacity: max(count, 1))
        for buffer in [values, firstMoment, secondMoment] { buffer.initialize(repeating: 0, count: max(count, 1)) }
    }

    deinit {
        values.deallocate()
        firstMoment.deallocate()
        secondMoment.deallocate()
    }
}

/// One step's float scalars: bias-corrected step size, sqrt(1 - beta2^t), the lerp weight
/// 1 - beta1, beta2 and 1 - beta2, eps and the L2 weight decay.
struct AdamScalars {
    let stepSize: Float, correction2Sqrt: Float
    let weight1: Float, keep2: Float, weight2: Float
    let eps: Float, decay: Float
}

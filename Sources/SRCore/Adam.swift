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
    /// First and second moments, same layout as the store's values.
    public let firstMoment: UnsafeMutablePointer<Float>
    public let secondMoment: UnsafeMutablePointer<Float>
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

    public func update(values p: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, learningRate: Float) {
        step += 1
        let t = Double(step)
        let beta1 = settings.beta1, beta2 = settings.beta2
        let stepSize = Float(Double(learningRate) / (1 - pow(beta1, t)))
        let correction2Sqrt = Float((1 - pow(beta2, t)).squareRoot())
        let weight1 = Float(1 - beta1)          // lerp weight, < 0.5 for any usual beta1
        let keep2 = Float(beta2), weight2 = Float(1 - beta2)
        let eps = Float(settings.eps), decay = Float(settings.weightDecay)
        let m = firstMoment, v = secondMoment
        for i in 0..<count {
            let g = decay == 0 ? grads[i] : grads[i] + decay * p[i]
            // lerp as ATen's vectorised kernel: one fused multiply-add
            m[i] = weight1 < 0.5
                ? m[i].addingProduct(weight1, g - m[i])
                : g.addingProduct(weight1 - 1, g - m[i])
            v[i] = v[i] * keep2 + (weight2 * g) * g      // addcmul: self + (value * t1) * t2
            let denominator = v[i].squareRoot() / correction2Sqrt + eps
            p[i] = p[i] + ((-stepSize) * m[i]) / denominator  // addcdiv: self + (value * t1) / t2
        }
    }
}

// Losses, each the mean over all elements (PyTorch's reduction="mean"), returning the loss and
// writing dLoss/dPrediction scaled by `gradScale` (1 unless the caller weights the loss).

import Foundation

public enum Loss {
    /// mean((prediction - target)^2); grad = 2 (prediction - target) / count. Vectorised, in
    /// chunks split over the available threads (`mseReference` is the plain loop).
    public static func mse(prediction: Tensor, target: Tensor, grad: Tensor?, gradScale: Float = 1) -> Float {
        precondition(prediction.shape == target.shape, "MSE of \(prediction) against \(target)")
        let count = prediction.count
        let k = 2 * gradScale / Float(count)
        let sum = withPointers(optional: grad, prediction, target) { g, p, t in chunkedSum(count, work: 3 * count) { range in
            var accumulator = FloatBlock(), i = range.lowerBound
            let end = range.lowerBound + blockedEnd(range.count)
            while i < end {
                let d = loadBlock(p, i) - loadBlock(t, i)
                accumulator += d * d
                if let g { storeBlock(k * d, g, i) }
                i += floatBlockWidth
            }
            var sum = accumulator.sum()
            for j in i..<range.upperBound {
                let d = p[j] - t[j]
                sum += d * d
                g?[j] = k * d
            }
            return sum
        } }
        return Float(sum / Double(count))
    }

    /// mean|prediction - target|; grad = sign(prediction - target) / count (0 where equal).
    public static func l1(prediction: Tensor, target: Tensor, grad: Tensor?, gradScale: Float = 1) -> Float {
        precondition(prediction.shape == target.shape, "L1 of \(prediction) against \(target)")
        let count = prediction.count
        let k = gradScale / Float(count)
        let sum = withPointers(optional: grad, prediction, target) { g, p, t in chunkedSum(count, work: 3 * count) { range in
            var accumulator = FloatBlock(), i = range.lowerBound
            let end = range.lowerBound + blockedEnd(range.count)
            let zero = FloatBlock()
            while i < end {
                let d = loadBlock(p, i) - loadBlock(t, i)
                accumulator += d.replacing(with: -d, where: d .< 0)
                if let g {
                    let sign = zero.replacing(with: k, where: d .> 0).replacing(with: -k, where: d .< 0)
                    storeBlock(sign, g, i)
                }
                i += floatBlockWidth
            }
            var sum = accumulator.sum()
            for j in i..<range.upperBound {
                let d = p[j] - t[j]
                sum += abs(d)
                g?[j] = d > 0 ? k : (d < 0 ? -k : 0)
            }
            return sum
        } }
        return Float(sum / Double(count))
    }

    /// Binary cross-entropy on logits against targets in [0,1], in the stable form
    /// max(x,0) - x t + log(1 + exp(-|x|)); grad = (sigmoid(x) - t) / count.
    public static func bceWithLogits(logits: Tensor, targets: Tensor, grad: Tensor?, gradScale: Float = 1) -> Float {
        precondition(logits.shape == targets.shape, "BCE of \(logits) against \(targets)")
        let count = logits.count
        var sum = 0.0
        let k = gradScale / Float(count)
        for i in 0..<count {
            let x = Double(logits[i]), t = Double(targets[i])
            sum += max(x, 0) - x * t + log1p(exp(-abs(x)))
            grad?[i] = k * (stableSigmoid(logits[i]) - targets[i])
        }
        return Float(sum / Double(count))
    }

    /// BCE with logits against a constant target (1 for real, 0 for fake), without a target tensor.
    public static func bceWithLogits(logits: Tensor, target: Float, grad: Tensor?, gradScale: Float = 1) -> Float {
        let targets = Tensor(shape: logits.shape)
        targets.fill(target)
        return bceWithLogits(logits: logits, targets: targets, grad: grad, gradScale: gradScale)
    }

    /// The plain loops of `mse` and `l1`, kept to test them against.
    public static func mseReference(prediction: Tensor, target: Tensor, grad: Tensor?, gradScale: Float = 1) -> Float {
        precondition(prediction.shape == target.shape, "MSE of \(prediction) against \(target)")
        let count = prediction.count
        var sum = 0.0
        let k = 2 * gradScale / Float(count)
        for i in 0..<count {
            let d = prediction[i] - target[i]
            sum += Double(d) * Double(d)
            grad?[i] = k * d
        }
        return Float(sum / Double(count))
    }

    public static func l1Reference(prediction: Tensor, target: Tensor, grad: Tensor?, gradScale: Float = 1) -> Float {
        precondition(prediction.shape == target.shape, "L1 of \(prediction) against \(target)")
        let count = prediction.count
        var sum = 0.0
        let k = gradScale / Float(count)
        for i in 0..<count {
            let d = prediction[i] - target[i]
            sum += Double(abs(d))
            grad?[i] = d > 0 ? k : (d < 0 ? -k : 0)
        }
        return Float(sum / Double(count))
    }
}

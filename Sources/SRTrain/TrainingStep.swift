// One training step of one rank, for both phases of the paper, over one or more micro-batches
// (gradient accumulation). Gradients pass through `reduceGradients` before each optimizer update:
// the identity on one process, the average over ranks under MPI.
//
// srresnet phase: SR = G(LR); loss = content(SR, HR); G update.
// gan phase (k = 1):
//   SR = G(LR) (training mode, recorded for the G update)
//   D step: BCE(D(HR), 1) + BCE(D(SR), 0); SR is treated as data (no gradient reaches G)
//   G step: content(SR, HR) + adversarialWeight x BCE(D(SR), 1), i.e. -log D(SR); D's weights
//           take no gradient in this pass
// With several micro-batches the G step runs G forward again on each (its activations of the D
// step were overwritten by the next micro-batch): correct, at the price of one more G forward.
// With `skip`, SR = G(LR) + skip(LR) (the bicubic-upsampled input): G learns the residual.
//
// Numerical faults: a rank whose loss or gradient is not finite poisons its gradient with a NaN
// before the all-reduce, so after it every rank sees a non-finite gradient and every rank skips
// the same update. In the gan phase a skipped G update also undoes the D update of the same step
// (D's update is written into spare buffers that are swapped in, so undoing it swaps them back:
// no copy of D's 3 x 24M floats per step), so a skipped step leaves both networks
// exactly as they were; batch-norm running statistics, which the forward passes moved, are
// restored too (a NaN batch would otherwise poison them for good).

import SRCore
import SRModels

public struct StepResult: Sendable {
    /// The content loss as it enters the generator's loss (VGG losses include the 1/12.75^2).
    public var contentLoss: Float = 0
    /// -log D(SR), the mean over the batch, before the adversarial weight.
    public var adversarialLoss: Float = 0
    /// BCE(D(HR), 1) + BCE(D(SR), 0).
    public var discriminatorLoss: Float = 0
    /// Mean sigmoid(D(x)) over the batch: is the discriminator winning?
    public var dOfHR: Float = 0
    public var dOfSR: Float = 0
    /// True on every rank when the step's updates were skipped (a non-finite loss or gradient somewhere).
    public var skipped = false
    /// This rank's own loss or gradient was not finite.
    public var localFault = false
    /// The network whose gradient was not finite: "generator" or "discriminator".
    public var faultNetwork = ""
}

public final class SRGANStep {
    public let generator: Generator
    public let discriminator: Discriminator?
    public let contentLoss: ContentLoss
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam?
    public var adversarialWeight: Float = 1e-3
    /// Averages gradients across ranks before an update; the identity on one process.
    public var reduceGradients: (ParameterStore) -> Void = { _ in }
    /// The image added to G's output (nil: none).
    public var skip: ((Tensor) -> Tensor)?
    /// Tests only: called with each network's gradient (and its name) before the all-reduce.
    public var injectFault: ((ParameterStore, String) -> Void)?
    /// D's values and moments from before its last update (the spare set of the swap).
    private var discriminatorPrevious: AdamState?
    private var statisticsBackup: [Float] = []
    private var trackedBackup: [Int] = []
    private var allBatchNorms: [BatchNorm2d] { generator.batchNorms + (discriminator?.batchNorms ?? []) }

    /// The networks' running statistics, copied at the start of a step to restore if it is skipped.
    private var statisticsStores: [ParameterStore] { [generator.buffers] + (discriminator.map { [$0.buffers] } ?? []) }

    private func backUpStatistics() {
        let total = statisticsStores.reduce(0) { $0 + $1.count }
        if statisticsBackup.count != total { statisticsBackup = [Float](repeating: 0, count: total) }
        trackedBackup = allBatchNorms.map(\.numBatchesTracked)
        statisticsBackup.withUnsafeMutableBufferPointer { backup in
            var offset = 0
            for store in statisticsStores {
                (backup.baseAddress! + offset).update(from: store.values, count: store.count)
                offset += store.count
            }
        }
    }

    private func restoreStatistics() {
        for (bn, tracked) in zip(allBatchNorms, trackedBackup) { bn.numBatchesTracked = tracked }
        statisticsBackup.withUnsafeBufferPointer { backup in
            var offset = 0
            for store in statisticsStores {
                store.values.update(from: backup.baseAddress! + offset, count: store.count)
                offset += store.count
            }
        }
    }

    deinit { discriminatorPrevious?.deallocate() }

    public init(generator: Generator, discriminator: Discriminator?, contentLoss: ContentLoss,
                adam: AdamSettings = AdamSettings()) {
        self.generator = generator
        self.discriminator = discriminator
        self.contentLoss = contentLoss
        generatorOptimizer = Adam(parameterCount: generator.parameters.count, settings: adam)
        discriminatorOptimizer = discriminator.map { Adam(parameterCount: $0.parameters.count, settings: adam) }
    }

    /// SR for `lr`, recorded for backward.
    private func superResolve(_ lr: Tensor) -> Tensor {
        let sr = generator.forward(lr, mode: .training)
        if let skip {
            let base = skip(lr)
            withExtendedLifetime(base) { addInPlace(sr.data, base.data, count: sr.count) }
        }
        return sr
    }

    /// lr (N,3,h,w), hr (N,3,h*scale,w*scale).
    public func srresnet(lr: Tensor, hr: Tensor, learningRate: Float) -> StepResult {
        srresnet(batches: [(lr, hr)], learningRate: learningRate)
    }

    public func srresnet(batches: [(lr: Tensor, hr: Tensor)], learningRate: Float) -> StepResult {
        backUpStatistics()
        generator.parameters.zeroGrads()
        var result = StepResult()
        let weight = 1 / Float(batches.count)
        for (lr, hr) in batches {
            let sr = superResolve(lr)
            let srGrad = Tensor(uninitializedShape: sr.shape)  // the content loss writes all of it
            result.contentLoss += weight * contentLoss(sr: sr, hr: hr, srGrad: srGrad, weight: weight)
            _ = generator.backward(srGrad, needInputGrad: false)
        }
        if reduceChecked(generator.parameters, lossFinite: result.contentLoss.isFinite, network: "generator", result: &result) {
            generatorOptimizer.update(generator.parameters, learningRate: learningRate)
        } else {
            restoreStatistics()
        }
        return result
    }

    /// All-reduces the gradient; false (on every rank alike) when any rank's loss or gradient was not finite.
    private func reduceChecked(_ store: ParameterStore, lossFinite: Bool, network: String, result: inout StepResult) -> Bool {
        injectFault?(store, network)
        if !lossFinite || !allFinite(store.grads, count: store.count) {
            result.localFault = true
            store.grads[0] = .nan
        }
        reduceGradients(store)
        guard allFinite(store.grads, count: store.count) else {
            result.skipped = true
            result.faultNetwork = network
            return false
        }
        return true
    }

    public func gan(lr: Tensor, hr: Tensor, generatorLearningRate: Float, discriminatorLearningRate: Float) -> StepResult {
        gan(batches: [(lr, hr)], generatorLearningRate: generatorLearningRate, discriminatorLearningRate: discriminatorLearningRate)
    }

    public func gan(batches: [(lr: Tensor, hr: Tensor)], generatorLearningRate: Float, discriminatorLearningRate: Float) -> StepResult {
        guard let discriminator, let discriminatorOptimizer else {
            preconditionFailure("the gan phase needs a discriminator")
        }
        var result = StepResult()
        let weight = 1 / Float(batches.count)
        backUpStatistics()

        // Discriminator step.
        discriminator.parameters.accumulatesGradients = true
        discriminator.parameters.zeroGrads()
        var lastSR: Tensor?
        for (lr, hr) in batches {
            let sr = superResolve(lr)
            lastSR = sr
            let realLogits = discriminator.forward(hr, mode: .training)
            let realGrad = Tensor(shape: realLogits.shape)
            let realLoss = Loss.bceWithLogits(logits: realLogits, target: 1, grad: realGrad, gradScale: weight)
            _ = discriminator.backward(realGrad, needInputGrad: false)
            let fakeLogits = discriminator.forward(sr, mode: .training)
            let fakeGrad = Tensor(shape: fakeLogits.shape)
            let fakeLoss = Loss.bceWithLogits(logits: fakeLogits, target: 0, grad: fakeGrad, gradScale: weight)
            _ = discriminator.backward(fakeGrad, needInputGrad: false)
            result.discriminatorLoss += weight * (realLoss + fakeLoss)
            result.dOfHR += weight * meanSigmoid(realLogits)
            result.dOfSR += weight * meanSigmoid(fakeLogits)
        }
        let store = discriminator.parameters, n = store.count
        guard reduceChecked(store, lossFinite: result.discriminatorLoss.isFinite, network: "discriminator", result: &result) else {
            restoreStatistics()
            return result  // neither network updated
        }
        // D's update goes into the spare buffers, which are swapped in; the values and moments
        // from before stay in the spare set, to be swapped back if the G update is skipped.
        if discriminatorPrevious?.count != n {
            discriminatorPrevious?.deallocate()
            discriminatorPrevious = AdamState(count: n)
        }
        let previousStep = discriminatorOptimizer.step
        discriminatorOptimizer.updateKeepingPrevious(store, learningRate: discriminatorLearningRate, previous: &discriminatorPrevious!)

        // Generator step: adversarial gradient through D (no D weight gradients) plus content.
        generator.parameters.zeroGrads()
        discriminator.parameters.accumulatesGradients = false
        defer { discriminator.parameters.accumulatesGradients = true }
        for (index, (lr, hr)) in batches.enumerated() {
            let sr = batches.count == 1 && index == 0 ? lastSR! : superResolve(lr)
            let logits = discriminator.forward(sr, mode: .training)
            let logitGrad = Tensor(shape: logits.shape)
            result.adversarialLoss += weight * Loss.bceWithLogits(logits: logits, target: 1, grad: logitGrad,
                                                                  gradScale: adversarialWeight * weight)
            let srGrad = discriminator.backward(logitGrad, needInputGrad: true)!
            let contentGrad = Tensor(uninitializedShape: sr.shape)
            result.contentLoss += weight * contentLoss(sr: sr, hr: hr, srGrad: contentGrad, weight: weight)
            withExtendedLifetime(contentGrad) { addInPlace(srGrad.data, contentGrad.data, count: srGrad.count) }
            _ = generator.backward(srGrad, needInputGrad: false)
        }
        if reduceChecked(generator.parameters, lossFinite: result.contentLoss.isFinite && result.adversarialLoss.isFinite,
                         network: "generator", result: &result) {
            generatorOptimizer.update(generator.parameters, learningRate: generatorLearningRate)
        } else {
            discriminatorOptimizer.revert(store, to: &discriminatorPrevious!, step: previousStep)
            restoreStatistics()
        }
        return result
    }

    private func meanSigmoid(_ logits: Tensor) -> Float {
        var sum: Float = 0
        for i in 0..<logits.count { sum += stableSigmoid(logits[i]) }
        return sum / Float(logits.count)
    }
}

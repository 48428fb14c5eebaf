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
        generator.parameters.zeroGrads()
        var result = StepResult()
        let weight = 1 / Float(batches.count)
        for (lr, hr) in batches {
            let sr = superResolve(lr)
            let srGrad = Tensor(shape: sr.shape)
            result.contentLoss += weight * contentLoss(sr: sr, hr: hr, srGrad: srGrad, weight: weight)
            _ = generator.backward(srGrad, needInputGrad: false)
        }
        reduceGradients(generator.parameters)
        generatorOptimizer.update(generator.parameters, learningRate: learningRate)
        return result
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
        reduceGradients(discriminator.parameters)
        discriminatorOptimizer.update(discriminator.parameters, learningRate: discriminatorLearningRate)

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
            let contentGrad = Tensor(shape: sr.shape)
            result.contentLoss += weight * contentLoss(sr: sr, hr: hr, srGrad: contentGrad, weight: weight)
            withExtendedLifetime(contentGrad) { addInPlace(srGrad.data, contentGrad.data, count: srGrad.count) }
            _ = generator.backward(srGrad, needInputGrad: false)
        }
        reduceGradients(generator.parameters)
        generatorOptimizer.update(generator.parameters, learningRate: generatorLearningRate)
        return result
    }

    private func meanSigmoid(_ logits: Tensor) -> Float {
        var sum: Float = 0
        for i in 0..<logits.count { sum += stableSigmoid(logits[i]) }
        return sum / Float(logits.count)
    }
}

// One training step of one rank, for both phases of the paper. Gradients pass through
// `reduceGradients` before each optimizer update: the identity on one process, an all-reduce
// (averaging over ranks) under MPI.
//
// srresnet phase: SR = G(LR); loss = content(SR, HR); G update.
// gan phase (k = 1):
//   SR = G(LR) (training mode, recorded for the G update)
//   D step: BCE(D(HR), 1) + BCE(D(SR), 0); SR is treated as data (no gradient reaches G)
//   G step: content(SR, HR) + adversarialWeight x BCE(D(SR), 1), i.e. -log D(SR); D's weights
//           take no gradient in this pass

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

    public init(generator: Generator, discriminator: Discriminator?, contentLoss: ContentLoss,
                adam: AdamSettings = AdamSettings()) {
        self.generator = generator
        self.discriminator = discriminator
        self.contentLoss = contentLoss
        generatorOptimizer = Adam(parameterCount: generator.parameters.count, settings: adam)
        discriminatorOptimizer = discriminator.map { Adam(parameterCount: $0.parameters.count, settings: adam) }
    }

    /// lr (N,3,h,w), hr (N,3,h*scale,w*scale), both in [0,1].
    public func srresnet(lr: Tensor, hr: Tensor, learningRate: Float) -> StepResult {
        generator.parameters.zeroGrads()
        let sr = generator.forward(lr, mode: .training)
        let srGrad = Tensor(shape: sr.shape)
        var result = StepResult()
        result.contentLoss = contentLoss(sr: sr, hr: hr, srGrad: srGrad)
        _ = generator.backward(srGrad, needInputGrad: false)
        reduceGradients(generator.parameters)
        generatorOptimizer.update(generator.parameters, learningRate: learningRate)
        return result
    }

    public func gan(lr: Tensor, hr: Tensor, generatorLearningRate: Float, discriminatorLearningRate: Float) -> StepResult {
        guard let discriminator, let discriminatorOptimizer else {
            preconditionFailure("the gan phase needs a discriminator")
        }
        var result = StepResult()
        let sr = generator.forward(lr, mode: .training)

        // Discriminator step.
        discriminator.parameters.accumulatesGradients = true
        discriminator.parameters.zeroGrads()
        let realLogits = discriminator.forward(hr, mode: .training)
        let realGrad = Tensor(shape: realLogits.shape)
        let realLoss = Loss.bceWithLogits(logits: realLogits, target: 1, grad: realGrad)
        _ = discriminator.backward(realGrad, needInputGrad: false)
        let fakeLogits = discriminator.forward(sr, mode: .training)
        let fakeGrad = Tensor(shape: fakeLogits.shape)
        let fakeLoss = Loss.bceWithLogits(logits: fakeLogits, target: 0, grad: fakeGrad)
        _ = discriminator.backward(fakeGrad, needInputGrad: false)
        result.discriminatorLoss = realLoss + fakeLoss
        result.dOfHR = meanSigmoid(realLogits)
        result.dOfSR = meanSigmoid(fakeLogits)
        reduceGradients(discriminator.parameters)
        discriminatorOptimizer.update(discriminator.parameters, learningRate: discriminatorLearningRate)

        // Generator step: adversarial gradient through D (no D weight gradients) plus content.
        generator.parameters.zeroGrads()
        discriminator.parameters.accumulatesGradients = false
        defer { discriminator.parameters.accumulatesGradients = true }
        let logits = discriminator.forward(sr, mode: .training)
        let logitGrad = Tensor(shape: logits.shape)
        result.adversarialLoss = Loss.bceWithLogits(logits: logits, target: 1, grad: logitGrad, gradScale: adversarialWeight)
        let srGrad = discriminator.backward(logitGrad, needInputGrad: true)!
        let contentGrad = Tensor(shape: sr.shape)
        result.contentLoss = contentLoss(sr: sr, hr: hr, srGrad: contentGrad)
        addInPlace(srGrad.data, contentGrad.data, count: srGrad.count)
        _ = generator.backward(srGrad, needInputGrad: false)
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

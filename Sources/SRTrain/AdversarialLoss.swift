// The adversarial part of the gan phase, behind one interface: the D pass accumulates D's
// gradients from the adversarial loss (SR is data: no gradient reaches G), the G pass accumulates
// G's from the adversarial loss through D (D's weights take none) plus the content and TV terms.
// SRGANStep.gan calls one then the other around D's update; each GAN loss says only how its terms
// and their gradients are computed.
//   standard:   D: BCE(D(HR), 1) + BCE(D(SR), 0);  G: adversarialWeight x BCE(D(SR), 1) = -log D(SR)
//   ragan:      the relativistic average GAN over the global batch (RelativisticStep.swift)

import SRCore
import SRModels

protocol AdversarialLoss {
    /// Accumulates D's parameter gradients over the micro-batches; returns SR_k = G(LR_k) for
    /// each (reused by the G pass where its recorded forward is still valid).
    func discriminatorPass(_ step: SRGANStep, _ batches: [(lr: Tensor, hr: Tensor)], weight: Float,
                           result: inout StepResult) -> [Tensor]
    /// Accumulates G's parameter gradients: adversarial (through D), content and TV terms.
    func generatorPass(_ step: SRGANStep, _ batches: [(lr: Tensor, hr: Tensor)], srs: [Tensor], weight: Float,
                       result: inout StepResult)
}

/// The paper's loss: binary cross-entropy on D's logits, micro-batch by micro-batch.
struct StandardGANLoss: AdversarialLoss {
    func discriminatorPass(_ step: SRGANStep, _ batches: [(lr: Tensor, hr: Tensor)], weight: Float,
                           result: inout StepResult) -> [Tensor] {
        let discriminator = step.discriminator!
        var srs: [Tensor] = []
        for (lr, hr) in batches {
            let sr = step.superResolve(lr)
            srs.append(sr)
            let realLogits = discriminator.forward(hr, condition: lr, mode: .training)
            let realGrad = Tensor(shape: realLogits.shape)
            let realLoss = Loss.bceWithLogits(logits: realLogits, target: 1, grad: realGrad, gradScale: weight)
            _ = discriminator.backward(realGrad, needInputGrad: false)
            let fakeLogits = discriminator.forward(sr, condition: lr, mode: .training)
            let fakeGrad = Tensor(shape: fakeLogits.shape)
            let fakeLoss = Loss.bceWithLogits(logits: fakeLogits, target: 0, grad: fakeGrad, gradScale: weight)
            _ = discriminator.backward(fakeGrad, needInputGrad: false)
            result.discriminatorLoss += weight * (realLoss + fakeLoss)
            result.dOfHR += weight * Self.meanSigmoid(realLogits)
            result.dOfSR += weight * Self.meanSigmoid(fakeLogits)
        }
        return srs
    }

    func generatorPass(_ step: SRGANStep, _ batches: [(lr: Tensor, hr: Tensor)], srs: [Tensor], weight: Float,
                       result: inout StepResult) {
        let discriminator = step.discriminator!
        for (index, (lr, hr)) in batches.enumerated() {
            // One micro-batch: G's forward of the D pass is still recorded; more: G runs again.
            let sr = batches.count == 1 && index == 0 ? srs[0] : step.superResolve(lr)
            let logits = discriminator.forward(sr, condition: lr, mode: .training)
            let logitGrad = Tensor(shape: logits.shape)
            result.adversarialLoss += weight * Loss.bceWithLogits(logits: logits, target: 1, grad: logitGrad,
                                                                  gradScale: step.adversarialWeight * weight)
            let srGrad = discriminator.backward(logitGrad, needInputGrad: true)!
            step.addContentGradient(sr: sr, hr: hr, into: srGrad, weight: weight, result: &result)
            _ = step.generator.backward(srGrad, needInputGrad: false)
        }
    }

    private static func meanSigmoid(_ logits: Tensor) -> Float {
        var sum: Float = 0
        for i in 0..<logits.count { sum += stableSigmoid(logits[i]) }
        return sum / Float(logits.count)
    }
}

// The gan phase's two passes under the relativistic average GAN loss (RelativisticLoss in SRCore;
// formulas in docs/gan-variants.md). Its means run over the global batch, every rank's
// micro-batches together, so a pass first runs D forward on every input to get the logits, sums
// them across ranks (`reduction.scalars`), and only then knows each logit's gradient:
//   D pass: for each micro-batch k: SR_k = G(LR_k); C(HR_k), C(SR_k)   (training mode)
//           loss and logit gradients (two scalar all-reduces)
//           backward of C(SR_K-1) (its forward is still recorded); every other input is run
//           forward again, then backward
//   G pass: for each k: C(HR_k), C(SR_k) with the updated D (SR_k from the D pass: G has not
//           changed); loss and the SR logits' gradients (two scalar all-reduces); backward through
//           D and G for k = K-1 (both forwards still recorded); for k < K-1 G and D forward again
// Nothing is detached beyond what the standard step detaches (SR is data in the D pass; real
// images do not depend on G, and D's weights take no gradient in the G pass): the gradients are
// autograd's for the formula, through the means. Batch-norm running statistics move once per
// forward of the formula (D: HR_k and SR_k in each pass; G: once per micro-batch), as PyTorch's
// running statistics would for the same computation; the recomputations run with them frozen.

import SRCore
import SRModels

public enum GANLossKind: String, CaseIterable, Codable, Sendable {
    case standard, ragan
}

/// The relativistic average GAN loss over the global batch (every rank's micro-batches).
struct RelativisticGANLoss: AdversarialLoss {
    /// The D pass: accumulates D's parameter gradients; returns SR_k for every micro-batch.
    func discriminatorPass(_ step: SRGANStep, _ batches: [(lr: Tensor, hr: Tensor)], weight: Float,
                           result: inout StepResult) -> [Tensor] {
        let discriminator = step.discriminator!
        var srs: [Tensor] = [], realLogits: [Tensor] = [], fakeLogits: [Tensor] = []
        for (lr, hr) in batches {
            let sr = step.superResolve(lr)
            srs.append(sr)
            realLogits.append(discriminator.forward(hr, condition: lr, mode: .training))
            fakeLogits.append(discriminator.forward(sr, condition: lr, mode: .training))
        }
        let realGrads = realLogits.map { Tensor(shape: $0.shape) }, fakeGrads = fakeLogits.map { Tensor(shape: $0.shape) }
        let loss = RelativisticLoss.loss(.discriminator, real: realLogits, fake: fakeLogits, realGrads: realGrads,
                                         fakeGrads: fakeGrads, reduce: step.reduction.scalars)
        result.discriminatorLoss = Float(loss.loss)
        result.dOfHR = Float(loss.realOverFake)
        result.dOfSR = Float(loss.fakeOverReal)
        let last = batches.count - 1
        _ = discriminator.backward(fakeGrads[last], needInputGrad: false)
        withFrozenStatistics([discriminator]) {
            for (k, (lr, hr)) in batches.enumerated() {
                _ = discriminator.forward(hr, condition: lr, mode: .training)
                _ = discriminator.backward(realGrads[k], needInputGrad: false)
                if k == last { continue }
                _ = discriminator.forward(srs[k], condition: lr, mode: .training)
                _ = discriminator.backward(fakeGrads[k], needInputGrad: false)
            }
        }
        return srs
    }

    /// The G pass: accumulates G's parameter gradients (adversarial, content and TV terms).
    func generatorPass(_ step: SRGANStep, _ batches: [(lr: Tensor, hr: Tensor)], srs: [Tensor], weight: Float,
                       result: inout StepResult) {
        let discriminator = step.discriminator!, generator = step.generator
        var realLogits: [Tensor] = [], fakeLogits: [Tensor] = []
        for (k, (lr, hr)) in batches.enumerated() {
            realLogits.append(discriminator.forward(hr, condition: lr, mode: .training))
            fakeLogits.append(discriminator.forward(srs[k], condition: lr, mode: .training))
        }
        let fakeGrads = fakeLogits.map { Tensor(shape: $0.shape) }
        let loss = RelativisticLoss.loss(.generator, real: realLogits, fake: fakeLogits, realGrads: nil, fakeGrads: fakeGrads,
                                         gradScale: step.adversarialWeight, reduce: step.reduction.scalars)
        result.adversarialLoss = Float(loss.loss)
        func backpropagate(_ k: Int, _ sr: Tensor) {
            let srGrad = discriminator.backward(fakeGrads[k], needInputGrad: true)!
            step.addContentGradient(sr: sr, hr: batches[k].hr, into: srGrad, weight: weight, result: &result)
            _ = generator.backward(srGrad, needInputGrad: false)
        }
        let last = batches.count - 1
        backpropagate(last, srs[last])
        withFrozenStatistics([discriminator, generator]) {
            for k in 0..<last {
                let sr = step.superResolve(batches[k].lr)
                _ = discriminator.forward(sr, condition: batches[k].lr, mode: .training)
                backpropagate(k, sr)
            }
        }
    }

    /// Runs `body` and puts the networks' running statistics (and batch counts) back as they were.
    private func withFrozenStatistics(_ networks: [Network], _ body: () -> Void) {
        let snapshots = networks.map(StatisticsSnapshot.init)
        body()
        snapshots.forEach { $0.restore() }
    }
}

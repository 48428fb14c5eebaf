// One training step of one rank, for both phases of the paper, over one or more micro-batches
// (gradient accumulation). Gradients pass through `reduction.gradients` before each optimizer update:
// the identity on one process, the average over ranks under MPI.
//
// srresnet phase: SR = G(LR); loss = content(SR, HR); G update.
// gan phase (k = 1):
//   SR = G(LR) (training mode, recorded for the G update)
//   D step: BCE(D(HR), 1) + BCE(D(SR), 0); SR is treated as data (no gradient reaches G)
//   G step: content(SR, HR) + adversarialWeight x BCE(D(SR), 1), i.e. -log D(SR); D's weights
//           take no gradient in this pass
// The two updates are explicit: `gan` runs the D update, then the G update; what differs
// between GAN losses is only the adversarial passes behind AdversarialLoss (AdversarialLoss.swift:
// the standard BCE above; the relativistic average GAN over the global batch,
// RelativisticStep.swift), picked by `StepSettings.ganLoss`.
// With several micro-batches the standard G pass runs G forward again on each (its activations of
// the D pass were overwritten by the next micro-batch): correct, at the price of one more G forward.
// SR is the model's (SuperResolver.forward): G(LR), plus the bicubic-upsampled input when its global
// skip is on (G learns the residual), in [-1,1] as HR is.
// Variants (docs/gan-variants.md): a conditional D sees (image, LR) pairs;
// `totalVariationWeight` adds eta x TV(SR) to G's loss in both phases.
//
// Numerical faults: a rank whose loss or gradient is not finite poisons its gradient with a NaN
// before the all-reduce, so after it every rank sees a non-finite gradient and every rank skips
// the same update. In the gan phase a skipped G update also undoes the D update of the same step
// (D's update is written into the spare bank of its memory, which becomes the live one, so
// undoing it flips the banks back: no copy of D's 3 x 24M floats per step), so a skipped step
// leaves both networks exactly as they were; batch-norm running statistics, which the forward
// passes moved, are restored too (a NaN batch would otherwise poison them for good).

import Foundation
import SRCore
import SRDistributed
import SRModels

public struct StepResult: Sendable {
    /// The content loss as it enters the generator's loss (VGG losses include the 1/12.75^2).
    public var contentLoss: Float = 0
    /// -log D(SR), the mean over the batch, before the adversarial weight (ragan: its G loss).
    public var adversarialLoss: Float = 0
    /// TV(SR) (Loss.totalVariation), before its weight; 0 when the weight is 0.
    public var totalVariation: Float = 0
    /// BCE(D(HR), 1) + BCE(D(SR), 0).
    public var discriminatorLoss: Float = 0
    /// Mean sigmoid(D(x)) over the batch: is the discriminator winning? (ragan: the global means
    /// of D_Ra(HR, SR) and D_Ra(SR, HR).)
    public var dOfHR: Float = 0
    public var dOfSR: Float = 0
    /// True on every rank when the step's updates were skipped (a non-finite loss or gradient somewhere).
    public var skipped = false
    /// This rank's own loss or gradient was not finite.
    public var localFault = false
    /// The network whose gradient was not finite: "generator" or "discriminator".
    public var faultNetwork = ""
}

/// How a step weighs its losses (set once, when it is built).
public struct StepSettings: Sendable {
    /// Weight of the adversarial term in G's loss.
    public var adversarialWeight: Float = 1e-3
    public var ganLoss: GANLossKind = .standard
    /// eta of eta x TV(SR) in G's loss (0: off).
    public var totalVariationWeight: Float = 0
    public var adam = AdamSettings()

    public init(adversarialWeight: Float = 1e-3, ganLoss: GANLossKind = .standard, totalVariationWeight: Float = 0,
                adam: AdamSettings = AdamSettings()) {
        self.adversarialWeight = adversarialWeight
        self.ganLoss = ganLoss
        self.totalVariationWeight = totalVariationWeight
        self.adam = adam
    }
}

/// How a step reaches the other ranks; the identity on one process.
public struct StepReduction {
    /// Averages a network's gradients across ranks before its update.
    public var gradients: (ParameterStore) -> Void
    /// Sums a few doubles across ranks, in place (the relativistic loss's global means). Every
    /// rank calls it the same number of times per step.
    public var scalars: (inout [Double]) -> Void

    public init(gradients: @escaping (ParameterStore) -> Void = { _ in }, scalars: @escaping (inout [Double]) -> Void = { _ in }) {
        self.gradients = gradients
        self.scalars = scalars
    }

    /// One process: nothing to reduce.
    public static var local: StepReduction { StepReduction() }
}

public final class SRGANStep {
    /// G with its global skip.
    public let model: SuperResolver
    public var generator: Generator { model.generator }
    public let discriminator: Discriminator?
    public let contentLoss: ContentLoss
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam?
    public let settings: StepSettings
    public var adversarialWeight: Float { settings.adversarialWeight }
    public var totalVariationWeight: Float { settings.totalVariationWeight }
    /// The GAN loss's two passes.
    let adversarial: AdversarialLoss
    /// Set by `averageGradients(over:)` when the step is built before its communicator.
    public private(set) var reduction: StepReduction
    /// Tests only: called with each network's gradient (and its name) before the all-reduce.
    public var injectFault: ((ParameterStore, String) -> Void)?

    public init(model: SuperResolver, discriminator: Discriminator?, contentLoss: ContentLoss,
                settings: StepSettings = StepSettings(), reduction: StepReduction = .local) {
        self.model = model
        self.discriminator = discriminator
        self.contentLoss = contentLoss
        self.settings = settings
        self.reduction = reduction
        adversarial = settings.ganLoss == .standard ? StandardGANLoss() : RelativisticGANLoss()
        // Adam's moments join each network's allocation; D's gets the spare bank of its undo.
        model.generator.memory.prepareForTraining(keepsPrevious: false)
        discriminator?.memory.prepareForTraining(keepsPrevious: true)
        generatorOptimizer = Adam(memory: model.generator.memory, settings: settings.adam)
        discriminatorOptimizer = discriminator.map { Adam(memory: $0.memory, settings: settings.adam) }
    }

    /// Both networks' running statistics, to put back when a step is skipped.
    private func statisticsSnapshot() -> [StatisticsSnapshot] {
        ([generator as Network] + (discriminator.map { [$0 as Network] } ?? [])).map(StatisticsSnapshot.init)
    }

    /// SR for `lr`, recorded for backward.
    func superResolve(_ lr: Tensor) -> Tensor { model.forward(lr, mode: .training) }

    /// lr (N,3,h,w), hr (N,3,h*scale,w*scale).
    public func srresnet(lr: Tensor, hr: Tensor, learningRate: Float) -> StepResult {
        srresnet(batches: [(lr, hr)], learningRate: learningRate)
    }

    public func srresnet(batches: [(lr: Tensor, hr: Tensor)], learningRate: Float) -> StepResult {
        let statistics = statisticsSnapshot()
        generator.parameters.zeroGrads()
        var result = StepResult()
        let weight = 1 / Float(batches.count)
        for (lr, hr) in batches {
            let sr = superResolve(lr)
            let srGrad = Tensor(uninitializedShape: sr.shape)  // the content loss writes all of it
            result.contentLoss += weight * contentLoss(sr: sr, hr: hr, srGrad: srGrad, weight: weight)
            addTotalVariation(sr, into: srGrad, weight: weight, result: &result)
            _ = generator.backward(srGrad, needInputGrad: false)
        }
        if reduceChecked(generator.parameters, lossFinite: result.contentLoss.isFinite && result.totalVariation.isFinite,
                         network: "generator", result: &result) {
            generatorOptimizer.update(learningRate: learningRate)
        } else {
            statistics.forEach { $0.restore() }
        }
        return result
    }

    /// All-reduces the gradient; false (on every rank alike) when any rank's loss or gradient was not finite.
    private func reduceChecked(_ store: ParameterStore, lossFinite: Bool, network: String, result: inout StepResult) -> Bool {
        injectFault?(store, network)
        if !lossFinite || !store.withGradients({ allFinite($0.baseAddress!, count: $0.count) }) {
            result.localFault = true
            store.withGradients { $0[0] = .nan }
        }
        reduction.gradients(store)
        guard store.withGradients({ allFinite($0.baseAddress!, count: $0.count) }) else {
            result.skipped = true
            result.faultNetwork = network
            return false
        }
        return true
    }

    public func gan(lr: Tensor, hr: Tensor, generatorLearningRate: Float, discriminatorLearningRate: Float) -> StepResult {
        gan(batches: [(lr, hr)], generatorLearningRate: generatorLearningRate, discriminatorLearningRate: discriminatorLearningRate)
    }

    /// The D update, then the G update through the updated D; a skipped G update undoes D's.
    public func gan(batches: [(lr: Tensor, hr: Tensor)], generatorLearningRate: Float, discriminatorLearningRate: Float) -> StepResult {
        guard let discriminator, let discriminatorOptimizer else {
            preconditionFailure("the gan phase needs a discriminator")
        }
        var result = StepResult()
        let weight = 1 / Float(batches.count)
        let statistics = statisticsSnapshot()

        // The D update: D's gradients from the adversarial loss alone (SR is data here).
        discriminator.parameters.accumulatesGradients = true
        discriminator.parameters.zeroGrads()
        let srs = adversarial.discriminatorPass(self, batches, weight: weight, result: &result)
        let store = discriminator.parameters
        guard reduceChecked(store, lossFinite: result.discriminatorLoss.isFinite, network: "discriminator", result: &result) else {
            statistics.forEach { $0.restore() }
            return result  // neither network updated
        }
        // D's update goes into the spare bank of its memory, which becomes the live one; the
        // values and moments from before stay in the other bank, live again if the G update is skipped.
        let previousStep = discriminatorOptimizer.step
        discriminatorOptimizer.updateKeepingPrevious(learningRate: discriminatorLearningRate)

        // The G update: the adversarial gradient through D (no D weight gradients), plus content and TV.
        generator.parameters.zeroGrads()
        discriminator.parameters.accumulatesGradients = false
        defer { discriminator.parameters.accumulatesGradients = true }
        adversarial.generatorPass(self, batches, srs: srs, weight: weight, result: &result)
        if reduceChecked(generator.parameters, lossFinite: result.contentLoss.isFinite && result.adversarialLoss.isFinite
                            && result.totalVariation.isFinite,
                         network: "generator", result: &result) {
            generatorOptimizer.update(learningRate: generatorLearningRate)
        } else {
            discriminatorOptimizer.revert(step: previousStep)
            statistics.forEach { $0.restore() }
        }
        return result
    }

    /// Adds the content loss's gradient (and TV's) for one micro-batch into `srGrad`.
    func addContentGradient(sr: Tensor, hr: Tensor, into srGrad: Tensor, weight: Float, result: inout StepResult) {
        let contentGrad = Tensor(uninitializedShape: sr.shape)
        result.contentLoss += weight * contentLoss(sr: sr, hr: hr, srGrad: contentGrad, weight: weight)
        withPointers(srGrad, contentGrad) { srGrad, contentGrad in addInPlace(srGrad, contentGrad, count: sr.count) }
        addTotalVariation(sr, into: srGrad, weight: weight, result: &result)
    }

    /// eta x TV(SR): adds its gradient into `srGrad` (nothing when eta is 0).
    func addTotalVariation(_ sr: Tensor, into srGrad: Tensor, weight: Float, result: inout StepResult) {
        guard totalVariationWeight != 0 else { return }
        result.totalVariation += weight * Loss.totalVariation(image: sr, grad: srGrad, gradScale: totalVariationWeight * weight)
    }
}

extension SRGANStep {
    /// Gradients averaged over `comm`'s ranks before each update, for a step built before its
    /// communicator (`bench step`); the trainer passes `StepReduction.averaged(over:)` to init.
    public func averageGradients(over comm: Communicator) {
        reduction = .averaged(over: comm, generator: generator.parameters)
    }
}

extension StepReduction {
    /// Gradients averaged over `comm`'s ranks (timed as "all-reduce" while a LayerProfiler is
    /// active), and the relativistic loss's scalars summed over them; an all-reduce that fails
    /// ends the whole job after saying why.
    public static func averaged(over comm: Communicator, generator: ParameterStore) -> StepReduction {
        StepReduction(
            gradients: { [comm, generator] store in
                let network = store === generator ? "Generator" : "Discriminator"
                do {
                    if let profiler = LayerProfiler.active {
                        try profiler.time("\(network) gradients, \(store.count) floats", scope: "all-reduce") {
                            try store.withGradients { try comm.allReduceAverage($0.baseAddress!, count: $0.count) }
                        }
                    } else {
                        try store.withGradients { try comm.allReduceAverage($0.baseAddress!, count: $0.count) }
                    }
                } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    comm.abort(code: 1)
                }
            },
            scalars: { [comm] values in
                guard comm.size > 1 else { return }
                do {
                    try values.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: $0.count) }
                } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    comm.abort(code: 1)
                }
            })
    }
}

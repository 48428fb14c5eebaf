// The loss and discriminator variants in the training step: RaGAN, TV and a full RaGAN +
// conditional D + combined content + TV step against PyTorch (Fixtures/make_variant_fixtures.py);
// two ranks equal one rank over the same micro-batches (the means are global).

import Foundation
import SRCore
import SRModels
import SRTrain
import XCTest

private func variantFixture(_ name: String) throws -> SafetensorsFile {
    try SafetensorsFile(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path)
}

private func tensor(_ io: SafetensorsFile, _ name: String) throws -> Tensor {
    Tensor(shape: io.entry(name)!.shape, values: try io.floats(name))
}

/// Norm-wise ||a - b|| / ||b|| <= tolerance; an all-zero reference needs ||a|| <= zeroTolerance.
private func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Double, _ what: String, zeroTolerance: Double = 0,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    let difference = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
    let norm = b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    if norm == 0 {
        XCTAssertLessThanOrEqual(difference, zeroTolerance, "\(what): reference all zeros, ours \(difference)", file: file, line: line)
    } else {
        XCTAssertLessThanOrEqual(difference / norm, tolerance, "\(what): relative error \(difference / norm)", file: file, line: line)
    }
}

final class VariantStepTests: XCTestCase {
    func testRelativisticLossesMatchPyTorchAutograd() throws {
        let io = try variantFixture("variants_io.safetensors")
        let real = try tensor(io, "ragan.real"), fake = try tensor(io, "ragan.fake")   // (2 micro-batches, 3, 1)
        let split = { (t: Tensor) in (0..<2).map { k in Tensor(shape: [3, 1], values: Array(t.toArray()[(3 * k)..<(3 * k + 3)])) } }
        for (side, name) in [(RelativisticLoss.Side.discriminator, "d"), (.generator, "g")] {
            let realGrads = [Tensor(shape: [3, 1]), Tensor(shape: [3, 1])], fakeGrads = [Tensor(shape: [3, 1]), Tensor(shape: [3, 1])]
            let result = RelativisticLoss.loss(side, real: split(real), fake: split(fake), realGrads: realGrads, fakeGrads: fakeGrads,
                                               reduce: { _ in })
            XCTAssertEqual(Float(result.loss), try io.floats("ragan.\(name).loss")[0], accuracy: 1e-6)
            assertClose(realGrads.flatMap { $0.toArray() }, try io.floats("ragan.\(name).real_grad"), 1e-5, "\(name) real")
            assertClose(fakeGrads.flatMap { $0.toArray() }, try io.floats("ragan.\(name).fake_grad"), 1e-5, "\(name) fake")
        }
    }

    func testTotalVariationMatchesPyTorch() throws {
        let io = try variantFixture("variants_io.safetensors")
        let image = try tensor(io, "tv.image"), grad = Tensor(shape: image.shape)
        XCTAssertEqual(Loss.totalVariation(image: image, grad: grad), try io.floats("tv.loss")[0], accuracy: 1e-4)
        assertClose(grad.toArray(), try io.floats("tv.grad"), 1e-6, "TV gradient")
    }

    /// One gan step: RaGAN, a conditional D (x4), MSE + 6e-3 VGG22 and TV, D at 1e-4, G at 1e-3.
    func testRelativisticConditionalCombinedStepMatchesPyTorch() throws {
        let initial = try variantFixture("variants_init.safetensors"), io = try variantFixture("variants_io.safetensors")
        let generator = Generator(GeneratorConfig(channels: 8, residualBlocks: 1, scale: 4), seed: 1)
        let discriminator = Discriminator(DiscriminatorConfig(patchSize: 32, baseChannels: 4, hidden: 16, conditional: true,
                                                              lrChannels: 3, scale: 4), seed: 1)
        let vgg = VGG19Features(layer: .phi22, widthDivisor: 16)
        try generator.load(from: initial, prefix: "g.")
        try discriminator.load(from: initial, prefix: "d.")
        try vgg.load(from: initial, prefix: "vgg.", strict: false)
        let content = ContentLoss(terms: [(try ContentLoss(.mse, vggWeights: nil), 1), (ContentLoss(.vgg22, vgg: vgg), 6e-3)])
        let step = SRGANStep(model: SuperResolver(generator, globalSkip: false), discriminator: discriminator, contentLoss: content,
                             settings: StepSettings(adversarialWeight: 0.1, ganLoss: .ragan, totalVariationWeight: 1e-3))
        let result = step.gan(lr: try tensor(io, "lr"), hr: try tensor(io, "hr"), generatorLearningRate: 1e-3, discriminatorLearningRate: 1e-4)
        XCTAssertFalse(result.skipped)
        XCTAssertEqual(result.discriminatorLoss, try io.floats("step.d_loss")[0], accuracy: 1e-5)
        XCTAssertEqual(result.dOfHR, try io.floats("step.d_real_over_fake")[0], accuracy: 1e-5)
        XCTAssertEqual(result.dOfSR, try io.floats("step.d_fake_over_real")[0], accuracy: 1e-5)
        XCTAssertEqual(result.adversarialLoss, try io.floats("step.adversarial")[0], accuracy: 1e-5)
        XCTAssertEqual(result.contentLoss, try io.floats("step.content")[0], accuracy: 1e-4 * max(1, result.contentLoss))
        XCTAssertEqual(result.totalVariation, try io.floats("step.tv")[0], accuracy: 1e-4 * result.totalVariation)
        for (store, prefix) in [(discriminator.parameters, "step.d_grad."), (generator.parameters, "step.g_grad.")] {
            // D's last bias has no gradient at all: RaGAN sees only differences of logits.
            for slot in store.layout { assertClose(store.grad(slot).toArray(), try io.floats(prefix + slot.name), 1e-4, prefix + slot.name, zeroTolerance: 1e-6) }
        }
        // After Adam's first step (each weight moves by about the learning rate times the sign of its
        // gradient, so elements whose gradient is ~0 move by rounding noise): a looser bound for D.
        for (store, prefix, tolerance) in [(generator.parameters, "step.after.g.", 1e-4), (discriminator.parameters, "step.after.d.", 1e-3),
                                           (generator.buffers, "step.after.g.", 1e-5), (discriminator.buffers, "step.after.d.", 1e-5)] {
            for slot in store.layout { assertClose(store.value(slot).toArray(), try io.floats(prefix + slot.name), tolerance, prefix + slot.name) }
        }
        // PyTorch ran D forward four times (HR and SR in each pass); the recomputations moved nothing.
        XCTAssertEqual(discriminator.batchNorms.map(\.numBatchesTracked), Array(repeating: 4, count: discriminator.batchNorms.count))
        XCTAssertEqual(generator.batchNorms[0].numBatchesTracked, 1)
    }

    /// A RaGAN + conditional D + TV step, each network seeded the same.
    private func makeStep(reduction: StepReduction = .local) -> SRGANStep {
        let generator = Generator(GeneratorConfig(channels: 8, residualBlocks: 1, scale: 4), seed: 2)
        let discriminator = Discriminator(DiscriminatorConfig(patchSize: 16, baseChannels: 4, hidden: 8, conditional: true, scale: 4), seed: 3)
        return SRGANStep(model: SuperResolver(generator, globalSkip: false), discriminator: discriminator, contentLoss: try! ContentLoss(.mse, vggWeights: nil),
                         settings: StepSettings(adversarialWeight: 0.5, ganLoss: .ragan, totalVariationWeight: 1e-2), reduction: reduction)
    }

    private func microBatches() -> [(lr: Tensor, hr: Tensor)] {
        var rng = SeededRandom(seed: 17)
        return (0..<2).map { _ in
            let hr = Tensor(shape: [2, 3, 16, 16]), lr = Tensor(shape: [2, 3, 4, 4])
            rng.fillUniform(hr, -1, 1)
            rng.fillUniform(lr, 0, 1)
            return (lr, hr)
        }
    }

    /// Runs one step on two in-process ranks, micro-batch r on rank r; `global`: the scalars are summed.
    private func twoRanks(global: Bool) -> [SRGANStep] {
        let ranks = InProcessRanks(size: 2), batches = microBatches()
        let reduction = StepReduction(gradients: { store in
            store.withGradients { grads in
                ranks.allReduceSum(grads.baseAddress!, count: grads.count)
                for i in grads.indices { grads[i] *= 0.5 }
            }
        }, scalars: global ? { ranks.allReduceSum(&$0) } : { _ in })
        let steps = [makeStep(reduction: reduction), makeStep(reduction: reduction)]
        nonisolated(unsafe) let shared = (steps, batches)
        ranks.run { rank in
            _ = shared.0[rank].gan(batches: [shared.1[rank]], generatorLearningRate: 1e-3, discriminatorLearningRate: 0)
        }
        return steps
    }

    /// Two ranks with one micro-batch each = one rank accumulating both (BN sees the same batches):
    /// the means and expectations run over the global batch, not per rank.
    ///
    /// D's learning rate is 0 here: Adam's first step moves each weight by about lr x the sign of
    /// its gradient, so where the true gradient is zero (D's last bias under RaGAN, which sees only
    /// differences of logits) it would turn rounding noise into +-lr differences in D, and those
    /// into differences in G's gradient that depend on one machine's summation order. With D fixed,
    /// both networks' gradients compare the computation alone (the step through an updated D is
    /// checked against PyTorch above).
    ///
    /// Tolerance, per tensor t of a network with N parameters and gradient g:
    ///   ||a_t - b_t|| <= rho (||b_t|| + ||g|| sqrt(n_t / N))
    /// the second term is t's share of the network's scale, so a tensor whose true gradient is
    /// zero compares rounding noise against the gradients it was computed with, not against
    /// itself. rho = 1e-5: the two sides sum the same products in a different order over
    /// reductions of at most 2 x 16 x 16 = 512 terms (two micro-batches of 16x16 planes), whose
    /// worst-case relative error is 512 u = 3e-5 and typical error sqrt(512) u = 1.3e-6.
    func testTwoRanksEqualOneRankAccumulatingTheirMicroBatches() {
        let single = makeStep()
        let result = single.gan(batches: microBatches(), generatorLearningRate: 1e-3, discriminatorLearningRate: 0)
        XCTAssertFalse(result.skipped)
        let distributed = twoRanks(global: true), local = twoRanks(global: false)
        for rank in 0..<2 {
            assertSameGradientsAtNetworkScale(distributed[rank].discriminator!.parameters, single.discriminator!.parameters, 1e-5, "D on rank \(rank)")
            assertSameGradientsAtNetworkScale(distributed[rank].generator.parameters, single.generator.parameters, 1e-5, "G on rank \(rank)")
        }
        // Per-rank means and expectations would give another D gradient.
        func difference(_ a: ParameterStore, _ b: ParameterStore) -> Float {
            let (x, y) = (a.withGradients { Array($0) }, b.withGradients { Array($0) })
            return zip(x, y).map { abs($0 - $1) }.max()!
        }
        XCTAssertGreaterThan(difference(local[0].discriminator!.parameters, single.discriminator!.parameters), 1e-3)
    }
}

/// ||a_t - b_t|| <= rho (||b_t|| + ||b|| sqrt(n_t / N)) for every tensor t (see the test above).
private func assertSameGradientsAtNetworkScale(_ a: ParameterStore, _ b: ParameterStore, _ rho: Double, _ what: String,
                                               file: StaticString = #filePath, line: UInt = #line) {
    let all = b.withGradients { $0.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot()
    XCTAssertGreaterThan(all, 0, what, file: file, line: line)
    for slot in b.layout {
        let x = a.grad(slot).toArray(), y = b.grad(slot).toArray()
        let difference = zip(x, y).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        let norm = y.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let allowed = rho * (norm + all * (Double(y.count) / Double(b.count)).squareRoot())
        XCTAssertLessThanOrEqual(difference, allowed, "\(what) \(slot.name): ||a - b|| \(difference), ||b|| \(norm), allowed \(allowed)",
                                 file: file, line: line)
    }
}

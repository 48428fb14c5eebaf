// The SRResNet and SRGAN steps with `precision: bf16` against PyTorch (Fixtures/
// make_bf16_step_fixtures.py, from the networks and batch of StepTests' fixture):
// - "emulated": srgan-dist's own bf16 scheme written out in PyTorch (the products' inputs rounded
//   to bf16, fp32 sums, Winograd layers in fp32). Only fp32 summation orders differ, and the rare
//   element whose rounding to bf16 they tip the other way (a 2^-8 relative change there).
// - "autocast": torch.autocast("cpu", dtype=torch.bfloat16), which also rounds every
//   convolution's output to bf16.
// bf16 changes these tiny networks' gradients by 5 to 50% of their norm against fp32 (in
// PyTorch's autocast as in the emulation: a random generator's GAN-step gradient is a small
// difference of large terms), so a per-tensor tolerance would compare rounding noise. The
// yardstick is bf16's own effect: per network and step, the distance to the reference over all
// gradients (or parameters after the step) as a fraction of the distance between that reference
// and the fp32 step (step_io.safetensors).
// The emulation is tight where few roundings are chained: the SRResNet step (two bf16 layers in
// G) measured 0.007 of bf16's effect (AMD EPYC Zen 4, 2026-12-02), bound 0.1. In the GAN step the
// roundings chain (G's tail, D's ten bf16 layers with its Winograd ones between them, VGG's
// three), and an fp32 difference of one part in 10^6 between srgan-dist's Winograd layers and
// PyTorch's direct ones (or between two BLAS cores' summation orders) tips a few roundings the
// other way, whose 2^-8 changes propagate: even D's mean output on the batch's HR images lay 1e-7
// from the emulation with OpenBLAS's Cooperlake kernels and 7e-5 with its Prescott ones. The step
// measured 0.4 to 0.8 of bf16's effect from the emulation and 0.9 to 1.2 from autocast, on both
// cores; the bounds there are 1.5, and the step must also differ from the fp32 step by at least
// half of bf16's effect (a step that ignored the precision would differ by nothing). Its scalars
// (losses, D's mean outputs) are compared with the spread of their three references.

import Foundation
import SRCore
import SRModels
import SRTrain
import XCTest

private func fixture(_ name: String) throws -> SafetensorsFile {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
    return try SafetensorsFile(path: path)
}

final class BF16StepTests: XCTestCase {
    private var fp32: SafetensorsFile!
    private var bf16: SafetensorsFile!

    override func setUpWithError() throws {
        if let refusal = BF16Products.refusal {
            throw XCTSkip("BF16StepTests: the bf16 kernel does not run in this process (\(refusal)); not covered here")
        }
        fp32 = try fixture("step_io.safetensors")
        bf16 = try fixture("bf16_step_io.safetensors")
    }

    private func makeStep(_ kind: ContentLossKind) throws -> SRGANStep {
        let initial = try fixture("step_init.safetensors")
        let generator = Generator(GeneratorConfig(channels: 8, residualBlocks: 1, scale: 4), seed: 1)
        let discriminator = Discriminator(DiscriminatorConfig(patchSize: 32, baseChannels: 4, hidden: 16), seed: 1)
        try generator.load(from: initial, prefix: "g.")
        try discriminator.load(from: initial, prefix: "d.")
        try generator.setProductPrecision(.bf16)
        try discriminator.setProductPrecision(.bf16)
        let loss: ContentLoss
        if kind == .vgg22 {
            let vgg = VGG19Features(layer: .phi22, widthDivisor: 16)
            try vgg.load(from: initial, prefix: "vgg.", strict: false)
            try vgg.setProductPrecision(.bf16)
            loss = ContentLoss(.vgg22, vgg: vgg)
        } else {
            loss = try ContentLoss(kind, vggWeights: nil)
        }
        return SRGANStep(model: SuperResolver(generator, globalSkip: false), discriminator: discriminator, contentLoss: loss)
    }

    /// Over every tensor of `store` (gradients, or values after the step), with the reference
    /// under `kind.prefix` in the bf16 file and the fp32 step under `prefix`: ||mine - reference||,
    /// ||reference - fp32 step|| and ||mine - fp32 step||.
    private func distances(_ store: ParameterStore, values: Bool, _ prefix: String, _ kind: String)
        throws -> (toReference: Double, referenceEffect: Double, mineEffect: Double)
    {
        var sums = (0.0, 0.0, 0.0)
        for slot in store.layout {
            let mine = values ? store.value(slot).toArray() : store.grad(slot).toArray()
            let reference = try bf16.floats("\(kind).\(prefix)\(slot.name)"), plain = try fp32.floats(prefix + slot.name)
            for i in mine.indices {
                let (x, r, p) = (Double(mine[i]), Double(reference[i]), Double(plain[i]))
                sums.0 += (x - r) * (x - r)
                sums.1 += (r - p) * (r - p)
                sums.2 += (x - p) * (x - p)
            }
        }
        return (sums.0.squareRoot(), sums.1.squareRoot(), sums.2.squareRoot())
    }

    private func check(_ store: ParameterStore, values: Bool, _ prefix: String, _ what: String, emulationBound: Double,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let fromEmulation = try distances(store, values: values, prefix, "emulated")
        let fromAutocast = try distances(store, values: values, prefix, "autocast")
        // each as a fraction of bf16's effect in that reference
        let emulated = fromEmulation.toReference / max(fromEmulation.referenceEffect, 1e-300)
        let autocast = fromAutocast.toReference / max(fromAutocast.referenceEffect, 1e-300)
        let effect = (mine: fromEmulation.mineEffect, reference: fromEmulation.referenceEffect)
        print("BF16StepTests \(what): distance / bf16 effect \(String(format: "%.4f", emulated)) (emulation), "
              + "\(String(format: "%.3f", autocast)) (autocast); from the fp32 step \(String(format: "%.3f", effect.mine / effect.reference)) of bf16's effect")
        XCTAssertLessThanOrEqual(emulated, emulationBound, "\(what) against the emulation", file: file, line: line)
        XCTAssertLessThanOrEqual(autocast, 1.5, "\(what) against autocast", file: file, line: line)
        XCTAssertGreaterThanOrEqual(effect.mine, 0.5 * effect.reference, "\(what): no further from the fp32 step than rounding noise: not bf16",
                                    file: file, line: line)
    }

    /// The SRResNet step's loss: within 1% of bf16's effect on it (or 1e-6 of it) from the
    /// emulation, and no further from autocast than 1.5 times autocast's or the emulation's
    /// distance from fp32.
    private func checkLoss(_ mine: Float, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let emulated = Double(try bf16.floats("emulated." + key)[0]), autocast = Double(try bf16.floats("autocast." + key)[0])
        let plain = Double(try fp32.floats(key)[0])
        let effect = abs(emulated - plain)
        XCTAssertLessThanOrEqual(abs(Double(mine) - emulated), max(0.01 * effect, 1e-6 * abs(emulated)), key, file: file, line: line)
        XCTAssertLessThanOrEqual(abs(Double(mine) - autocast), 1.5 * max(abs(autocast - plain), effect) + 1e-6 * abs(autocast), key,
                                 file: file, line: line)
    }

    /// A GAN-step scalar: within twice the spread of its three references (the largest distance
    /// among the fp32 step, the emulation and autocast) from each bf16 reference.
    private func checkScalar(_ mine: Float, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let emulated = Double(try bf16.floats("emulated." + key)[0]), autocast = Double(try bf16.floats("autocast." + key)[0])
        let plain = Double(try fp32.floats(key)[0])
        let spread = max(abs(emulated - plain), abs(autocast - plain), abs(autocast - emulated))
        for reference in [emulated, autocast] {
            XCTAssertLessThanOrEqual(abs(Double(mine) - reference), 2 * spread + 1e-6 * abs(reference), key, file: file, line: line)
        }
    }

    func testSRResNetStepInBF16MatchesPyTorch() throws {
        let step = try makeStep(.mse)
        let lr = Tensor(shape: [2, 3, 8, 8], values: try fp32.floats("lr")), hr = Tensor(shape: [2, 3, 32, 32], values: try fp32.floats("hr"))
        let result = step.srresnet(lr: lr, hr: hr, learningRate: 1e-3)
        try checkLoss(result.contentLoss, "srresnet.content")
        try check(step.generator.parameters, values: false, "srresnet.grad.", "SRResNet step, G gradients", emulationBound: 0.1)
        try check(step.generator.parameters, values: true, "srresnet.after.", "SRResNet step, G after", emulationBound: 0.1)
    }

    func testGANStepInBF16MatchesPyTorch() throws {
        let step = try makeStep(.vgg22)
        let lr = Tensor(shape: [2, 3, 8, 8], values: try fp32.floats("lr")), hr = Tensor(shape: [2, 3, 32, 32], values: try fp32.floats("hr"))
        let result = step.gan(lr: lr, hr: hr, generatorLearningRate: 1e-3, discriminatorLearningRate: 2e-3)
        for (mine, key) in [(result.dOfHR, "gan.d_of_hr"), (result.discriminatorLoss, "gan.d_loss"), (result.dOfSR, "gan.d_of_sr"),
                            (result.contentLoss, "gan.content")] {
            try checkScalar(mine, key)
        }
        // The adversarial loss is D's after its first Adam step, which moves every weight by about
        // the learning rate whatever its gradient's size: near-zero gradients' signs, which any
        // rounding tips, decide it. With D before its update it lay 0.46 of bf16's effect from the
        // emulation (measured); after it, 0.9% from fp32 and 0.7% from autocast. Within 2% of both.
        for key in ["gan.adversarial", "autocast.gan.adversarial"] {
            let reference = key.hasPrefix("autocast.") ? try bf16.floats(key)[0] : try fp32.floats(key)[0]
            XCTAssertEqual(result.adversarialLoss, reference, accuracy: 0.02 * reference, key)
        }
        try check(step.discriminator!.parameters, values: false, "gan.d_grad.", "GAN step, D gradients", emulationBound: 1.5)
        try check(step.generator.parameters, values: false, "gan.g_grad.", "GAN step, G gradients", emulationBound: 1.5)
        try check(step.generator.parameters, values: true, "gan.after.g.", "GAN step, G after", emulationBound: 1.5)
        try check(step.discriminator!.parameters, values: true, "gan.after.d.", "GAN step, D after", emulationBound: 1.5)
    }
}

// The training step against PyTorch (Fixtures/make_step_fixtures.py), and the loop learning.

import Foundation
import SRCore
import SRModels
import SRData
import SRTrain
import XCTest

private func fixture(_ name: String) throws -> SafetensorsFile {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
    return try SafetensorsFile(path: path)
}

/// Norm-wise relative error |a - b| / |b| of two equal-length arrays.
private func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var difference = 0.0, norm = 0.0
    for i in 0..<a.count {
        difference += Double(a[i] - b[i]) * Double(a[i] - b[i])
        norm += Double(b[i]) * Double(b[i])
    }
    return (difference / max(norm, 1e-30)).squareRoot()
}

final class StepTests: XCTestCase {
    private func makeStep(_ kind: ContentLossKind) throws -> (SRGANStep, SafetensorsFile) {
        let initial = try fixture("step_init.safetensors")
        let generator = Generator(GeneratorConfig(channels: 8, residualBlocks: 1, scale: 4), seed: 1)
        let discriminator = Discriminator(DiscriminatorConfig(patchSize: 32, baseChannels: 4, hidden: 16), seed: 1)
        try generator.load(from: initial, prefix: "g.")
        try discriminator.load(from: initial, prefix: "d.")
        let loss: ContentLoss
        if kind == .vgg22 {
            let vgg = VGG19Features(layer: .phi22, widthDivisor: 16)
            try vgg.load(from: initial, prefix: "vgg.", strict: false)
            loss = ContentLoss(.vgg22, vgg: vgg)
        } else {
            loss = try ContentLoss(kind, vggWeights: nil)
        }
        return (SRGANStep(model: SuperResolver(generator, globalSkip: false), discriminator: discriminator, contentLoss: loss), try fixture("step_io.safetensors"))
    }

    private func assertClose(_ store: ParameterStore, values: Bool, _ io: SafetensorsFile, _ prefix: String,
                             _ tolerance: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        for slot in store.layout {
            let mine = values ? store.value(slot).toArray() : store.grad(slot).toArray()
            let error = relativeError(mine, try io.floats(prefix + slot.name))
            XCTAssertLessThanOrEqual(error, tolerance, "\(prefix)\(slot.name)", file: file, line: line)
        }
    }

    func testSRResNetStepMatchesPyTorch() throws {
        let (step, io) = try makeStep(.mse)
        let lr = try io.floats("lr"), hr = try io.floats("hr")
        let result = step.srresnet(lr: Tensor(shape: [2, 3, 8, 8], values: lr), hr: Tensor(shape: [2, 3, 32, 32], values: hr),
                                   learningRate: 1e-3)
        XCTAssertEqual(result.contentLoss, try io.floats("srresnet.content")[0], accuracy: 1e-6)
        try assertClose(step.generator.parameters, values: false, io, "srresnet.grad.", 1e-4)
        try assertClose(step.generator.parameters, values: true, io, "srresnet.after.", 1e-4)
        try assertClose(step.generator.buffers, values: true, io, "srresnet.after.", 1e-5)
    }

    func testGANStepMatchesPyTorch() throws {
        let (step, io) = try makeStep(.vgg22)
        let lr = Tensor(shape: [2, 3, 8, 8], values: try io.floats("lr"))
        let hr = Tensor(shape: [2, 3, 32, 32], values: try io.floats("hr"))
        let result = step.gan(lr: lr, hr: hr, generatorLearningRate: 1e-3, discriminatorLearningRate: 2e-3)
        XCTAssertEqual(result.discriminatorLoss, try io.floats("gan.d_loss")[0], accuracy: 1e-5)
        XCTAssertEqual(result.dOfHR, try io.floats("gan.d_of_hr")[0], accuracy: 1e-5)
        XCTAssertEqual(result.dOfSR, try io.floats("gan.d_of_sr")[0], accuracy: 1e-5)
        XCTAssertEqual(result.contentLoss, try io.floats("gan.content")[0], accuracy: 1e-4 * max(1, result.contentLoss))
        XCTAssertEqual(result.adversarialLoss, try io.floats("gan.adversarial")[0], accuracy: 1e-5)
        // D's gradients are those of the D step alone: the G step added none.
        try assertClose(step.discriminator!.parameters, values: false, io, "gan.d_grad.", 1e-4)
        try assertClose(step.generator.parameters, values: false, io, "gan.g_grad.", 1e-4)
        try assertClose(step.generator.parameters, values: true, io, "gan.after.g.", 1e-4)
        try assertClose(step.discriminator!.parameters, values: true, io, "gan.after.d.", 1e-4)
        // Running statistics: G saw one forward, D three (HR, SR for D, SR for G).
        try assertClose(step.generator.buffers, values: true, io, "gan.after.g.", 1e-5)
        try assertClose(step.discriminator!.buffers, values: true, io, "gan.after.d.", 1e-5)
        XCTAssertEqual(step.discriminator!.batchNorms[0].numBatchesTracked, 3)
    }

    func testVGGContentLossRefusesToTrainOnRandomFeaturesUnlessAsked() throws {
        XCTAssertThrowsError(try ContentLoss(.vgg54, vggWeights: nil)) { error in
            XCTAssertTrue(String(describing: error).contains("needs VGG19 weights"), String(describing: error))
            XCTAssertTrue(String(describing: error).contains("HINT: pass --vgg-weights FILE"))
        }
        XCTAssertThrowsError(try ContentLoss(.vgg22, vggWeights: .file("/nonexistent/vgg19.safetensors")))
        XCTAssertNotNil(try ContentLoss(.vgg22, vggWeights: .randomForTesting, vggWidthDivisor: 16).vgg)
    }

    /// The whole loop learns: one fixed batch, MSE, the loss falls by more than 20x.
    func testOverfitsOneBatch() {
        let batch = 4, side = 8, scale = 2
        let hr = Tensor(shape: [batch, 3, side * scale, side * scale])
        var rng = SeededRandom(seed: 21)
        // Smooth coloured patterns with a random phase per image and channel.
        for n in 0..<batch {
            for c in 0..<3 {
                let phase = rng.uniform(0, 6.28), frequency = rng.uniform(0.2, 0.6)
                for y in 0..<(side * scale) {
                    for x in 0..<(side * scale) {
                        hr[((n * 3 + c) * side * scale + y) * side * scale + x] =
                            0.5 + 0.4 * sin(frequency * Float(x) + phase) * cos(0.3 * Float(y) - phase)
                    }
                }
            }
        }
        let lr = Tensor(shape: [batch, 3, side, side])
        for n in 0..<(batch * 3) {
            for y in 0..<side {
                for x in 0..<side {
                    var sum: Float = 0
                    for dy in 0..<2 { for dx in 0..<2 { sum += hr[(n * side * 2 + 2 * y + dy) * side * 2 + 2 * x + dx] } }
                    lr[(n * side + y) * side + x] = sum / 4
                }
            }
        }
        let generator = Generator(GeneratorConfig(channels: 16, residualBlocks: 2, scale: scale), seed: 5)
        let step = SRGANStep(model: SuperResolver(generator, globalSkip: false), discriminator: nil, contentLoss: try! ContentLoss(.mse, vggWeights: nil))
        let first = step.srresnet(lr: lr, hr: hr, learningRate: 2e-3).contentLoss
        var last = first
        for _ in 0..<300 { last = step.srresnet(lr: lr, hr: hr, learningRate: 2e-3).contentLoss }
        XCTAssertTrue(last.isFinite)
        XCTAssertLessThan(last, first / 20, "MSE went from \(first) to \(last)")
    }
}

final class TinyOverfitTests: XCTestCase {
    /// The tiny preset's generator (with its bicubic skip) on one fixed batch of real photo
    /// patches: the training loss falls at least tenfold.
    func testTinyModelOverfitsOneBatchOfRealPatches() throws {
        let photos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/photos")
        let side = 32, scale = 4
        var hrValues: [Float] = [], lrValues: [Float] = []
        let resizer = BicubicResizer(inHeight: side, inWidth: side, scale: 1 / Double(scale))
        for (name, x, y) in [("astronaut.png", 200, 100), ("coffee.png", 300, 150), ("chelsea.png", 180, 120), ("rocket.png", 320, 200)] {
            let (image, _) = try PNG.read(photos.appendingPathComponent(name).path)
            let planar = Validation.planar(image.crop(x: x, y: y, width: side, height: side))
            hrValues += planar.map { $0 * 2 - 1 }
            lrValues += resizer.resize(planar, channels: 3).map { min(max($0, 0), 1) }
        }
        let hr = Tensor(shape: [4, 3, side, side], values: hrValues)
        let lr = Tensor(shape: [4, 3, side / scale, side / scale], values: lrValues)
        let config = try TrainConfig.preset("tiny", phase: .srresnet)
        let step = SRGANStep(model: SuperResolver(Generator(config.generator, seed: 1), globalSkip: true), discriminator: nil,
                             contentLoss: try ContentLoss(.mse, vggWeights: nil))
        let first = step.srresnet(lr: lr, hr: hr, learningRate: Float(config.lr)).contentLoss
        var last = first
        for _ in 0..<200 { last = step.srresnet(lr: lr, hr: hr, learningRate: Float(config.lr)).contentLoss }
        XCTAssertLessThan(last, first / 10, "MSE from \(first) to \(last)")
    }
}

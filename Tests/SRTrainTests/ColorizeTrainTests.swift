// The colourising mode in SRTrain: configs (old ones decode unchanged), RGB metrics, and the
// colourising generator learning colour from lightness on one batch.

import Foundation
import SRCore
import SRData
import SRModels
import SRTrain
import XCTest

final class ColorizeTrainTests: XCTestCase {
    func testConfigsWithoutTheNewKeysDecodeAsSRResNet() throws {
        let old = try TrainConfig.preset("tiny", phase: .srresnet)
            .overlaid(withYAML: "generator: {channels: 16, residual_blocks: 2, scale: 4}", file: "old.yaml")
        XCTAssertEqual(old.generator.kind, .srresnet)
        let decoded = try JSONDecoder().decode(GeneratorConfig.self, from: Data(#"{"channels": 8, "residual_blocks": 1, "scale": 2}"#.utf8))
        XCTAssertEqual(decoded.kind, .srresnet)
        XCTAssertEqual(decoded.colorizer, ColorizerConfig())
        // A colorize config survives the saved-config round trip (config.yaml, checkpoints).
        let colorize = try TrainConfig.preset("colorize", phase: .gan)
        XCTAssertEqual(try TrainConfig.fromSaved(yaml: colorize.yaml, source: "config.yaml"), colorize)
        XCTAssertTrue(colorize.problems.isEmpty, "\(colorize.problems)")
    }

    func testEqualNestedSettingsAreNoShapeDifference() throws {
        // generator.colorizer is a nested mapping: equal values in any key order must compare equal
        // (a dictionary's description orders its keys differently from one process to the next).
        let config = try TrainConfig.preset("colorize", phase: .srresnet)
        for _ in 0..<20 {
            let reloaded = try TrainConfig.fromSaved(yaml: config.yaml, source: "config.yaml")
            XCTAssertEqual(config.shapeDifferences(from: reloaded), [])
        }
        var wider = config
        wider.generator.colorizer.baseChannels = 16
        XCTAssertEqual(config.shapeDifferences(from: wider).count, 1)
        XCTAssertTrue(config.shapeDifferences(from: wider)[0].contains("generator.colorizer"), "\(config.shapeDifferences(from: wider))")
    }

    func testColorizeProblemsAreNamed() throws {
        var config = try TrainConfig.preset("colorize", phase: .srresnet)
        config.generator.colorizer.depth = 2
        XCTAssertTrue(config.problems.contains { $0.contains("colorizer.depth 2") })
        config.generator.colorizer.depth = 3
        config.generator.outputChannels = 1
        XCTAssertTrue(config.problems.contains { $0.contains("outputs RGB") })
    }

    func testGraySkipIsTheBicubicOfTheGrayOfEachLightness() {
        // A constant gray: bicubic keeps it, and the gray level round-trips through L*.
        for level in [0.0, 0.03, 0.2, 0.5, 0.9, 1.0] {
            let l = Lab.lightness(level, level, level)
            // 1e-6: the Y row of the sRGB matrix sums to 1.0000001, not 1.
            XCTAssertEqual(Lab.grayLevel(lightness: l), level, accuracy: 1e-6)
            let lr = Tensor(shape: [2, 1, 4, 4])
            lr.fill(Float(l / 50 - 1))
            let skip = GlobalSkip(scale: 2, fromLightness: true)(lr)
            XCTAssertEqual(skip.shape, [2, 3, 8, 8])
            for i in 0..<skip.count { XCTAssertEqual(Double(skip[i]), 2 * level - 1, accuracy: 2e-5) }
        }
    }

    func testRGBMetricsSeeColourThatLumaHides() {
        var a = RGBImage(width: 16, height: 16), b = RGBImage(width: 16, height: 16)
        for i in 0..<(16 * 16) {
            a.pixels[3 * i] = 100; a.pixels[3 * i + 1] = 100; a.pixels[3 * i + 2] = 100
            b.pixels[3 * i] = 110; b.pixels[3 * i + 1] = 100; b.pixels[3 * i + 2] = 100
        }
        let rgb = ImageMetrics.compareRGB(a, b, border: 2)
        // One channel off by 10 everywhere: MSE = 100 / 3.
        XCTAssertEqual(rgb.psnr, 10 * log10(255.0 * 255 / (100.0 / 3)), accuracy: 1e-9)
        XCTAssertEqual(ImageMetrics.compareRGB(a, a, border: 2).psnr, .infinity)
        XCTAssertEqual(ImageMetrics.compareRGB(a, a, border: 2).ssim, 1, accuracy: 1e-12)
    }

    func testColorizingGeneratorLearnsColourFromLightnessOnOneBatch() throws {
        // Colour targets whose hue is a function of the pattern: the gray input alone carries it.
        let batch = 2, side = 8, scale = 2
        let hr = Tensor(shape: [batch, 3, side * scale, side * scale])
        let lr = Tensor(shape: [batch, 1, side, side])
        for n in 0..<batch {
            for y in 0..<(side * scale) {
                for x in 0..<(side * scale) {
                    let t = 0.5 + 0.4 * sin(0.5 * Float(x + 3 * n) + 0.2 * Float(y))
                    let rgb = [t, 1 - t, 0.5 * t]
                    for c in 0..<3 { hr[((n * 3 + c) * side * scale + y) * side * scale + x] = rgb[c] * 2 - 1 }
                }
            }
            for y in 0..<side {
                for x in 0..<side {
                    let i = ((n * 3) * side * scale + 2 * y) * side * scale + 2 * x, plane = side * scale * side * scale
                    let colour = (0..<3).map { Double((hr[i + $0 * plane] + 1) / 2) }
                    lr[(n * side + y) * side + x] = Float(Lab.lightness(colour[0], colour[1], colour[2]) / 50 - 1)
                }
            }
        }
        var config = GeneratorConfig(channels: 8, residualBlocks: 1, scale: scale, tailKernel: 3)
        config.kind = .colorize
        config.colorizer = ColorizerConfig(baseChannels: 4, depth: 3, outputChannels: 3)
        let generator = Generator(config, seed: 3)
        let step = SRGANStep(model: SuperResolver(generator, globalSkip: false), discriminator: nil, contentLoss: try ContentLoss(.mse, vggWeights: nil))
        let first = step.srresnet(lr: lr, hr: hr, learningRate: 2e-3).contentLoss
        var last = first
        for _ in 0..<200 { last = step.srresnet(lr: lr, hr: hr, learningRate: 2e-3).contentLoss }
        XCTAssertTrue(last.isFinite)
        XCTAssertLessThan(last, first / 10, "MSE went from \(first) to \(last)")
    }
}

// The variants' settings: presets (paper and tiny unchanged, combined and tiny-combined), the new
// keys through config.yaml, old files without them, and the problems refused with a clear message.

import Foundation
import SRModels
import SRTrain
import XCTest

final class VariantConfigTests: XCTestCase {
    func testPaperAndTinyKeepThePaperLosses() throws {
        for name in ["paper", "tiny"] {
            for phase in Phase.allCases {
                let config = try TrainConfig.preset(name, phase: phase)
                XCTAssertEqual(config.ganLoss, .standard)
                XCTAssertEqual(config.tvWeight, 0)
                XCTAssertNotEqual(config.contentLoss, .combined)
                XCTAssertFalse(config.discriminator.conditional)
                XCTAssertNil(config.discriminatorLR)
            }
        }
    }

    func testCombinedPresetsAndTheirLearningRates() throws {
        let paper = try TrainConfig.preset("paper", phase: .gan)
        for (name, base) in [("combined", paper), ("tiny-combined", try TrainConfig.preset("tiny", phase: .gan))] {
            let config = try TrainConfig.preset(name, phase: .gan)
            XCTAssertEqual(config.generator, base.generator, name)
            XCTAssertEqual(config.discriminator, base.discriminator, name)
            XCTAssertEqual(config.contentLoss, .combined)
            XCTAssertEqual([config.pixelWeight, config.adversarialWeight, config.vggWeight, config.tvWeight], [1, 1e-3, 6e-3, 2e-8])
            XCTAssertEqual(config.pixelLoss, .mse)
            XCTAssertEqual(config.vggLoss, .vgg54)
            XCTAssertTrue(config.problems.isEmpty, "\(config.problems)")
            XCTAssertEqual(config.exactLearningRates(at: 0).discriminator, config.lr / 10)
        }
        let combined = try TrainConfig.preset("combined", phase: .gan)
        XCTAssertEqual(combined.exactLearningRates(at: 0).generator, 1e-4)
        XCTAssertEqual(combined.exactLearningRates(at: 0).discriminator, 1e-5)
        // paper's schedule: x0.1 at 100k for both.
        XCTAssertEqual(combined.exactLearningRates(at: 100_000).discriminator, 1e-6, accuracy: 1e-18)
        XCTAssertEqual(try TrainConfig.preset("combined", phase: .srresnet).contentLoss, .mse)
        XCTAssertTrue(TrainConfig.presetNames.contains("tiny-combined"))
    }

    func testNewKeysRoundTripAndOldFilesLoad() throws {
        var config = try TrainConfig.preset("tiny-combined", phase: .gan)
        config = try config.overlaid(withYAML: """
            gan_loss: ragan
            tv_weight: 1.5e-7
            vgg_loss: vgg22
            pixel_loss: l1
            pixel_weight: 0.5
            discriminator:
              conditional: true
              lr_channels: 3
            """, file: "test.yaml")
        XCTAssertEqual(config.ganLoss, .ragan)
        XCTAssertEqual(config.tvWeight, 1.5e-7)
        XCTAssertTrue(config.discriminator.conditional)
        XCTAssertEqual(try TrainConfig.fromSaved(yaml: config.yaml, source: "config.yaml"), config)
        // A config.yaml written before these keys existed: the keys are absent, the defaults apply.
        let newKeys = ["gan_loss", "tv_weight", "pixel_loss", "pixel_weight", "vgg_loss", "vgg_weight", "conditional", "lr_channels", "scale"]
        let old = try TrainConfig.preset("tiny", phase: .gan).yaml.split(separator: "\n")
            .filter { line in !newKeys.contains { line.trimmingCharacters(in: .whitespaces).hasPrefix($0 + ":") } }.joined(separator: "\n")
        XCTAssertFalse(old.contains("gan_loss"))
        XCTAssertEqual(try TrainConfig.fromSaved(yaml: old, source: "old config.yaml"), try TrainConfig.preset("tiny", phase: .gan))
        // A x2 run saved before discriminator.scale existed still resumes (its D is not conditional).
        var x2 = try TrainConfig.preset("tiny", phase: .gan)
        x2.generator.scale = 2
        var saved = x2
        x2.discriminator.scale = 2   // what the trainer sets
        saved.discriminator.scale = 4  // what an old file decodes to
        XCTAssertEqual(x2.shapeDifferences(from: saved), [])
        var conditional = x2
        conditional.discriminator.conditional = true
        let differences = conditional.shapeDifferences(from: x2)
        XCTAssertEqual(differences.count, 1)
        XCTAssertTrue(differences.first?.hasPrefix("discriminator.conditional ") ?? false, "\(differences)")
        let decoded = try JSONDecoder().decode(DiscriminatorConfig.self, from: Data(#"{"patch_size": 32, "base_channels": 8, "hidden": 16}"#.utf8))
        XCTAssertEqual(decoded, DiscriminatorConfig(patchSize: 32, baseChannels: 8, hidden: 16))
    }

    func testProblemsAreNamed() throws {
        var config = try TrainConfig.preset("tiny-combined", phase: .gan)
        config.pixelLoss = .none
        config.vggLoss = .none
        XCTAssertTrue(config.problems.contains { $0.contains("content_loss combined needs pixel_loss or vgg_loss") }, "\(config.problems)")
        config = try TrainConfig.preset("tiny", phase: .gan)
        config.discriminator.conditional = true
        config.discriminator.lrChannels = 1
        XCTAssertTrue(config.problems.contains { $0.contains("lr_channels 1 differs from generator.input_channels 3") }, "\(config.problems)")
        config.discriminator.lrChannels = 3
        XCTAssertEqual(config.problems, [])
        // The colorize generator's input is the 1-channel L*, whatever generator.input_channels says.
        var colorize = try TrainConfig.preset("colorize", phase: .gan)
        colorize.discriminator.conditional = true
        XCTAssertTrue(colorize.problems.contains { $0.contains("lr_channels 3 differs from the colorize generator's 1-channel L* input") },
                      "\(colorize.problems)")
        colorize.discriminator.lrChannels = 1
        XCTAssertEqual(colorize.problems, [])
        config.generator.scale = 32
        XCTAssertTrue(config.problems.contains { $0.contains("needs a scale of 2, 4, 8 or 16, not 32") }, "\(config.problems)")
        config = try TrainConfig.preset("tiny", phase: .srresnet)
        config.contentLoss = .combined
        config.pixelLoss = .l1
        config.vggLoss = .vgg54
        XCTAssertTrue(config.problems.contains { $0.contains("srresnet phase trains on pixel losses") }, "\(config.problems)")
        config.tvWeight = -1
        XCTAssertTrue(config.problems.contains { $0.contains("tv_weight") })
        XCTAssertThrowsError(try config.overlaid(withYAML: "gan_loss: wgan", file: "bad.yaml")) { error in
            XCTAssertTrue("\(error)".contains("bad.yaml: a setting has the wrong type"), "\(error)")
        }
    }
}

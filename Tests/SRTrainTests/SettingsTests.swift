// The table of settings (Settings.swift): every key reads and writes through it, the presets are
// data over it, the saved config is the one written before the table existed, and bad values
// are refused with one message naming the key.

import Foundation
import SRModels
import SRTrain
import XCTest

final class SettingsTests: XCTestCase {
    func testEveryPresetRoundTripsThroughItsYAML() throws {
        for name in TrainConfig.presetNames {
            for phase in Phase.allCases {
                let config = try TrainConfig.preset(name, phase: phase)
                XCTAssertEqual(try TrainConfig.fromSaved(yaml: config.yaml, source: "config.yaml"), config, "\(name) \(phase)")
                XCTAssertEqual(config.problems, [], "\(name) \(phase)")
                XCTAssertEqual(config.run, "runs/\(name)-\(phase.rawValue)")
            }
        }
    }

    func testEveryKeyIsSettableFromItsText() throws {
        let config = try TrainConfig.preset("tiny-combined", phase: .gan)
        XCTAssertEqual(Set(TrainConfig.settings.map(\.key)).count, TrainConfig.settings.count, "a key is in the table twice")
        for setting in TrainConfig.settings {
            // Its own value, written as text and set again, leaves the config as it was.
            var copy = config
            if let node = setting.read(config) {
                try copy.set(setting.key, to: Setting.text(node), source: "test")
                XCTAssertEqual(copy, config, setting.key)
            }
            XCTAssertFalse(setting.help.isEmpty, setting.key)
        }
        // The keys that only YAML reached before the table.
        var variant = config
        for (key, value) in [("gan_loss", "ragan"), ("discriminator.conditional", "true"), ("discriminator.lr_channels", "3"),
                             ("tv_weight", "1.5e-7"), ("content_loss", "combined"), ("pixel_loss", "l1"), ("pixel_weight", "0.5"),
                             ("vgg_loss", "vgg22"), ("vgg_weight", "2e-3"), ("lr_steps", "[10, 20]"), ("discriminator_lr", "null")] {
            try variant.set(key, to: value, source: "test")
        }
        XCTAssertEqual(variant.ganLoss, .ragan)
        XCTAssertTrue(variant.discriminator.conditional)
        XCTAssertEqual([variant.tvWeight, variant.pixelWeight, variant.vggWeight], [1.5e-7, 0.5, 2e-3])
        XCTAssertEqual(variant.pixelLoss, .l1)
        XCTAssertEqual(variant.vggLoss, .vgg22)
        XCTAssertEqual(variant.lrSteps, [10, 20])
        XCTAssertNil(variant.discriminatorLR)
        XCTAssertEqual(variant.problems, [])
    }

    func testTheSavedConfigIsTheOneWrittenBefore() throws {
        // config.yaml as the srgan-dist of 2026-12-01 wrote it for this run (YAMLEncoder over the
        // Codable config; from Tests/Fixtures/checkpoint-2026-12-01/state.json, its two temporary
        // folders renamed): the table writes the same lines (in its own order), and reads it back.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/config-2026-12-01.yaml")
        let old = try String(contentsOf: url, encoding: .utf8)
        var config = try TrainConfig.resolve(preset: "tiny", phase: .gan, file: nil,
                                             // lr: that run's (the tiny preset's GAN phase was at 1e-3 then, 1e-4 since)
                                             overrides: [("lr", "1e-3"), ("data", "/tmp/packed48"), ("run", "/tmp/run"), ("batch", "2"), ("seed", "11"),
                                                         ("ema", "0.9"), ("steps", "2"), ("log_every", "1"), ("validate_every", "100"),
                                                         ("generator.channels", "16"), ("generator.residual_blocks", "2"),
                                                         ("discriminator.base_channels", "8"), ("discriminator.hidden", "64")])
        config = config.fitted(toPatchSize: 48)
        // Settings added since (precision, 2026-12-02) are written at their defaults; the old file
        // has none of them and reads back with those defaults.
        let added: Set<Substring> = ["precision: fp32"]
        XCTAssertEqual(config.yaml.split(separator: "\n").filter { !added.contains($0) }.sorted(), old.split(separator: "\n").sorted())
        XCTAssertTrue(added.isSubset(of: Set(config.yaml.split(separator: "\n"))))
        XCTAssertEqual(try TrainConfig.fromSaved(yaml: old, source: "old"), config)
    }

    func testBadValuesAreRefusedNamingTheKey() throws {
        var config = try TrainConfig.preset("tiny", phase: .gan)
        for (key, value, expected) in [("lr", "nan", "lr nan is not a finite number > 0"), ("lr", "-1", "lr -1"),
                                       ("ema", "1", "ema 1"), ("tv_weight", "inf", "tv_weight inf is not a finite number"),
                                       ("adam_beta2", ".nan", "adam_beta2 nan"), ("watchdog_seconds", "-5", "watchdog_seconds -5"),
                                       ("steps", "0", "steps 0"), ("steps", "many", "steps wants int >= 1, not 'many'"),
                                       ("gan_loss", "wgan", "gan_loss wants standard | ragan, not 'wgan'"),
                                       ("discriminator_lr", "0", "discriminator_lr 0")] {
            XCTAssertThrowsError(try config.set(key, to: value, source: "the command line"), key) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("the command line: ") && text.contains(expected), text)
                XCTAssertTrue(text.contains("HINT: \(key): "), text)
                XCTAssertFalse(text.contains("\n"), text)
            }
        }
        XCTAssertThrowsError(try config.set("bogus", to: "1", source: "the command line")) { error in
            XCTAssertTrue("\(error)".contains("unknown setting 'bogus'"), "\(error)")
        }
        XCTAssertThrowsError(try config.overlaid(withYAML: "generator:\n  channels: .nan\n", file: "f.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("f.yaml: a setting has the wrong type: generator.channels"), "\(error)")
        }
        // YAML 1.1's base-60 integers overflowed inside Yams and stopped the program (a fuzzing
        // finding, Tests/FuzzCorpus/yaml/finding-sexagesimal-overflow.yaml): refused, naming the key.
        for (key, value) in [("lr_steps", "[188888888888888888888::888888800]"), ("steps", "1:30"), ("seed", "99999999999::59")] {
            XCTAssertThrowsError(try config.overlaid(withYAML: "\(key): \(value)\n", file: "f.yaml"), key) { error in
                XCTAssertTrue("\(error)".hasPrefix("f.yaml: a setting has the wrong type: \(key)"), "\(error)")
            }
        }
        XCTAssertEqual(try config.overlaid(withYAML: "steps: 1_500\nseed: 0x10\n", file: "f.yaml").steps, 1500)
        // Deep nesting overflowed Yams's recursive parser (fuzzing finding
        // Tests/FuzzCorpus/yaml/finding-deep-nesting.yaml): refused before parsing.
        for text in [String(repeating: "{", count: 5000), "lr_steps: " + String(repeating: "[", count: 40) + "1" + String(repeating: "]", count: 40),
                     "generator:\n" + String(repeating: " ", count: 100) + "channels: 8\n",
                     "# it's\n" + String(repeating: "{", count: 5000), "seed: 1 #'\n" + String(repeating: "[", count: 5000),
                     String(repeating: "- ", count: 5000) + "1\n"] {
            XCTAssertThrowsError(try config.overlaid(withYAML: text, file: "f.yaml")) { error in
                XCTAssertTrue("\(error)".hasPrefix("f.yaml:") && "\(error)".contains("deeper than"), "\(error)")
            }
        }
        XCTAssertEqual(try config.overlaid(withYAML: "lr_steps: [10, 20]   # it's [[[[\nrun: \"a {{{{ b\"\n", file: "f.yaml").lrSteps, [10, 20])
        XCTAssertThrowsError(try config.overlaid(withYAML: "lr: .nan\n", file: "f.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("f.yaml: lr nan is not a finite number > 0"), "\(error)")
        }
        // A value set in code is checked by validate() (and listed by problems).
        config.pixelWeight = .infinity
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertTrue("\(error)".contains("pixel_weight inf is not a finite number"), "\(error)")
        }
    }

    func testResolutionOrderAndTheResumeCheck() throws {
        let file = (path: "run.yaml", text: "phase: gan\nsteps: 7\nlr: 0.01\n")
        let config = try TrainConfig.resolve(preset: "tiny", phase: nil, file: file, overrides: [("lr", "0.002"), ("gan_loss", "ragan")])
        XCTAssertEqual(config.phase, .gan)            // the file's phase picks the preset's gan settings
        XCTAssertEqual(config.steps, 7)                // file over preset
        XCTAssertEqual(config.lr, 0.002)               // command line over file
        XCTAssertEqual(config.ganLoss, .ragan)
        XCTAssertEqual(config.contentLoss, .mse)       // tiny's gan phase
        let resumed = try TrainConfig.resolve(preset: nil, phase: nil, file: nil, overrides: [("tv_weight", "1e-8")], saved: config.yaml)
        XCTAssertEqual(resumed.resumeChanges(from: config), ["tv_weight 0e+0 -> 1e-08"])
        XCTAssertEqual(resumed.shapeDifferences(from: config), [])
        var wider = resumed
        try wider.set("generator.channels", to: "64", source: "test")
        try wider.set("discriminator.hidden", to: "32", source: "test")
        XCTAssertEqual(wider.shapeDifferences(from: config), ["generator.channels 64 here vs 32 in the checkpoint",
                                                              "discriminator.hidden 32 here vs 256 in the checkpoint"])
        XCTAssertThrowsError(try TrainConfig.resolve(preset: nil, phase: .srresnet, file: nil, overrides: [], saved: config.yaml)) { error in
            XCTAssertTrue("\(error)".contains("the checkpoint is from the gan phase, not srresnet"), "\(error)")
        }
    }
}

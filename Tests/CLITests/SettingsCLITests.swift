// The settings on the command line: every value goes through the table of settings, so a bad
// one is refused before training with one error line naming the key.

import Foundation
import XCTest

final class SettingsCLITests: XCTestCase {
    func testNonFiniteAndOutOfRangeValuesAreRefusedNamingTheKey() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-settings-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        try "lr: .nan\n".write(toFile: work + "-nan.yaml", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: work + "-nan.yaml") }
        for (arguments, expected) in [(["--lr", "nan"], "lr nan is not a finite number > 0"),
                                      (["--lr", "inf"], "lr inf is not a finite number > 0"),
                                      (["--discriminator-lr", "nan"], "discriminator_lr nan is not a finite number"),
                                      (["--config", work + "-nan.yaml"], "lr nan is not a finite number > 0"),
                                      (["--ema", "1.5"], "ema 1.5 is outside the valid range (float in [0, 1))"),
                                      (["--watchdog", "inf"], "watchdog_seconds inf is not a finite number >= 0"),
                                      (["--discriminator-lr=-1"], "discriminator_lr -1.0 is outside the valid range")] {
            let result = try runSRGANDist(["train", "--preset", "tiny", "--data", work + "/none", "--run", work + "/run"] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            let errors = result.error.split(separator: "\n").filter { $0.hasPrefix("error:") || $0.hasPrefix("Error:") }
            XCTAssertEqual(errors.count, 1, result.error)
            let source = arguments.first == "--config" ? work + "-nan.yaml" : "the command line"
            XCTAssertTrue(errors.first?.contains("\(source): \(expected)") ?? false, result.error)
            XCTAssertTrue(result.error.contains("HINT: "), result.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/run"), "nothing is written for refused settings")
        }
    }

    /// The settings that only the config file reached before, through --set: the run trains with
    /// them and saves them.
    func testGANVariantKeysThroughSet() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-set-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let pack = try runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                     "--output", work + "/packed48", "--patch-size", "48", "--stride", "96", "--val-images", "2"])
        XCTAssertEqual(pack.status, 0, pack.error)
        let sets = ["gan_loss=ragan", "discriminator.conditional=true", "discriminator.lr_channels=3", "tv_weight=2e-8",
                    "content_loss=combined", "pixel_loss=l1", "pixel_weight=0.5", "vgg_loss=none", "adversarial_weight=5e-3",
                    "generator.channels=16", "lr_steps=[1]"]
        let result = try runSRGANDist(["train", "--preset", "tiny", "--phase", "gan", "--data", work + "/packed48", "--steps", "2",
                                       "--batch", "2", "--run", work + "/run", "--lr", "1e-4"] + sets.flatMap { ["--set", $0] })
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("Discriminator(48x48 patches, 16 base channels, dense 256, conditioned on the x4 LR"), result.output)
        XCTAssertTrue(result.output.contains(" tv "), result.output)   // the TV term is logged when its weight is not 0
        let saved = try String(contentsOfFile: work + "/run/config.yaml", encoding: .utf8)
        for line in ["gan_loss: ragan", "conditional: true", "tv_weight: 2e-08", "content_loss: combined", "pixel_loss: l1",
                     "pixel_weight: 5e-1", "adversarial_weight: 5e-3", "channels: 16", "lr: 1e-4"] {
            XCTAssertTrue(saved.contains(line), "\(line) not in\n\(saved)")
        }
        // --set over the common flags; bad keys and values refused with one line naming them.
        let over = try runSRGANDist(["train", "--preset", "tiny", "--data", work + "/packed48", "--lr", "1e-4", "--set", "lr=nan",
                                     "--run", work + "/bad"])
        XCTAssertNotEqual(over.status, 0)
        XCTAssertTrue(over.error.contains("error: the command line: lr nan is not a finite number > 0"), over.error)
        for bad in ["bogus=1", "gan_loss"] {
            let refused = try runSRGANDist(["train", "--preset", "tiny", "--data", work + "/packed48", "--set", bad, "--run", work + "/bad"])
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertEqual(refused.error.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count, 1, refused.error)
            XCTAssertTrue(refused.error.contains("--set \(bad): wants KEY=VALUE"), refused.error)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/bad"))
    }

    func testListSettingsShowsEveryKeyWithThePresetsValue() throws {
        let result = try runSRGANDist(["train", "--list-settings", "--preset", "tiny", "--phase", "gan"])
        XCTAssertEqual(result.status, 0, result.error)
        for line in ["generator.channels = 32  [int >= 1; must match on resume (fixes the networks)]", "gan_loss = standard  [standard | ragan; a resume notes a change]",
                     "discriminator.hidden = 256  [int >= 1; must match on resume in the gan phase]", "steps = 300  [int >= 1]",
                     "discriminator_lr = (unset)  [float > 0 or null; a resume notes a change]"] {
            XCTAssertTrue(result.output.contains(line), "\(line) not in\n\(result.output)")
        }
    }
}

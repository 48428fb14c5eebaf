// The settings on the command line: every value goes through the table of settings, so a bad
// one is refused before training with one error line naming the key.

import Foundation
import XCTest

final class SettingsCLITests: XCTestCase {
    func testNonFiniteAndOutOfRangeValuesAreRefusedNamingTheKey() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-settings-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        for (arguments, expected) in [(["--lr", "nan"], "lr nan is not a finite number > 0"),
                                      (["--ema", "1.5"], "ema 1.5 is outside the valid range (float in [0, 1))"),
                                      (["--watchdog", "inf"], "watchdog_seconds inf is not a finite number >= 0"),
                                      (["--discriminator-lr=-1"], "discriminator_lr -1.0 is outside the valid range")] {
            let result = try runSRGANDist(["train", "--preset", "tiny", "--data", work + "/none", "--run", work + "/run"] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            let errors = result.error.split(separator: "\n").filter { $0.hasPrefix("error:") || $0.hasPrefix("Error:") }
            XCTAssertEqual(errors.count, 1, result.error)
            XCTAssertTrue(errors.first?.contains("the command line: \(expected)") ?? false, result.error)
            XCTAssertTrue(result.error.contains("HINT: "), result.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/run"), "nothing is written for refused settings")
        }
    }
}

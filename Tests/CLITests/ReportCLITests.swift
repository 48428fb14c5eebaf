// `srgan-dist report` as a user runs it: a folder without metrics gives one clear line.

import Foundation
import XCTest

final class ReportCLITests: XCTestCase {
    func testFolderWithoutMetricsIsOneErrorLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-report-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try runSRGANDist(["report", folder])
        XCTAssertEqual(result.status, 1)
        let lines = result.error.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.error)
        XCTAssertTrue(lines.first?.hasPrefix("error: \(folder)/metrics.jsonl: not found. HINT: ") ?? false, result.error)
        XCTAssertEqual(result.output, "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/report"))
    }
}

// Runs the srgan-dist executable built beside this test bundle, as a user would.

import Foundation
import XCTest

struct CommandResult {
    let status: Int32
    let output: String
    let error: String
}

/// Runs the srgan-dist binary from the same build folder as the tests.
func runSRGANDist(_ arguments: [String]) throws -> CommandResult {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("srgan-dist")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                         error: String(decoding: errData, as: UTF8.self))
}

final class CLITests: XCTestCase {
    func testHelpListsOnlyWorkingSubcommands() throws {
        let result = try runSRGANDist(["--help"])
        XCTAssertEqual(result.status, 0)
        let listed = result.output.components(separatedBy: "SUBCOMMANDS:").last!
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("See '") }
            .map { String($0.split(separator: " ").first!) }
        XCTAssertEqual(listed, ["bench"], result.output)
        let bench = try runSRGANDist(["bench", "--help"])
        XCTAssertTrue(bench.output.contains("kernels"), bench.output)
    }

    func testBenchKernelsPrintsEveryShapeAndSgemm() throws {
        let result = try runSRGANDist(["bench", "kernels", "--batch", "1", "--repeats", "1",
                                       "--gemm-size", "128", "--threads", "1"])
        XCTAssertEqual(result.status, 0, result.error)
        let rows = result.output.split(separator: "\n").filter { $0.hasPrefix("| 1 |") }
        XCTAssertEqual(rows.count, 5, result.output)
        XCTAssertTrue(rows[0].contains("sgemm 128x128x128"))
        for row in rows {
            // Every GFLOP/s cell that is filled holds a positive number.
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = cells.dropFirst(2).compactMap { Double($0) }
            XCTAssertFalse(numbers.isEmpty, String(row))
            XCTAssertTrue(numbers.allSatisfy { $0 > 0 }, String(row))
        }
    }

    func testBadOptionGetsOneClearLine() throws {
        let result = try runSRGANDist(["bench", "kernels", "--threads", "two"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("--threads must be a comma-separated list"), result.error)
        XCTAssertFalse(result.error.contains("Fatal error"), result.error)
    }
}

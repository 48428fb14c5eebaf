// Runs the srgan-dist executable built beside this test bundle, as a user would.

import Foundation
import XCTest

struct CommandResult {
    let status: Int32
    let output: String
    let error: String
}

/// The srgan-dist binary from the same build folder as the tests.
let srganDistBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("srgan-dist").path

/// srgan-bench, the comparison harness, from the same build folder.
let srganBenchBinary = URL(fileURLWithPath: srganDistBinary).deletingLastPathComponent().appendingPathComponent("srgan-bench").path

/// The environment of every program a CLI test starts: the test's own, without OPENBLAS_CORETYPE,
/// so that each child chooses its BLAS core as a user's run does. Some machines preset one
/// (Haswell on an AMD EPYC Zen 5 here): srgan-dist keeps a user's value and warns on stderr, which
/// the one-error-line checks would count, and two runs that must give the same bits (ResumeTests)
/// must not run different cores. Tests of a user's value set it on their command line
/// (PlatformTests, through /usr/bin/env).
let childEnvironment: [String: String] = {
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = nil
    return environment
}()

/// Runs a program to completion, capturing both output streams.
func runProgram(_ executable: String, _ arguments: [String]) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = childEnvironment
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

func runSRGANDist(_ arguments: [String]) throws -> CommandResult { try runProgram(srganDistBinary, arguments) }
func runSRGANBench(_ arguments: [String]) throws -> CommandResult { try runProgram(srganBenchBinary, arguments) }

final class CLITests: XCTestCase {
    func testHelpListsOnlyWorkingSubcommands() throws {
        let result = try runSRGANDist(["--help"])
        XCTAssertEqual(result.status, 0)
        // Subcommand names start at column 2; wrapped abstracts are indented further.
        let listed = result.output.components(separatedBy: "SUBCOMMANDS:").last!
            .split(separator: "\n")
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && !$0.contains("See '") }
            .map { String($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first!) }
        XCTAssertEqual(listed, ["pack", "inspect", "train", "validate", "upscale", "report", "serve", "bench"], result.output)
        let bench = try runSRGANDist(["bench", "--help"])
        XCTAssertTrue(bench.output.contains("kernels"), bench.output)
    }

    func testBenchKernelsPrintsEveryShapeAndSgemm() throws {
        let result = try runSRGANDist(["bench", "kernels", "--batch", "1", "--repeats", "1",
                                       "--gemm-size", "128", "--threads", "1"])
        XCTAssertEqual(result.status, 0, result.error)
        let rows = result.output.split(separator: "\n").filter { $0.hasPrefix("| 1 |") }
        // sgemm, 9 shapes of 3x3 each timed by Winograd and by im2col, the tiny preset's narrow
        // 3x3 tail (one path), the 9x9 tail.
        XCTAssertEqual(rows.count, 21, result.output)
        XCTAssertTrue(rows[0].contains("sgemm 128x128x128"))
        XCTAssertEqual(rows.filter { $0.contains(", Winograd |") }.count, 9, result.output)
        XCTAssertEqual(rows.filter { $0.contains(", im2col |") }.count, 9, result.output)
        XCTAssertEqual(rows.filter { $0.contains("(tiny preset output, direct) |") }.count, 1, result.output)
        for row in rows {
            // Every GFLOP/s cell that is filled holds a positive number.
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = cells.dropFirst(2).compactMap { Double($0) }
            XCTAssertFalse(numbers.isEmpty, String(row))
            XCTAssertTrue(numbers.allSatisfy { $0 > 0 }, String(row))
        }
    }

    func testPackThenInspectOnTheSamplePhotos() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("cli-pack-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try? FileManager.default.removeItem(atPath: output)
        let pack = try runSRGANDist(["pack", "--input", root.appendingPathComponent("samples/photos").path,
                                     "--output", output + "/packed", "--patch-size", "64", "--val-images", "2"])
        XCTAssertEqual(pack.status, 0, pack.error)
        XCTAssertTrue(pack.output.contains("from 10 training images"), pack.output)
        XCTAssertTrue(pack.output.contains("2 validation images"), pack.output)
        let inspect = try runSRGANDist(["inspect", output + "/packed", "--verify", "--sheet", output + "/sheet.png", "--samples", "16"])
        XCTAssertEqual(inspect.status, 0, inspect.error)
        XCTAssertTrue(inspect.output.contains("every block and file checksum matches"), inspect.output)
        XCTAssertTrue(inspect.output.contains("contact sheet: 16 patches"), inspect.output)
        let sheet = try Data(contentsOf: URL(fileURLWithPath: output + "/sheet.png"))
        XCTAssertEqual(Array(sheet.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        // Packing a different dataset into the same folder is refused with one line, nothing overwritten.
        let again = try runSRGANDist(["pack", "--input", root.appendingPathComponent("samples/photos").path,
                                      "--output", output + "/packed", "--patch-size", "32"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.error.contains("already holds a different packed dataset"), again.error)
        XCTAssertFalse(again.error.contains("Fatal error"), again.error)
    }

    func testBadOptionGetsOneClearLine() throws {
        let result = try runSRGANDist(["bench", "kernels", "--threads", "two"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("--threads must be a comma-separated list"), result.error)
        XCTAssertFalse(result.error.contains("Fatal error"), result.error)
    }
}

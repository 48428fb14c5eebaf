// `srgan-dist report`: a self-contained HTML page (and PNG charts) about a training run, with
// health checks at the top (docs/report.md).

import ArgumentParser
import Foundation
import SRTrain

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an HTML page with charts, health checks and samples of a training run.")

    @Argument(help: "A run folder written by 'srgan-dist train' (its --run).")
    var runDirectory: String

    @Option(help: "Folder for index.html and the chart PNGs (default: RUN_DIR/report).")
    var output: String?

    func run() throws {
        do {
            let report = try RunReport(runDirectory: runDirectory)
            let page = try report.write(to: output)
            let warnings = report.checks.filter { $0.status == .warning }
            print("report: \(page)")
            print(warnings.isEmpty ? "health: every check OK"
                  : "health: \(warnings.count) warning(s): " + warnings.map(\.name).joined(separator: ", "))
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

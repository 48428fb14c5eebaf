// The srgan-dist command line. Each subcommand lives in its own file; only subcommands that
// work are listed here.

import ArgumentParser
import Foundation
import SRCore

@main
struct SRGANDist: AsyncParsableCommand {  // async so that `serve` can run its server
    static let configuration = CommandConfiguration(
        commandName: "srgan-dist",
        abstract: "Data-parallel SRGAN training on CPU clusters.",
        version: (["0.2.0"] + PlatformSummary.lines(threads: BLASThreads.current)).joined(separator: "\n"),
        subcommands: [Pack.self, Inspect.self, Train.self, Validate.self, Upscale.self, Report.self, Serve.self, Bench.self])

    /// Before anything else: the BLAS on its best kernels (may re-execute the program) and a
    /// forced kernel path checked (ProcessStart); then the usual parse and run.
    static func main() async {
        ProcessStart.prepare(tool: "srgan-dist")
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

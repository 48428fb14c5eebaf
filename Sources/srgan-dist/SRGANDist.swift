// The srgan-dist command line. Each subcommand lives in its own file; only subcommands that
// work are listed here.

import ArgumentParser

@main
struct SRGANDist: AsyncParsableCommand {  // async so that `serve` can run its server
    static let configuration = CommandConfiguration(
        commandName: "srgan-dist",
        abstract: "Data-parallel SRGAN training on CPU clusters.",
        version: "0.1.0",
        subcommands: [Pack.self, Inspect.self, Train.self, Validate.self, Upscale.self, Report.self, Serve.self, Bench.self])
}

// srgan-bench: srgan-dist next to its peers (PyTorch on the CPU, a Python data pipeline), for the
// project's own measurements (docs/benchmarks.md). A separate program from srgan-dist: it needs
// a repository checkout (bench/peers) and a Python with torch, which a training node does not.
// The node checks a user needs stay in srgan-dist (`srgan-dist bench step|infer|kernels|allreduce`):
// they run on the node alone, and the harness runs them in child processes.

import ArgumentParser
import Foundation
import SRCore

@main
struct SRGANBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "srgan-bench",
        abstract: "srgan-dist next to PyTorch and a Python data pipeline on this CPU (run from the repository root).",
        version: (["0.2.0"] + PlatformSummary.lines(threads: BLASThreads.current)).joined(separator: "\n"),
        subcommands: [BenchCompare.self, BenchMemory.self, BenchData.self],
        defaultSubcommand: BenchCompare.self)

    static func main() {
        ProcessStart.prepare(tool: "srgan-bench")
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// The training step a workload measures (`srgan-dist bench step --phase`).
enum StepPhase: String, ExpressibleByArgument, CaseIterable {
    case srresnet, gan
}

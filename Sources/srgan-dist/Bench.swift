// `srgan-dist bench`: measurements. Today only the kernel table; the end-to-end comparison with
// PyTorch arrives with the speed issue.

import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed.",
        subcommands: [BenchKernels.self, BenchStep.self, BenchMemory.self, BenchData.self, BenchAllReduce.self])
}

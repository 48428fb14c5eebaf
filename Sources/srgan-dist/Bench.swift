// `srgan-dist bench`: measurements. With no subcommand, `compare`: srgan-dist next to the PyTorch
// peer on the paper's workloads. The others measure one thing each (kernels, one step or one
// inference in this process, memory, the data path, the all-reduce).

import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed and memory (default: srgan-dist next to PyTorch, `bench compare`).",
        subcommands: [BenchCompare.self, BenchKernels.self, BenchStep.self, BenchInfer.self, BenchMemory.self, BenchData.self,
                      BenchAllReduce.self],
        defaultSubcommand: BenchCompare.self)
}

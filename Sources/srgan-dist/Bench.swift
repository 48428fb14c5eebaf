// `srgan-dist bench`: measurements a user runs on a node, each of one thing in this process
// (kernels, one training step or one inference, the all-reduce under mpirun). srgan-dist next to
// PyTorch and the Python data pipeline is the separate harness `srgan-bench` (Sources/srgan-bench),
// which runs `bench step` and `bench infer` in child processes.

import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this node: kernels, a training step, inference, the all-reduce.",
        discussion: "srgan-dist next to PyTorch (compare, memory) and the data path next to a Python pipeline are "
            + "`srgan-bench`, built beside srgan-dist: run it from the repository root (docs/benchmarks.md).",
        subcommands: [BenchKernels.self, BenchStep.self, BenchInfer.self, BenchAllReduce.self])
}

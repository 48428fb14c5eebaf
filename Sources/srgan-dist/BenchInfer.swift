// `srgan-dist bench infer`: seconds per image of the paper's generator (random weights, which cost
// the same) on one LR image of --input x --input pixels, the whole image in one forward pass in
// inference mode (no tiling: the peer, bench/peers/srgan_infer.py, does the same; `upscale`'s
// default tiles of 192 LR pixels would not split a 128x128 image anyway). Prints one JSON line
// with the process's peak resident memory.

import ArgumentParser
import Foundation
import SRCore
import SRDistributed
import SRModels
import SRTrain

struct BenchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Time the generator on one whole image (inference mode) and report peak memory (one JSON line).")

    @Option(help: "LR image side in pixels (the output is 4x that).")
    var input = 128

    @Option(help: "Images to run one after the other; the first is reported but excluded from the median.")
    var steps = 2

    @Option(help: "BLAS threads.")
    var threads = 2

    @Option(help: "Products in fp32, or bf16 (inputs rounded to bfloat16, fp32 sums; needs AVX512-BF16).")
    var precision: ProductPrecision = .fp32

    @Flag(help: "Print a per-layer time table of the last image before the JSON line.")
    var profile = false

    func validate() throws {
        guard input >= 1, steps >= 1, threads >= 1 else { throw ValidationError("--input, --steps and --threads must be >= 1") }
    }

    func run() throws {
        BLASThreads.set(threads)
        let generator = Generator(GeneratorConfig(), seed: 1)
        try generator.setProductPrecision(precision)
        var rng = SeededRandom(seed: 3)
        let image = Tensor(shape: [1, 3, input, input])  // (1,3,h,w) in [0,1]
        rng.fillUniform(image, 0, 1)
        let rssBefore = ProcessMemory.residentMB
        let profiler = LayerProfiler()
        var seconds: [Double] = []
        for index in 0..<steps {
            // The last image is profiled when asked.
            LayerProfiler.profiling(profile && index == steps - 1 ? profiler : nil) {
                let start = DispatchTime.now().uptimeNanoseconds
                let output = generator.forward(image, mode: .inference)  // (1,3,4h,4w)
                withExtendedLifetime(output) {}
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
        }
        if profile {
            try ProfileTable.show(profiler, stepSeconds: seconds.last!, comm: SingleProcessCommunicator(),
                                  title: "profile of the last image, \(input)x\(input) -> \(input * generator.config.scale), \(threads) thread(s)")
        }
        let steady = Array(seconds.dropFirst().isEmpty ? seconds[...] : seconds.dropFirst()).sorted()
        let median = steady[steady.count / 2]
        let flops = BenchFlops.forward(generator, image.shape).flops
        print(JSONLine.format([
            ("tool", "srgan-dist"), ("layout", "NCHW"), ("workload", "infer"),
            ("input", input), ("output", input * generator.config.scale), ("threads", threads),
            ("precision", precision.rawValue),
            ("image_seconds", seconds), ("seconds_per_image", median),
            ("gflop_per_image", flops / 1e9), ("gflop_per_s", flops / median / 1e9),
            ("rss_before_mb", rssBefore), ("peak_rss_mb", ProcessMemory.peakResidentMB),
        ]))
    }
}

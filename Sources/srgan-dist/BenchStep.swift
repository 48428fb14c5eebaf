// `srgan-dist bench step`: the paper's networks on random data; times N training steps and
// reports samples/s, achieved GFLOP/s (BenchFlops) and the process's peak resident memory as one
// JSON line. Under mpirun every rank runs the step on its own batch and the gradients are
// averaged across ranks exactly as in training (SRGANStep.reduceGradients); rank 0 prints, a
// step lasting as long as its slowest rank. `srgan-bench memory` and `srgan-bench compare` run it in fresh
// processes next to the PyTorch peers. --profile adds a per-layer time table of the last step.

import ArgumentParser
import Foundation
import SRCore
import SRDistributed
import SRModels
import SRTrain

enum BenchPhase: String, ExpressibleByArgument, CaseIterable {
    case srresnet, gan
}

/// The networks `bench step` times: the paper's, or the tiny preset's generator with its
/// SRResNet-phase content loss, bicubic global skip and learning rate (srresnet phase only).
enum BenchNetwork: String, ExpressibleByArgument, CaseIterable {
    case paper, tiny

    /// The tiny preset's SRResNet phase, which `--network tiny` measures on both sides.
    static var tinyPreset: TrainConfig { try! TrainConfig.preset("tiny", phase: .srresnet) }
}

struct BenchStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Time training steps of the paper's networks and report peak memory (one JSON line).",
        discussion: "Under mpirun -n N each rank steps on --batch images and gradients are all-reduced as in training.")

    @Option(help: "Which step: srresnet (G, MSE) or gan (D step + G step with VGG19 phi5,4).")
    var phase: BenchPhase = .gan

    @Option(help: "Which networks: the paper's, or the tiny preset's generator (srresnet phase only).")
    var network: BenchNetwork = .paper

    @Option(help: "Images per batch (per rank under mpirun).")
    var batch = 16

    @Option(help: "HR patch side (a multiple of 16).")
    var patch = 96

    @Option(help: "Steps to run; the first is reported but excluded from samples/s.")
    var steps = 2

    @Option(help: "BLAS threads (per rank).")
    var threads = 2

    @Option(help: "VGG19 weights (safetensors); without it the benchmark uses random VGG weights, which cost the same.")
    var vggWeights: String?

    @Option(help: "Products in fp32, or bf16 (inputs rounded to bfloat16, fp32 sums; needs AVX512-BF16).")
    var precision: ProductPrecision = .fp32

    @Flag(help: "Print a per-layer time table of the last step (rank 0's, with every rank's totals) before the JSON line.")
    var profile = false

    func validate() throws {
        guard batch >= 1, steps >= 1, threads >= 1 else { throw ValidationError("--batch, --steps and --threads must be >= 1") }
        guard patch >= 16, patch % 16 == 0 else { throw ValidationError("--patch must be a positive multiple of 16 (the discriminator halves it four times)") }
        guard network == .paper || phase == .srresnet else { throw ValidationError("--network tiny is measured with --phase srresnet only") }
    }

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        BLASThreads.set(threads)
        let comm = try Launch.communicator()
        comm.watchdogSeconds = 0
        let tiny = network == .tiny, preset = BenchNetwork.tinyPreset
        let generator = Generator(tiny ? preset.generator : GeneratorConfig(), seed: 1)
        var discriminator: Discriminator?
        var contentLoss = try ContentLoss(tiny ? preset.contentLoss : .mse, vggWeights: nil)
        if phase == .gan {
            discriminator = Discriminator(DiscriminatorConfig(patchSize: patch), seed: 2)
            contentLoss = try ContentLoss(.vgg54, vggWeights: vggWeights.map { .file($0) } ?? .randomForTesting)
        }
        try generator.setProductPrecision(precision)
        try discriminator?.setProductPrecision(precision)
        try contentLoss.vgg?.setProductPrecision(precision)
        // Gradients averaged over the ranks as in training (the identity on one process); the tiny
        // network adds the bicubic of its input to G's output, as its preset does.
        let step = SRGANStep(model: SuperResolver(generator, globalSkip: tiny), discriminator: discriminator, contentLoss: contentLoss)
        step.averageGradients(over: comm)
        let learningRate = Float(tiny ? preset.lr : 1e-4)
        var rng = SeededRandom(seed: 3 &+ UInt64(comm.rank))
        let hr = Tensor(shape: [batch, 3, patch, patch]), lr = Tensor(shape: [batch, 3, patch / 4, patch / 4])
        rng.fillUniform(hr, 0, 1)
        rng.fillUniform(lr, 0, 1)
        let rssBefore = ProcessMemory.residentMB
        let profiler = LayerProfiler()
        var seconds: [Double] = []
        for index in 0..<steps {
            // The last step is profiled when asked.
            LayerProfiler.profiling(profile && index == steps - 1 ? profiler : nil) {
                let start = DispatchTime.now().uptimeNanoseconds
                switch phase {
                case .srresnet: _ = step.srresnet(lr: lr, hr: hr, learningRate: learningRate)
                case .gan: _ = step.gan(lr: lr, hr: hr, generatorLearningRate: 1e-4, discriminatorLearningRate: 1e-4)
                }
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
        }
        if profile {
            try ProfileTable.show(profiler, stepSeconds: seconds.last!, comm: comm,
                                  title: "profile of the last \(network == .tiny ? "tiny " : "")\(phase.rawValue) step, batch \(batch) of \(patch)x\(patch), \(threads) thread(s)")
        }
        // A step lasts as long as its slowest rank.
        let perRank = try comm.gather(seconds + [ProcessMemory.peakResidentMB, rssBefore])
        let slowest = seconds.indices.map { index in perRank.map { $0[index] }.max()! }
        let peaks = perRank.map { $0[steps] }
        let steady = Array(slowest.dropFirst().isEmpty ? slowest[...] : slowest.dropFirst()).sorted()
        let median = steady[steady.count / 2]
        let samplesPerStep = batch * comm.size
        let flopsPerSample = BenchFlops.stepPerSample(phase: phase, patch: patch, generator: generator,
                                                      discriminator: discriminator, vgg: contentLoss.vgg)
        guard comm.isRoot else { return }
        print(JSONLine.format([
            ("tool", "srgan-dist"), ("layout", "NCHW"), ("phase", phase.rawValue), ("network", network.rawValue),
            ("batch", batch), ("patch", patch), ("threads", threads), ("ranks", comm.size),
            ("precision", precision.rawValue),
            ("step_seconds", slowest),
            ("samples_per_s", Double(samplesPerStep) / median),
            ("gflop_per_sample", flopsPerSample / 1e9),
            ("gflop_per_s", flopsPerSample * Double(samplesPerStep) / median / 1e9),
            ("rss_before_mb", perRank.map { $0[steps + 1] }.max()!),
            ("peak_rss_mb", peaks.max()!), ("peak_rss_mb_per_rank", peaks),
        ]))
    }
}

/// Resident memory of this process, from /proc/self/status.
enum ProcessMemory {
    static var residentMB: Double { field("VmRSS:") }
    static var peakResidentMB: Double { field("VmHWM:") }

    private static func field(_ name: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kilobytes = Double(parts[1]) { return kilobytes / 1024 }
        }
        return 0
    }
}

// `srgan-dist bench step`: one process, the paper's networks, random data; times N training
// steps and reports the process's peak resident memory. `bench memory` runs it next to the
// PyTorch peer (bench/peers/srgan_step.py).

import ArgumentParser
import Foundation
import SRCore
import SRModels
import SRTrain

enum BenchPhase: String, ExpressibleByArgument, CaseIterable {
    case srresnet, gan
}

struct BenchStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Time training steps of the paper's networks and report peak memory (one JSON line).")

    @Option(help: "Which step: srresnet (G, MSE) or gan (D step + G step with VGG19 phi5,4).")
    var phase: BenchPhase = .gan

    @Option(help: "Images per batch.")
    var batch = 16

    @Option(help: "HR patch side (a multiple of 16).")
    var patch = 96

    @Option(help: "Steps to run; the first is reported but excluded from samples/s.")
    var steps = 2

    @Option(help: "BLAS threads.")
    var threads = 2

    @Option(help: "VGG19 weights (safetensors); without it the benchmark uses random VGG weights, which cost the same.")
    var vggWeights: String?

    func validate() throws {
        guard batch >= 1, steps >= 1, threads >= 1 else { throw ValidationError("--batch, --steps and --threads must be >= 1") }
        guard patch >= 16, patch % 16 == 0 else { throw ValidationError("--patch must be a positive multiple of 16 (the discriminator halves it four times)") }
    }

    func run() throws {
        BLASThreads.set(threads)
        let generator = Generator(GeneratorConfig(), seed: 1)
        var discriminator: Discriminator?
        var contentLoss = try ContentLoss(.mse, vggWeights: nil)
        if phase == .gan {
            discriminator = Discriminator(DiscriminatorConfig(patchSize: patch), seed: 2)
            contentLoss = try ContentLoss(.vgg54, vggWeights: vggWeights.map { .file($0) } ?? .randomForTesting)
        }
        let step = SRGANStep(generator: generator, discriminator: discriminator, contentLoss: contentLoss)
        var rng = SeededRandom(seed: 3)
        let hr = Tensor(shape: [batch, 3, patch, patch]), lr = Tensor(shape: [batch, 3, patch / 4, patch / 4])
        rng.fillUniform(hr, 0, 1)
        rng.fillUniform(lr, 0, 1)
        let rssBefore = ProcessMemory.residentMB
        var seconds: [Double] = []
        for _ in 0..<steps {
            let start = DispatchTime.now().uptimeNanoseconds
            switch phase {
            case .srresnet: _ = step.srresnet(lr: lr, hr: hr, learningRate: 1e-4)
            case .gan: _ = step.gan(lr: lr, hr: hr, generatorLearningRate: 1e-4, discriminatorLearningRate: 1e-4)
            }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let steady = Array(seconds.dropFirst().isEmpty ? seconds[...] : seconds.dropFirst()).sorted()
        let median = steady[steady.count / 2]
        let fields: [(String, String)] = [
            ("tool", "\"srgan-dist\""), ("layout", "\"NCHW\""), ("phase", "\"\(phase.rawValue)\""),
            ("batch", "\(batch)"), ("patch", "\(patch)"), ("threads", "\(threads)"),
            ("step_seconds", "[" + seconds.map { String(format: "%.3f", $0) }.joined(separator: ", ") + "]"),
            ("samples_per_s", String(format: "%.3f", Double(batch) / median)),
            ("rss_before_mb", String(format: "%.1f", rssBefore)),
            ("peak_rss_mb", String(format: "%.1f", ProcessMemory.peakResidentMB)),
        ]
        print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
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

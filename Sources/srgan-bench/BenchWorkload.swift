// The workloads `srgan-bench compare` measures, and the command lines that measure each one in a fresh
// process: srgan-dist itself (`bench step`, `bench infer`, or `bench step` under mpirun) and the
// PyTorch peer in bench/peers/ (srgan_step.py, srgan_infer.py, srgan_ddp.py), in fp32 or bf16.

import Foundation
import SRCore
import SRTrain

enum BenchWorkload: String, CaseIterable {
    case srresnet, gan, infer
    case ddpSRResNet = "ddp-srresnet", ddpGAN = "ddp-gan"
    /// The tiny preset's SRResNet step (its generator, loss, skip and learning rate), batch 16 of 48x48.
    case tiny

    static let defaults: [BenchWorkload] = [.srresnet, .gan, .infer, .ddpSRResNet, .tiny]

    /// The tiny workload's patch side: the demo packs 48x48 patches for the tiny preset.
    static let tinyPatch = 48

    /// The tiny workload's steps per process: its steps take 20-40 ms, so a median of the
    /// default 2 (or 4) steps moves with a single stall of either tool; 20 cost about a second.
    static func tinySteps(_ sizes: BenchSizes) -> Int { max(sizes.steps, 20) }

    /// Parses "srresnet,infer"; nil when a name is unknown.
    static func list(_ text: String) -> [BenchWorkload]? {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let workloads = names.compactMap(BenchWorkload.init(rawValue:))
        return workloads.count == names.count && !workloads.isEmpty ? workloads : nil
    }

    var phase: StepPhase { self == .gan || self == .ddpGAN ? .gan : .srresnet }
    var isInference: Bool { self == .infer }
    var isDataParallel: Bool { self == .ddpSRResNet || self == .ddpGAN }

    /// The prefix of this workload's keys in `bench --json`.
    var jsonKey: String {
        switch self {
        case .srresnet: return "srresnet_step"
        case .gan: return "srgan_step"
        case .infer: return "infer"
        case .ddpSRResNet: return "ddp_srresnet_step"
        case .ddpGAN: return "ddp_srgan_step"
        case .tiny: return "tiny_srresnet_step"
        }
    }

    func title(_ sizes: BenchSizes) -> String {
        let data = "batch \(sizes.batch) of \(sizes.patch)x\(sizes.patch)"
        let parallel = "\(sizes.ranks) ranks x 1 thread, batch \(sizes.batch / sizes.ranks) of \(sizes.patch)x\(sizes.patch) per rank"
        switch self {
        case .srresnet: return "SRResNet step (MSE), \(data)"
        case .gan: return "SRGAN step (D + G, VGG54 + adversarial), \(data)"
        case .infer: return "inference \(sizes.inferInput)x\(sizes.inferInput) -> \(4 * sizes.inferInput)x\(4 * sizes.inferInput)"
        case .ddpSRResNet: return "data-parallel SRResNet step, \(parallel)"
        case .ddpGAN: return "data-parallel SRGAN step, \(parallel)"
        case .tiny: return "tiny preset's SRResNet step, batch \(sizes.batch) of \(Self.tinyPatch)x\(Self.tinyPatch)"
        }
    }

    var unit: String { isInference ? "s/image" : "samples/s" }

    /// The child's figure of speed: seconds per image (inference) or samples per second.
    func speed(_ fields: [String: Any]) -> Double? {
        (fields[isInference ? "seconds_per_image" : "samples_per_s"] as? NSNumber)?.doubleValue
    }

    /// Arguments of `srgan-dist` measuring this workload (`mpirun` first for data-parallel ones)
    /// with its products in `precision`.
    func ownCommand(_ sizes: BenchSizes, precision: ProductPrecision, executable: String) -> (String, [String]) {
        let (program, arguments) = fp32Command(sizes, executable: executable)
        return (program, arguments + Self.precisionArguments(precision))
    }

    /// Arguments of the peer script measuring this workload in the default layout; bf16: its
    /// forward passes and losses under PyTorch's bf16 autocast.
    func peerArguments(_ sizes: BenchSizes, precision: ProductPrecision, peerDirectory: String) -> [String] {
        fp32PeerArguments(sizes, peerDirectory: peerDirectory) + Self.precisionArguments(precision)
    }

    /// `--precision bf16` for both tools' children; nothing for fp32, the default of both, so the
    /// fp32 command lines are the ones the comparison has always run.
    static func precisionArguments(_ precision: ProductPrecision) -> [String] {
        precision == .fp32 ? [] : ["--precision", precision.rawValue]
    }

    private func fp32Command(_ sizes: BenchSizes, executable: String) -> (String, [String]) {
        switch self {
        case .srresnet, .gan:
            return (executable, ["bench", "step", "--phase", phase.rawValue, "--batch", "\(sizes.batch)", "--patch", "\(sizes.patch)",
                                 "--steps", "\(sizes.steps)", "--threads", "\(sizes.threads)"])
        case .infer:
            return (executable, ["bench", "infer", "--input", "\(sizes.inferInput)", "--steps", "\(sizes.steps)", "--threads", "\(sizes.threads)"])
        case .tiny:
            return (executable, ["bench", "step", "--phase", "srresnet", "--network", "tiny", "--batch", "\(sizes.batch)",
                                 "--patch", "\(Self.tinyPatch)", "--steps", "\(Self.tinySteps(sizes))", "--threads", "\(sizes.threads)"])
        case .ddpSRResNet, .ddpGAN:
            return ("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "\(sizes.ranks)", "-x", "OPENBLAS_NUM_THREADS=1",
                                     executable, "bench", "step", "--phase", phase.rawValue, "--batch", "\(sizes.batch / sizes.ranks)",
                                     "--patch", "\(sizes.patch)", "--steps", "\(sizes.steps)", "--threads", "1"])
        }
    }

    private func fp32PeerArguments(_ sizes: BenchSizes, peerDirectory: String) -> [String] {
        switch self {
        case .srresnet, .gan:
            return ["\(peerDirectory)/srgan_step.py", "--phase", phase.rawValue, "--batch", "\(sizes.batch)", "--patch", "\(sizes.patch)",
                    "--steps", "\(sizes.steps)", "--threads", "\(sizes.threads)"]
        case .infer:
            return ["\(peerDirectory)/srgan_infer.py", "--input", "\(sizes.inferInput)", "--steps", "\(sizes.steps)", "--threads", "\(sizes.threads)"]
        case .tiny:
            // the preset srgan-dist's `bench step --network tiny` measures
            let preset = try! TrainConfig.preset("tiny", phase: .srresnet)
            return ["\(peerDirectory)/srgan_step.py", "--phase", "srresnet", "--network", "tiny", "--batch", "\(sizes.batch)",
                    "--patch", "\(Self.tinyPatch)", "--steps", "\(Self.tinySteps(sizes))", "--threads", "\(sizes.threads)",
                    "--channels", "\(preset.generator.channels)", "--blocks", "\(preset.generator.residualBlocks)",
                    "--tail-kernel", "\(preset.generator.tailKernel)", "--loss", preset.contentLoss == .l1 ? "l1" : "mse",
                    "--lr", "\(preset.lr)"]
        case .ddpSRResNet, .ddpGAN:
            return ["\(peerDirectory)/srgan_ddp.py", "--phase", phase.rawValue, "--batch", "\(sizes.batch / sizes.ranks)",
                    "--patch", "\(sizes.patch)", "--steps", "\(sizes.steps)", "--ranks", "\(sizes.ranks)"]
        }
    }

    static let peerScripts = ["srgan_step.py", "srgan_infer.py", "srgan_ddp.py"]
}

/// The sizes every workload of one `srgan-bench compare` run shares.
struct BenchSizes {
    var threads = 2
    var steps = 3
    var batch = 16
    var patch = 96
    var inferInput = 128
    var ranks = 2
}

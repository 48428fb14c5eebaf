// Training settings: a preset, then a YAML config file over it, then command-line options over
// that. The resolved config is printed at start and saved as RUN_DIR/config.yaml.

import Foundation
import SRModels
import Yams

public enum Phase: String, Codable, CaseIterable, Sendable {
    case srresnet, gan
}

public struct TrainConfig: Codable, Equatable, Sendable {
    public var preset: String
    public var phase: Phase
    // Networks.
    public var generator: GeneratorConfig
    public var discriminator: DiscriminatorConfig
    /// Add the bicubic-upsampled LR to the generator's output (the generator learns a residual);
    /// in the colorize mode, the bicubic of the gray picture of its L* input (GraySkip).
    public var globalSkip: Bool
    // Optimisation.
    public var steps: Int
    /// Per rank; the global batch is batch x ranks x accumulate.
    public var batch: Int
    public var accumulate: Int
    public var lr: Double
    /// The discriminator's learning rate; nil: the same as the generator's.
    public var discriminatorLR: Double?
    /// Steps at which the learning rates are multiplied by `lrGamma`.
    public var lrSteps: [Int]
    public var lrGamma: Double
    public var adamBeta1: Double
    public var adamBeta2: Double
    public var contentLoss: ContentLossKind
    public var adversarialWeight: Double
    // Loss variants (docs/gan-variants.md); the defaults are the paper's losses.
    /// standard: BCE on D's logits; ragan: the relativistic average GAN over the global batch.
    public var ganLoss: GANLossKind = .standard
    /// content_loss combined: pixel_loss x pixel_weight + vgg_loss x vgg_weight.
    public var pixelLoss: PixelLossKind = .none
    public var pixelWeight: Double = 1
    public var vggLoss: VGGLossKind = .none
    public var vggWeight: Double = 1
    /// Weight of the total-variation loss on the SR output (0: off).
    public var tvWeight: Double = 0
    /// Exponential moving average of the generator weights (0: off).
    public var ema: Double
    public var syncBN: Bool
    public var seed: UInt64
    // Inputs and outputs.
    public var data: String?
    public var val: String?
    public var run: String
    public var initFrom: String?
    public var vggWeights: String?
    /// Tests only: train a VGG content loss on random VGG19 weights.
    public var allowRandomVGG: Bool
    public var validateEvery: Int
    /// Validation images whose SR result is saved as PNG.
    public var validationSamples: Int
    public var logEvery: Int
    public var checkReplicas: Bool
    // Checkpoints and faults.
    /// Write a checkpoint every N steps (and at the end, and on SIGTERM/SIGINT/SIGUSR1).
    public var checkpointEvery: Int
    /// Complete checkpoints kept (the newest ones; the best by validation PSNR is kept besides).
    public var keepCheckpoints: Int
    /// Steps skipped in a row (non-finite loss or gradient) before the run stops.
    public var maxConsecutiveSkips: Int
    /// A rank waiting longer than this in a collective ends the job, naming the rank that stopped
    /// responding (0: wait forever). Validation and checkpoint writes on rank 0 are exempt.
    public var watchdogSeconds: Double
    /// A checkpoint that cannot be written (disk full, I/O error) stops the run instead of being logged and skipped.
    public var stopOnCheckpointError: Bool

    enum CodingKeys: String, CodingKey {
        case preset, phase, generator, discriminator, steps, batch, accumulate, lr, ema, seed, data, val, run
        case globalSkip = "global_skip", discriminatorLR = "discriminator_lr", lrSteps = "lr_steps", lrGamma = "lr_gamma"
        case adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2", contentLoss = "content_loss"
        case adversarialWeight = "adversarial_weight", syncBN = "sync_bn", initFrom = "init", vggWeights = "vgg_weights"
        case allowRandomVGG = "allow_random_vgg", validateEvery = "validate_every", validationSamples = "validation_samples"
        case logEvery = "log_every", checkReplicas = "check_replicas"
        case checkpointEvery = "checkpoint_every", keepCheckpoints = "keep_checkpoints"
        case maxConsecutiveSkips = "max_consecutive_skips", watchdogSeconds = "watchdog_seconds"
        case stopOnCheckpointError = "stop_on_checkpoint_error"
        case ganLoss = "gan_loss", pixelLoss = "pixel_loss", pixelWeight = "pixel_weight", vggLoss = "vgg_loss"
        case vggWeight = "vgg_weight", tvWeight = "tv_weight"
    }

    public static let presetNames = ["paper", "tiny", "combined", "tiny-combined", "colorize"]

    /// `paper`: Ledig et al. 2017 exactly (SRResNet: 10^6 updates at 1e-4, MSE; SRGAN: 10^5 at
    /// 1e-4 then 10^5 at 1e-5, VGG54, batch 16, 96x96 patches, Adam beta1 0.9).
    /// `tiny`: B=4, C=32, a 3x3 tail, the global skip, L1 in the SRResNet phase, a quarter-width
    /// discriminator, Adam 1e-3: learns in minutes on 2 cores (tests and the demo).
    /// `combined`: `paper`'s networks and schedule; its gan phase trains G on
    /// MSE + 1e-3 adversarial + 6e-3 VGG54 + 2e-8 TV with G at 1e-4 and D at 1e-5 (docs/gan-variants.md).
    /// `tiny-combined`: the same losses and learning-rate ratio on `tiny`'s networks (tests).
    public static func preset(_ name: String, phase: Phase) throws -> TrainConfig {
        if name == "combined" || name == "tiny-combined" {
            var config = try preset(name == "combined" ? "paper" : "tiny", phase: phase)
            config.preset = name
            config.run = "runs/\(name)-\(phase.rawValue)"
            if phase == .gan { config.useCombinedLoss() }
            return config
        }
        var config = TrainConfig(
            preset: name, phase: phase, generator: GeneratorConfig(), discriminator: DiscriminatorConfig(), globalSkip: false,
            steps: phase == .srresnet ? 1_000_000 : 200_000, batch: 16, accumulate: 1, lr: 1e-4, discriminatorLR: nil,
            lrSteps: phase == .srresnet ? [] : [100_000], lrGamma: 0.1, adamBeta1: 0.9, adamBeta2: 0.999,
            contentLoss: phase == .srresnet ? .mse : .vgg54, adversarialWeight: 1e-3, ema: 0, syncBN: false, seed: 0,
            data: nil, val: nil, run: "runs/\(name)-\(phase.rawValue)", initFrom: nil, vggWeights: nil, allowRandomVGG: false,
            validateEvery: 1000, validationSamples: 4, logEvery: 10, checkReplicas: false,
            checkpointEvery: 5000, keepCheckpoints: 3, maxConsecutiveSkips: 10, watchdogSeconds: 600, stopOnCheckpointError: false)
        switch name {
        case "paper":
            break
        case "tiny":
            // Measured on the sample photos (docs/benchmarks.md): with 48x48 patches (pack
            // --patch-size 48) 7000 steps take about 5 minutes on 2 cores under mpirun -n 2 and
            // reach +1.02 dB over bicubic on the 3 held-out photos. The 3x3 tail (EDSR's; the
            // paper's is 9x9) costs a ninth of the 9x9 at the output resolution and learned as
            // well (+1.02 vs +1.01 dB after 6000 steps), so the time buys steps instead.
            config.generator = GeneratorConfig(channels: 32, residualBlocks: 4, scale: 4, tailKernel: 3)
            config.discriminator = DiscriminatorConfig(patchSize: 48, baseChannels: 16, hidden: 256)
            config.globalSkip = true
            config.lr = 1e-3
            config.steps = phase == .srresnet ? 7000 : 300
            config.lrSteps = phase == .srresnet ? [5600] : []
            // L1 for the SRResNet phase: +0.98 dB over bicubic against MSE's +0.89 in the same
            // time (docs/benchmarks.md); the GAN phase keeps the paper's SRGAN-MSE content loss.
            config.contentLoss = phase == .srresnet ? .l1 : .mse
            config.validateEvery = phase == .srresnet ? 3500 : 100
            config.validationSamples = 2
            config.checkpointEvery = phase == .srresnet ? 3500 : 100
        case "colorize":
            // Grayscale LR -> colour x4 SR on whole images (docs/colorize.md): pack with
            // --whole-images 256 --skip-gray. A small U-Net + the tiny SRResNet; the discriminator
            // at quarter width with a 256-wide dense layer: at 256x256 its first dense layer is
            // 128 x 16 x 16 x 256 = 8.4M weights (the paper's D would have 512 x 16 x 16 x 1024 = 134M).
            config.generator = GeneratorConfig(channels: 32, residualBlocks: 4, scale: 4, tailKernel: 3)
            config.generator.kind = .colorize
            config.generator.colorizer = ColorizerConfig(baseChannels: 32, depth: 3, outputChannels: 3)
            config.globalSkip = true   // the gray image as the base: G learns colour and detail on top
            config.discriminator = DiscriminatorConfig(patchSize: 256, baseChannels: 16, hidden: 256)
            // Batch 2 per rank and Adam 5e-4: 1e-3 diverged after 300 steps without the gray skip
            // (docs/benchmarks.md, "Colorize mode").
            config.batch = 2
            config.lr = 5e-4
            config.steps = phase == .srresnet ? 3000 : 300
            config.lrSteps = phase == .srresnet ? [2400] : []
            config.contentLoss = phase == .srresnet ? .l1 : .mse
            config.validateEvery = phase == .srresnet ? 1000 : 100
            config.validationSamples = 2
            config.checkpointEvery = phase == .srresnet ? 1000 : 100
        default:
            throw ConfigurationError("unknown preset '\(name)'", hint: "choose one of: \(presetNames.joined(separator: ", "))")
        }
        return config
    }

    /// The combined generator loss MSE + 1e-3 adv + 6e-3 VGG54 + 2e-8 TV, D at a tenth of G's rate.
    mutating func useCombinedLoss() {
        contentLoss = .combined
        pixelLoss = .mse
        pixelWeight = 1
        vggLoss = .vgg54
        vggWeight = 6e-3
        adversarialWeight = 1e-3
        tvWeight = 2e-8
        discriminatorLR = lr / 10
    }

    /// Applies the settings of a YAML file over this config; unknown keys are refused.
    public func overlaid(withYAML text: String, file: String) throws -> TrainConfig {
        guard let loaded = try? Yams.load(yaml: text) else {
            throw ConfigurationError("\(file): not valid YAML", hint: "check the file's syntax")
        }
        guard let overrides = loaded as? [String: Any] else {
            throw ConfigurationError("\(file): the top level is not a mapping of settings", hint: "write one 'key: value' per line")
        }
        var base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        try Self.merge(overrides, into: &base, path: "", file: file)
        do {
            return try JSONDecoder().decode(TrainConfig.self, from: JSONSerialization.data(withJSONObject: base))
        } catch {
            throw ConfigurationError("\(file): a setting has the wrong type (\(error))", hint: "compare with the resolved config that training prints")
        }
    }

    private static func merge(_ overrides: [String: Any], into base: inout [String: Any], path: String, file: String) throws {
        for (key, value) in overrides {
            guard let existing = base[key] ?? (optionalKeys.contains(key) ? NSNull() : nil) else {
                throw ConfigurationError("\(file): unknown setting '\(path)\(key)'",
                                         hint: "known settings: \(base.keys.sorted().joined(separator: ", "))")
            }
            if var nested = existing as? [String: Any], let child = value as? [String: Any] {
                try merge(child, into: &nested, path: "\(path)\(key).", file: file)
                base[key] = nested
            } else {
                base[key] = value
            }
        }
    }

    private static let optionalKeys: Set<String> = ["discriminator_lr", "data", "val", "init", "vgg_weights"]

    /// The problems with these settings (empty when they are fine).
    public var problems: [String] {
        var found: [String] = []
        if let problem = generator.problem { found.append("generator: \(problem)") }
        var conditioned = discriminator
        conditioned.scale = generator.scale   // the trainer conditions D on G's input, at G's scale
        if let problem = conditioned.problem { found.append("discriminator: \(problem)") }
        if steps < 1 || batch < 1 || accumulate < 1 { found.append("steps, batch and accumulate must be >= 1") }
        if lr <= 0 || (discriminatorLR ?? 1) <= 0 { found.append("learning rates must be > 0") }
        if !(0..<1).contains(ema) { found.append("ema must be in [0, 1)") }
        if validateEvery < 1 || logEvery < 1 || checkpointEvery < 1 { found.append("validate_every, log_every and checkpoint_every must be >= 1") }
        if keepCheckpoints < 1 { found.append("keep_checkpoints must be >= 1") }
        if maxConsecutiveSkips < 0 || watchdogSeconds < 0 { found.append("max_consecutive_skips and watchdog_seconds must be >= 0") }
        if phase == .srresnet && contentLoss.vggLayer != nil { found.append("the srresnet phase trains on mse or l1, not \(contentLoss.rawValue)") }
        if contentLoss == .combined {
            if (pixelLoss == .none || pixelWeight == 0) && (vggLoss == .none || vggWeight == 0) {
                found.append("content_loss combined needs pixel_loss or vgg_loss (not none, weight not 0)")
            }
            if phase == .srresnet && vggLoss != .none && vggWeight != 0 { found.append("the srresnet phase trains on pixel losses, not vgg_loss \(vggLoss.rawValue)") }
        }
        if tvWeight < 0 || pixelWeight < 0 || vggWeight < 0 { found.append("tv_weight, pixel_weight and vgg_weight must be >= 0") }
        if discriminator.conditional {
            if discriminator.lrChannels != generator.networkInputChannels {
                let source = generator.kind == .colorize ? "the colorize generator's 1-channel L* input" : "generator.input_channels \(generator.inputChannels)"
                found.append("discriminator.lr_channels \(discriminator.lrChannels) differs from \(source) (D is conditioned on G's input)")
            }
        }
        return found
    }

    public var yaml: String { (try? YAMLEncoder().encode(self)) ?? "\(self)" }

    /// A config from a saved RUN_DIR/config.yaml or checkpoint state (its own preset and phase first).
    public static func fromSaved(yaml text: String, source: String) throws -> TrainConfig {
        guard let loaded = try? Yams.load(yaml: text) as? [String: Any],
              let presetName = loaded["preset"] as? String, let phaseName = loaded["phase"] as? String,
              let phase = Phase(rawValue: phaseName) else {
            throw ConfigurationError("\(source): the saved config is unreadable", hint: "the file is damaged; use an earlier checkpoint")
        }
        return try preset(presetName, phase: phase).overlaid(withYAML: text, file: source)
    }

    /// What differs between this config and `other` in the settings that fix the networks'
    /// shapes and the data (resuming across such a change is impossible).
    public func shapeDifferences(from other: TrainConfig) -> [String] {
        var found: [String] = []
        func compare<T: Encodable>(_ name: String, _ a: T, _ b: T) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let x = (try? encoder.encode([a])).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [Any] }?.first
            let y = (try? encoder.encode([b])).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [Any] }?.first
            // Nested settings (generator.colorizer) as sorted JSON: a dictionary's description
            // lists its keys in a per-process order, so equal settings could compare unequal.
            func text(_ value: Any?) -> String {
                guard let value else { return "none" }
                guard value is [String: Any] || value is [Any],
                      let data = try? JSONSerialization.data(withJSONObject: value, options: .sortedKeys) else { return "\(value)" }
                return String(decoding: data, as: UTF8.self)
            }
            if let x = x as? [String: Any], let y = y as? [String: Any] {
                for key in Set(x.keys).union(y.keys).sorted() where text(x[key]) != text(y[key]) {
                    found.append("\(name).\(key) \(text(x[key])) here vs \(text(y[key])) in the checkpoint")
                }
            } else if "\(x ?? "none")" != "\(y ?? "none")" {
                found.append("\(name) \(x ?? "none") here vs \(y ?? "none") in the checkpoint")
            }
        }
        compare("phase", phase, other.phase)
        compare("generator", generator, other.generator)
        if phase == .gan {
            // D's scale is G's (set by the trainer; files from before it existed lack it).
            var mine = discriminator, theirs = other.discriminator
            mine.scale = generator.scale
            theirs.scale = other.generator.scale
            compare("discriminator", mine, theirs)
        }
        compare("global_skip", globalSkip, other.globalSkip)
        return found
    }

    /// The generator's and discriminator's learning rates at `step` (0-based).
    public func learningRates(at step: Int) -> (generator: Float, discriminator: Float) {
        let rates = exactLearningRates(at: step)
        return (Float(rates.generator), Float(rates.discriminator))
    }

    /// The same in double precision (as recorded in checkpoints).
    public func exactLearningRates(at step: Int) -> (generator: Double, discriminator: Double) {
        let drops = lrSteps.filter { step >= $0 }.count
        let factor = pow(lrGamma, Double(drops))
        return (lr * factor, (discriminatorLR ?? lr) * factor)
    }
}

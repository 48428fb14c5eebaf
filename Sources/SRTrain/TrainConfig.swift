// Training settings: a preset (Presets.swift), then a YAML config file over it, then the command
// line's settings over that (TrainConfig.resolve), every one through the table in Settings.swift.
// The resolved config is printed at start and saved as RUN_DIR/config.yaml.

import Foundation
import SRCore
import SRModels
import Yams

public enum Phase: String, Codable, CaseIterable, Sendable {
    case srresnet, gan
}

/// The settings of a run. The field initialisers are the paper's (SRResNet phase); the table in
/// Settings.swift names, documents and checks every field.
public struct TrainConfig: Equatable, Sendable {
    public var preset = "paper"
    public var phase = Phase.srresnet
    // Networks.
    public var generator = GeneratorConfig()
    public var discriminator = DiscriminatorConfig()
    /// Add the bicubic-upsampled LR to the generator's output (the generator learns a residual);
    /// in the colorize mode, the bicubic of the gray picture of its L* input (GraySkip).
    public var globalSkip = false
    // Optimisation.
    public var steps = 1_000_000
    /// Per rank; the global batch is batch x ranks x accumulate.
    public var batch = 16
    public var accumulate = 1
    public var lr = 1e-4
    /// The discriminator's learning rate; nil: the same as the generator's.
    public var discriminatorLR: Double?
    /// Steps at which the learning rates are multiplied by `lrGamma`.
    public var lrSteps: [Int] = []
    public var lrGamma = 0.1
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var contentLoss = ContentLossKind.mse
    public var adversarialWeight = 1e-3
    // Loss variants (docs/gan-variants.md); the defaults are the paper's losses.
    /// standard: BCE on D's logits; ragan: the relativistic average GAN over the global batch.
    public var ganLoss = GANLossKind.standard
    /// content_loss combined: pixel_loss x pixel_weight + vgg_loss x vgg_weight.
    public var pixelLoss = PixelLossKind.none
    public var pixelWeight = 1.0
    public var vggLoss = VGGLossKind.none
    public var vggWeight = 1.0
    /// Weight of the total-variation loss on the SR output (0: off).
    public var tvWeight = 0.0
    /// Exponential moving average of the generator weights (0: off).
    public var ema = 0.0
    public var syncBN = false
    public var seed: UInt64 = 0
    /// The convolutions' and dense layers' products (forward, input and weight gradients; G, D
    /// and VGG19) in fp32, or on bfloat16 inputs with fp32 sums; everything else stays fp32.
    public var precision = ProductPrecision.fp32
    // Inputs and outputs.
    public var data: String?
    public var val: String?
    public var run = "runs/paper-srresnet"
    public var initFrom: String?
    public var vggWeights: String?
    /// Tests only: train a VGG content loss on random VGG19 weights.
    public var allowRandomVGG = false
    public var validateEvery = 1000
    /// Validation images whose SR result is saved as PNG.
    public var validationSamples = 4
    public var logEvery = 10
    public var checkReplicas = false
    // Checkpoints and faults.
    /// Write a checkpoint every N steps (and at the end, and on SIGTERM/SIGINT/SIGUSR1).
    public var checkpointEvery = 5000
    /// Complete checkpoints kept (the newest ones; the best by validation PSNR is kept besides).
    public var keepCheckpoints = 3
    /// Steps skipped in a row (non-finite loss or gradient) before the run stops.
    public var maxConsecutiveSkips = 10
    /// A rank waiting longer than this in a collective ends the job, naming the rank that stopped
    /// responding (0: wait forever). Validation and checkpoint writes on rank 0 are exempt.
    public var watchdogSeconds = 600.0
    /// A checkpoint that cannot be written (disk full, I/O error) stops the run instead of being logged and skipped.
    public var stopOnCheckpointError = false

    public init() {}

    /// The settings as resolved for a run: `preset` (default paper; resuming, the checkpoint's
    /// `saved` config instead, unless a preset is given), the YAML `file` over it, then
    /// `overrides` (key, value as in YAML) in order. The phase is `phase`, else the file's, else
    /// the saved one, else srresnet. Call `validate()` on the result.
    public static func resolve(preset: String?, phase: Phase?, file: (path: String, text: String)?,
                               overrides: [(key: String, value: String)], saved: String? = nil) throws -> TrainConfig {
        var config: TrainConfig
        if let saved, preset == nil {
            config = try fromSaved(yaml: saved, source: "the checkpoint's config")
            if let phase, phase != config.phase {
                throw ConfigurationError("the checkpoint is from the \(config.phase.rawValue) phase, not \(phase.rawValue)",
                                         hint: "start the \(phase.rawValue) phase as a new run with --init pointing at this run")
            }
            if let file { config = try config.overlaid(withYAML: file.text, file: file.path) }
        } else {
            let name = preset ?? "paper"
            var chosen = phase ?? .srresnet
            if phase == nil, let file, let loaded = try? TrainConfig.preset(name, phase: .srresnet).overlaid(withYAML: file.text, file: file.path) {
                chosen = loaded.phase
            }
            config = try TrainConfig.preset(name, phase: chosen)
            if let file { config = try config.overlaid(withYAML: file.text, file: file.path) }
            config.phase = chosen
        }
        for (key, value) in overrides { try config.set(key, to: value, source: "the command line") }
        return config
    }

    /// Sets one setting from its text as in YAML (`lr`, "2e-3"; `lr_steps`, "[100, 200]").
    public mutating func set(_ key: String, to text: String, source: String) throws {
        guard let setting = Self.setting(key) else {
            throw ConfigurationError("\(source): unknown setting '\(key)'", hint: "known settings: \(Self.settings.map(\.key).joined(separator: ", "))")
        }
        let node = text.hasPrefix("[") ? (try? Self.compose(text, file: source)) ?? Node(text) : Node(text, .implicit, .plain)
        switch setting.write(&self, node) {
        case nil: break
        case .wrongType(let problem)?, .outOfRange(let problem)?:
            throw ConfigurationError("\(source): \(problem)", hint: "\(key): \(setting.help); it takes \(setting.type)")
        }
    }

    /// Applies the settings of a YAML file over this config; unknown keys are refused.
    /// Settings nest three levels at most; Yams parses nesting by recursion, so a file of a few
    /// thousand '{' overflowed the stack (found by fuzzing). Deeper text is refused before parsing.
    static let maximumNesting = 32

    /// Yams.compose, after refusing text nested deeper than `maximumNesting` (flow brackets
    /// outside quotes, or indentation of more than twice that many spaces).
    static func compose(_ text: String, file: String) throws -> Node? {
        // Per line, outside quotes and comments: the open flow brackets (carried over lines) and
        // the block indicators ("- ", "? ") of the line, each a level of Yams's recursion. A quote
        // is taken to end with its line, so a stray apostrophe cannot hide what follows it.
        var depth = 0
        for (index, row) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if row.prefix(while: { $0 == " " }).count > 2 * maximumNesting {
                throw ConfigurationError("\(file):\(index + 1): indented deeper than \(2 * maximumNesting) spaces",
                                         hint: "settings nest three levels at most, each indented by two spaces")
            }
            var quote: Character?, indicators = 0, deepest = depth, previous: Character = " "
            for (character, next) in zip(row, row.dropFirst().map(Optional.some) + [nil]) {
                defer { previous = character }
                if let open = quote { if character == open { quote = nil }; continue }
                switch character {
                case "\"", "'": quote = character
                case "{", "[": depth += 1; deepest = max(deepest, depth)
                case "}", "]": depth -= 1
                case "-", "?": if previous == " " && (next == nil || next == " ") { indicators += 1 }
                default: break
                }
                if character == "#" && previous == " " { break }
            }
            if deepest + indicators > maximumNesting {
                throw ConfigurationError("\(file):\(index + 1): nested deeper than \(maximumNesting) levels",
                                         hint: "settings nest three levels at most: write one 'key: value' per line")
            }
        }
        return try Yams.compose(yaml: text)
    }

    public func overlaid(withYAML text: String, file: String) throws -> TrainConfig {
        let loaded: Node?
        do { loaded = try Self.compose(text, file: file) } catch let error as ConfigurationError { throw error } catch {
            throw ConfigurationError("\(file)\(Self.yamlPosition(error)): not valid YAML (\(Self.yamlProblem(error)))",
                                     hint: "check the file's syntax there: one 'key: value' per line, nested keys indented by two spaces")
        }
        guard let root = loaded, let mapping = root.mapping else {
            if loaded == nil || loaded!.isNull { return self }   // an empty file
            throw ConfigurationError("\(file): the top level is not a mapping of settings", hint: "write one 'key: value' per line")
        }
        var config = self
        try config.apply(mapping, prefix: "", file: file)
        return config
    }

    /// ":LINE:COLUMN" of a Yams error (1-based), or "" when it carries no position.
    static func yamlPosition(_ error: Error) -> String {
        switch error as? YamlError {
        case .scanner(_, _, let mark, _)?, .parser(_, _, let mark, _)?, .composer(_, _, let mark, _)?:
            return ":\(mark.line):\(mark.column)"
        case .reader(_, let offset?, _, _)?:
            return " (byte offset \(offset))"
        default:
            return ""
        }
    }

    /// Yams's problem text alone (its description repeats the whole line with a caret).
    static func yamlProblem(_ error: Error) -> String {
        switch error as? YamlError {
        case .scanner(let context, let problem, _, _)?, .parser(let context, let problem, _, _)?, .composer(let context, let problem, _, _)?:
            return [context.map { "\($0.text)" }, problem].compactMap { $0 }.joined(separator: ": ")
        case .reader(let problem, _, _, _)?:
            return problem
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "unreadable"
        }
    }

    private mutating func apply(_ mapping: Node.Mapping, prefix: String, file: String) throws {
        for (keyNode, value) in mapping {
            let key = prefix + (keyNode.scalar?.string ?? "?")
            if Self.groups.contains(key) {
                guard let nested = value.mapping else {
                    throw ConfigurationError("\(file): a setting has the wrong type: '\(key)' holds settings (\(key).KEY: VALUE), not a value",
                                             hint: "compare with the resolved config that training prints")
                }
                try apply(nested, prefix: key + ".", file: file)
            } else if let setting = Self.setting(key) {
                switch setting.write(&self, value) {
                case nil: break
                case .wrongType(let problem)?:
                    throw ConfigurationError("\(file): a setting has the wrong type: \(problem)", hint: "\(key): \(setting.help); it takes \(setting.type)")
                case .outOfRange(let problem)?:
                    throw ConfigurationError("\(file): \(problem)", hint: "\(key): \(setting.help); it takes \(setting.type)")
                }
            } else {
                throw ConfigurationError("\(file): unknown setting '\(key)'",
                                         hint: "known settings: \(Self.settings.map(\.key).joined(separator: ", "))")
            }
        }
    }

    /// The settings as YAML, in the table's order (nested keys as nested mappings; unset ones left out).
    public var yaml: String {
        let entries = Self.settings.compactMap { setting in setting.read(self).map { (setting.key.split(separator: "."), $0) } }
        func mapping(_ items: [(ArraySlice<Substring>, Node)]) -> Node {
            var pairs: [(Node, Node)] = []
            var i = items.startIndex
            while i < items.endIndex {
                let head = items[i].0.first!
                guard items[i].0.count > 1 else { pairs.append((Node(String(head)), items[i].1)); i += 1; continue }
                var group: [(ArraySlice<Substring>, Node)] = []
                while i < items.endIndex, items[i].0.count > 1, items[i].0.first! == head {
                    group.append((items[i].0.dropFirst(), items[i].1))
                    i += 1
                }
                pairs.append((Node(String(head)), mapping(group)))
            }
            return Node(pairs)
        }
        return (try? Yams.serialize(node: mapping(entries.map { (ArraySlice($0.0), $0.1) }))) ?? "\(self)"
    }

    /// A config from a saved RUN_DIR/config.yaml or checkpoint state (its own preset and phase first).
    public static func fromSaved(yaml text: String, source: String) throws -> TrainConfig {
        guard let root = try? Self.compose(text, file: source), let mapping = root.mapping,
              let presetName = mapping["preset"]?.scalar?.string, let phaseName = mapping["phase"]?.scalar?.string,
              let phase = Phase(rawValue: phaseName) else {
            throw ConfigurationError("\(source): the saved config is unreadable", hint: "the file is damaged; use an earlier checkpoint")
        }
        return try preset(presetName, phase: phase).overlaid(withYAML: text, file: source)
    }

    /// These settings for packed data of `patchSize`: the discriminator sees patches of that side
    /// and a conditional one joins the LR at the generator's scale.
    public func fitted(toPatchSize patchSize: Int) -> TrainConfig {
        var config = self
        config.discriminator.patchSize = patchSize
        config.discriminator.scale = generator.scale
        return config
    }

    /// The problems with these settings (empty when they are fine).
    public var problems: [String] {
        var found = Self.settings.compactMap { $0.check(self) }
        if let problem = generator.problem { found.append("generator: \(problem)") }
        if let problem = fitted(toPatchSize: discriminator.patchSize).discriminator.problem { found.append("discriminator: \(problem)") }
        if phase == .srresnet && contentLoss.vggLayer != nil { found.append("the srresnet phase trains on mse or l1, not \(contentLoss.rawValue)") }
        if contentLoss == .combined {
            if (pixelLoss == .none || pixelWeight == 0) && (vggLoss == .none || vggWeight == 0) {
                found.append("content_loss combined needs pixel_loss or vgg_loss (not none, weight not 0)")
            }
            if phase == .srresnet && vggLoss != .none && vggWeight != 0 { found.append("the srresnet phase trains on pixel losses, not vgg_loss \(vggLoss.rawValue)") }
        }
        if discriminator.conditional {
            if discriminator.lrChannels != generator.networkInputChannels {
                let source = generator.kind == .colorize ? "the colorize generator's 1-channel L* input" : "generator.input_channels \(generator.inputChannels)"
                found.append("discriminator.lr_channels \(discriminator.lrChannels) differs from \(source) (D is conditioned on G's input)")
            }
        }
        return found
    }

    /// Throws one error naming every problem (`problems`).
    public func validate() throws {
        let problems = self.problems
        guard problems.isEmpty else {
            throw ConfigurationError("invalid settings: \(problems.joined(separator: "; "))", hint: "fix them in the config file or on the command line")
        }
    }

    /// What differs between this config and `other` (a checkpoint's) in the settings that fix the
    /// networks' shapes (resuming across such a change is impossible).
    public func shapeDifferences(from other: TrainConfig) -> [String] {
        differences(from: other) { $0 == .mustMatch || ($0 == .mustMatchInGANPhase && phase == .gan) }
            .map { "\($0.key) \($0.here) here vs \($0.there) in the checkpoint" }
    }

    /// The settings that changed since `other` (a checkpoint's) and change the course of training.
    public func resumeChanges(from other: TrainConfig) -> [String] {
        differences(from: other) { $0 == .noted }.map { "\($0.key) \($0.there) -> \($0.here)" }
    }

    private func differences(from other: TrainConfig, where included: (Setting.OnResume) -> Bool) -> [(key: String, here: String, there: String)] {
        Self.settings.filter { included($0.onResume) }.compactMap { setting in
            let here = setting.read(self).map(Setting.text) ?? "none", there = setting.read(other).map(Setting.text) ?? "none"
            return here == there ? nil : (setting.key, here, there)
        }
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

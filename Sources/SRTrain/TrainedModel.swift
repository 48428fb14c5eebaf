// A trained generator from whatever a user points at: a checkpoint folder, a run folder (its
// newest complete checkpoint, else its generator.safetensors), or a generator .safetensors file
// written by srgan-dist. The file describes the model itself (SuperResolver's `generator` and
// `global_skip` metadata); files written before those entries carry the run's config instead
// (the network's shape and whether the bicubic global skip is on), which is read then.

import Foundation
import SRModels

public struct TrainedModel {
    /// The generator with its skip and output range: what validate, upscale and serve run.
    public let superResolver: SuperResolver
    /// The safetensors file the weights came from.
    public let file: String
    public var generator: Generator { superResolver.generator }
    public var scale: Int { superResolver.scale }
    public var globalSkip: Bool { superResolver.globalSkip }

    public init(_ superResolver: SuperResolver, file: String) {
        self.superResolver = superResolver
        self.file = file
    }

    /// `ema`: the EMA generator of the checkpoint or run (generator_ema.safetensors).
    public static func load(_ path: String, ema: Bool = false, warn: (String) -> Void = { _ in }) throws -> TrainedModel {
        let fileName = ema ? "generator_ema.safetensors" : "generator.safetensors"
        var file = path
        var configText: String?
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFileError(file: path, problem: "no such checkpoint, run folder or model file",
                                 hint: "pass a run folder, one of its checkpoints/step-* folders, or a generator .safetensors file")
        }
        if isDirectory.boolValue {
            if let checkpoint = try Checkpoint.locate(path, warn: warn) {
                file = (checkpoint.path as NSString).appendingPathComponent(fileName)
                configText = checkpoint.state.config
            } else {
                file = (path as NSString).appendingPathComponent(fileName)
            }
            guard FileManager.default.fileExists(atPath: file) else {
                throw ModelFileError(file: path, problem: "holds no \(fileName)" + (ema ? " (the run had no --ema)" : ""),
                                     hint: "pass a finished run folder, a checkpoint folder or a generator .safetensors file")
            }
        }
        let weights = try SafetensorsFile(path: file)
        if let described = try SuperResolver.load(from: weights) { return TrainedModel(described, file: file) }
        if configText == nil { configText = weights.metadata["config"] }
        guard let configText else {
            throw ModelFileError(file: file, problem: "carries no srgan-dist config in its metadata, so the network's shape is unknown",
                                 hint: "use a generator written by srgan-dist train, or its run or checkpoint folder")
        }
        let config = try TrainConfig.fromSaved(yaml: configText, source: file)
        // A tampered or hand-edited config (an even tail kernel, say) must not reach the
        // generator's precondition (found by the safetensors and checkpoint fuzzing targets).
        if let problem = config.generator.problem {
            throw ModelFileError(file: file, problem: "its config describes no valid generator: \(problem)",
                                 hint: "the file was edited or damaged: use the model file or checkpoint srgan-dist wrote")
        }
        let generator = Generator(config.generator, seed: 0)
        try generator.load(from: weights, strict: true)
        return TrainedModel(SuperResolver(generator, globalSkip: config.globalSkip), file: file)
    }
}

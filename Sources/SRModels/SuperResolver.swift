// A generator with its global skip and output range (GlobalSkip.swift): what a model file
// describes, and the one implementation of "LR image in [0,1] -> SR image in [0,1]" that
// training, validation, upscale and serve share.
//   training:   SR = forward(x, .training), (N,3,H,W) in [-1,1]; dL/dSR goes to generator.backward
//               (the skip does not depend on G's weights)
//   inference:  callAsFunction(lr image) -> (1,3,H,W) in [0,1]; a tiled upscale runs G on tiles and
//               finishes with GlobalSkip.bicubicRows and OutputRange.toImage
// A model file written by srgan-dist carries the description in its metadata: `generator` (the
// GeneratorConfig as JSON) and `global_skip` ("true" or "false"), so loading needs the file alone.
// Files written before 2026-12-02 carry only the run's config (SRTrain's TrainedModel reads it).

import Foundation
import SRCore
import SRData

public final class SuperResolver {
    public let generator: Generator
    /// The bicubic picture added to G's output; nil when the global skip is off.
    public let skip: GlobalSkip?

    public init(_ generator: Generator, globalSkip: Bool) {
        self.generator = generator
        skip = globalSkip ? GlobalSkip(scale: generator.config.scale, fromLightness: generator.config.kind == .colorize) : nil
    }

    public var config: GeneratorConfig { generator.config }
    public var scale: Int { generator.config.scale }
    public var globalSkip: Bool { skip != nil }

    /// input (N,C,h,w) as G takes it -> SR (N,3,h*scale,w*scale) in [-1,1]: G(input) plus the skip.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let sr = generator.forward(input, mode: mode)
        if let skip {
            let base = skip(input)
            withPointers(sr, base) { srBatch, bicubicBatch in addInPlace(srBatch, bicubicBatch, count: sr.count) }
        }
        return sr
    }

    /// G's input for an 8-bit LR image: (1,3,h,w) in [0,1], or for the colouriser (1,1,h,w) of
    /// L*/50 - 1 (only the image's lightness is used).
    public func networkInput(_ lr: RGBImage) -> Tensor {
        if config.kind == .colorize { return Tensor(shape: [1, 1, lr.height, lr.width], values: Lab.networkInput(lr)) }
        return Tensor(shape: [1, 3, lr.height, lr.width], values: PlanarImage(lr).values)
    }

    /// The SR image of `lr`, whole: (1,3,h*scale,w*scale) in [0,1] (not clamped).
    public func callAsFunction(_ lr: RGBImage) -> Tensor {
        let sr = forward(networkInput(lr), mode: .inference)
        sr.withUnsafeMutablePointer { OutputRange.toImage($0, count: sr.count) }
        return sr
    }
}

extension SuperResolver {
    static let configKey = "generator", skipKey = "global_skip"

    /// The metadata entries that describe this model in its file.
    public var metadata: [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: (try? encoder.encode(config)) ?? Data(), as: UTF8.self)
        return [Self.configKey: json, Self.skipKey: globalSkip ? "true" : "false"]
    }

    /// The model `file` describes, its weights loaded; nil when its metadata has no `generator`
    /// entry (a file written before the entry existed, or not by srgan-dist).
    public static func load(from file: SafetensorsFile) throws -> SuperResolver? {
        guard let json = file.metadata[configKey] else { return nil }
        let hint = "the file was edited or damaged: use the model file or checkpoint srgan-dist wrote"
        let config: GeneratorConfig
        do {
            config = try JSONDecoder().decode(GeneratorConfig.self, from: Data(json.utf8))
        } catch {
            throw ModelFileError(file: file.path, problem: "its 'generator' metadata is not a generator configuration (JSON)", hint: hint)
        }
        // A tampered config (an even tail kernel, say) must not reach the generator's precondition.
        if let problem = config.problem {
            throw ModelFileError(file: file.path, problem: "its 'generator' metadata describes no valid generator: \(problem)", hint: hint)
        }
        let skipText = file.metadata[skipKey] ?? ""
        guard let skip = ["true": true, "false": false][skipText] else {
            throw ModelFileError(file: file.path, problem: "its 'global_skip' metadata is '\(skipText)' (expected 'true' or 'false')", hint: hint)
        }
        let model = SuperResolver(Generator(config, seed: 0), globalSkip: skip)
        try model.generator.load(from: file, strict: true)
        return model
    }
}

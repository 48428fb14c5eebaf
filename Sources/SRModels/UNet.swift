// The colourising generator's U-Net (docs/colorize.md, docs/networks.md), on the LR grid:
//   head: conv3x3 stride 1, in -> F, LeakyReLU(0.2)             (N, F, h, w)
//   for k in 0..<depth (encoder):    skip_k = x
//     down.{k}: conv3x3 stride 2, F_k -> F_{k+1}, LeakyReLU     (N, F_{k+1}, h/2^(k+1), w/2^(k+1))
//   for k in depth-1...0 (decoder):
//     nearest x2, up.{k}: conv3x3, F_{k+1} -> F_k, LeakyReLU     (N, F_k, h/2^k, w/2^k)
//     cat(skip_k, x) -> fuse.{k}: conv3x3, 2F_k -> F_k, LeakyReLU
//   tail: conv3x3 stride 1, F -> out (linear)                    (N, out, h, w)
// with F_k = F * 2^k. Each scale is one ConcatSkip around the deeper ones, so the whole network is
// nested layers with no graph code. h and w must be multiples of 2^depth.
// PyTorch names (Tests/SRModelsTests/Fixtures/reference_models.py, class UNet), under `prefix`:
//   head, down.{k}, up.{k}, fuse.{k}, tail.

import SRCore

public struct ColorizerConfig: Equatable, Codable, Sendable {
    /// F: the channels at full (LR) resolution; doubled at every step down.
    public var baseChannels = 32
    /// Scale steps (stride-2 convolutions down, nearest x2 + conv up); at least 3.
    public var depth = 3
    /// The U-Net's output channels concatenated with the grayscale input: 3 (a colour image) or,
    /// "un-bottlenecked", as many features as the SR network wants (e.g. 64).
    public var outputChannels = 3

    enum CodingKeys: String, CodingKey {
        case depth
        case baseChannels = "base_channels", outputChannels = "output_channels"
    }

    public init(baseChannels: Int = 32, depth: Int = 3, outputChannels: Int = 3) {
        self.baseChannels = baseChannels
        self.depth = depth
        self.outputChannels = outputChannels
    }

    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        baseChannels = try values.decodeIfPresent(Int.self, forKey: .baseChannels) ?? 32
        depth = try values.decodeIfPresent(Int.self, forKey: .depth) ?? 3
        outputChannels = try values.decodeIfPresent(Int.self, forKey: .outputChannels) ?? 3
    }

    /// LR sides must be multiples of this.
    public var sideMultiple: Int { 1 << depth }

    public var problem: String? {
        if baseChannels < 1 || outputChannels < 1 { return "colorizer.base_channels and colorizer.output_channels must be >= 1" }
        if depth < 3 || depth > 8 { return "colorizer.depth \(depth) is outside 3...8 (the issue asks for three or more scale steps)" }
        return nil
    }
}

enum UNet {
    /// The U-Net's layers, registering its parameters in `store` under `prefix`.
    static func make(_ config: ColorizerConfig, inChannels: Int, store: ParameterStore, prefix: String,
                     rng: inout SeededRandom) -> Layer {
        let f = config.baseChannels
        func conv(_ name: String, _ inputs: Int, _ outputs: Int, stride: Int = 1) -> Layer {
            Conv2d(store, prefix + name, inChannels: inputs, outChannels: outputs, kernelSize: 3, stride: stride, rng: &rng)
        }
        // level(k): (N, F_k, s, s) -> (N, F_k, s, s), everything below scale k inside.
        func level(_ k: Int) -> Layer {
            let channels = f << k, deeper = f << (k + 1)
            var branch: [Layer] = [conv("down.\(k)", channels, deeper, stride: 2), LeakyReLU(negativeSlope: 0.2)]
            if k + 1 < config.depth { branch.append(level(k + 1)) }
            branch += [UpsampleNearest2x(), conv("up.\(k)", deeper, channels), LeakyReLU(negativeSlope: 0.2)]
            return Sequential([ConcatSkip(Sequential(branch)), conv("fuse.\(k)", 2 * channels, channels), LeakyReLU(negativeSlope: 0.2)])
        }
        let head = conv("head", inChannels, f)
        let body = level(0)
        let tail = conv("tail", f, config.outputChannels)
        return Sequential([head, LeakyReLU(negativeSlope: 0.2), body, tail])
    }
}

/// The U-Net alone, as a network (its own PyTorch fixture; names without a prefix).
public final class UNetColorizer: Network {
    public let config: ColorizerConfig

    public init(_ config: ColorizerConfig, inChannels: Int = 1, seed: UInt64) {
        precondition(config.problem == nil, config.problem ?? "")
        self.config = config
        super.init()
        var rng = SeededRandom(seed: seed)
        root = UNet.make(config, inChannels: inChannels, store: parameters, prefix: "", rng: &rng)
        layOutMemory()
    }

    public override var summary: String {
        "UNet(depth \(config.depth), \(config.baseChannels) channels, \(config.outputChannels) out)"
    }
}

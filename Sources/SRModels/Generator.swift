// SRResNet, the SRGAN generator (Ledig et al. 2017, figure 4):
//   conv 9x9 in->C + PReLU
//   B residual blocks [conv3x3, BN, PReLU, conv3x3, BN, + skip]
//   conv3x3 + BN, + long skip from the first PReLU
//   log2(scale) upsamplers [conv3x3 C->4C, PixelShuffle(2), PReLU]
//   conv 9x9 C->out
// and its residual-in-residual variant: G groups of R residual blocks, each group with its own
// skip. Convolutions followed by BN have no bias (BN's beta makes it redundant); the others do.
// BN followed by PReLU runs as one fused layer (BatchNormActivation) with the same parameters.
// PyTorch names (Tests/SRModelsTests/Fixtures/reference_models.py defines the same modules):
//   head, head_act, body.{i}.{conv1,bn1,act,conv2,bn2} (or body.{g}.blocks.{i}.*), body_conv,
//   body_bn, upsample.{k}.{conv,act}, tail.
// kind `colorize` (docs/colorize.md): a U-Net colouriser (UNet.swift, names colorizer.*) runs
// first on the 1-channel grayscale LR; its output is concatenated with that input,
// cat(gray, unet(gray)), and the SRResNet above takes those 1 + colorizer.output_channels
// channels in its head.

import SRCore

/// What the generator does: x`scale` SR of RGB (the paper), or grayscale LR to colour SR.
public enum GeneratorKind: String, Codable, CaseIterable, Sendable {
    case srresnet, colorize
}

public struct GeneratorConfig: Equatable, Codable, Sendable {
    public var channels = 64
    /// Residual blocks in all (plain SRResNet), or per group when `residualGroups` > 0.
    public var residualBlocks = 16
    /// 0 for the paper's SRResNet; G > 0 for G groups of `residualBlocks` blocks, each with a skip.
    public var residualGroups = 0
    /// Upscaling factor, a power of two (the paper: 4).
    public var scale = 4
    public var inputChannels = 3
    public var outputChannels = 3
    /// The paper's batch norm in the residual blocks and after the body; without it (as EDSR
    /// found better for PSNR) those convolutions carry a bias instead.
    public var batchNorm = true
    /// Side of the last convolution's kernel: the paper's 9, or 3 as in EDSR (9x fewer FLOPs in
    /// the layer that runs at the output resolution).
    public var tailKernel = 9
    /// `colorize`: the U-Net below runs first on a 1-channel grayscale input (inputChannels is then not used).
    public var kind = GeneratorKind.srresnet
    public var colorizer = ColorizerConfig()

    enum CodingKeys: String, CodingKey {
        case channels, scale
        case residualBlocks = "residual_blocks", residualGroups = "residual_groups"
        case inputChannels = "input_channels", outputChannels = "output_channels", batchNorm = "batch_norm"
        case tailKernel = "tail_kernel"
        case kind, colorizer
    }

    public init(channels: Int = 64, residualBlocks: Int = 16, residualGroups: Int = 0, scale: Int = 4,
                inputChannels: Int = 3, outputChannels: Int = 3, batchNorm: Bool = true, tailKernel: Int = 9) {
        self.channels = channels
        self.residualBlocks = residualBlocks
        self.residualGroups = residualGroups
        self.scale = scale
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.batchNorm = batchNorm
        self.tailKernel = tailKernel
    }

    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        channels = try values.decode(Int.self, forKey: .channels)
        residualBlocks = try values.decode(Int.self, forKey: .residualBlocks)
        residualGroups = try values.decodeIfPresent(Int.self, forKey: .residualGroups) ?? 0
        scale = try values.decode(Int.self, forKey: .scale)
        inputChannels = try values.decodeIfPresent(Int.self, forKey: .inputChannels) ?? 3
        outputChannels = try values.decodeIfPresent(Int.self, forKey: .outputChannels) ?? 3
        batchNorm = try values.decodeIfPresent(Bool.self, forKey: .batchNorm) ?? true
        tailKernel = try values.decodeIfPresent(Int.self, forKey: .tailKernel) ?? 9
        kind = try values.decodeIfPresent(GeneratorKind.self, forKey: .kind) ?? .srresnet
        colorizer = try values.decodeIfPresent(ColorizerConfig.self, forKey: .colorizer) ?? ColorizerConfig()
    }

    /// Channels of the network's input: 1 (the L channel) when colourising, else inputChannels.
    public var networkInputChannels: Int { kind == .colorize ? 1 : inputChannels }

    /// LR sides must be multiples of this (the U-Net halves them `colorizer.depth` times).
    public var lrSideMultiple: Int { kind == .colorize ? colorizer.sideMultiple : 1 }

    /// The problem with this configuration, or nil when it is valid.
    public var problem: String? {
        if channels < 1 || residualBlocks < 0 || residualGroups < 0 { return "channels must be >= 1 and block counts >= 0" }
        if scale < 2 || scale & (scale - 1) != 0 { return "scale \(scale) is not a power of two >= 2" }
        if tailKernel < 1 || tailKernel % 2 == 0 { return "tail_kernel \(tailKernel) is not an odd size >= 1" }
        if kind == .colorize, let problem = colorizer.problem { return problem }
        if kind == .colorize && outputChannels != 3 { return "a colorize generator outputs RGB: output_channels must be 3" }
        return nil
    }
}

public final class Generator: Network {
    public let config: GeneratorConfig

    public init(_ config: GeneratorConfig = GeneratorConfig(), seed: UInt64) {
        precondition(config.problem == nil, config.problem ?? "")
        self.config = config
        super.init()
        var rng = SeededRandom(seed: seed)
        let c = config.channels
        var colorizer: [Layer] = []
        var headInputs = config.inputChannels
        if config.kind == .colorize {
            colorizer = [ConcatSkip(UNet.make(config.colorizer, inChannels: 1, store: parameters, prefix: "colorizer.", rng: &rng))]
            headInputs = 1 + config.colorizer.outputChannels
        }
        let head = Conv2d(parameters, "head", inChannels: headInputs, outChannels: c, kernelSize: 9, rng: &rng)
        let headActivation = PReLU(parameters, "head_act", channels: c)
        var body: [Layer] = []
        if config.residualGroups == 0 {
            body = (0..<config.residualBlocks).map { residualBlock("body.\($0)", &rng) }
        } else {
            body = (0..<config.residualGroups).map { group in
                Residual(Sequential((0..<config.residualBlocks).map { residualBlock("body.\(group).blocks.\($0)", &rng) }))
            }
        }
        body.append(Conv2d(parameters, "body_conv", inChannels: c, outChannels: c, kernelSize: 3, bias: !config.batchNorm, rng: &rng))
        if config.batchNorm { body.append(batchNorm("body_bn", channels: c)) }
        var upsamplers: [Layer] = []
        var factor = config.scale, index = 0
        while factor > 1 {
            upsamplers += [
                Conv2d(parameters, "upsample.\(index).conv", inChannels: c, outChannels: 4 * c, kernelSize: 3, rng: &rng),
                PixelShuffle(factor: 2),
                PReLU(parameters, "upsample.\(index).act", channels: c),
            ]
            factor /= 2
            index += 1
        }
        let tail = Conv2d(parameters, "tail", inChannels: c, outChannels: config.outputChannels, kernelSize: config.tailKernel, rng: &rng)
        root = Sequential(colorizer + [head, headActivation, Residual(Sequential(body))] + upsamplers + [tail])
        layOutMemory()
    }

    private func residualBlock(_ name: String, _ rng: inout SeededRandom) -> Layer {
        let c = config.channels, bn = config.batchNorm
        var layers: [Layer] = [Conv2d(parameters, "\(name).conv1", inChannels: c, outChannels: c, kernelSize: 3, bias: !bn, rng: &rng)]
        let activation = { PReLU(self.parameters, "\(name).act", channels: c) }
        if bn {
            let norm = batchNorm("\(name).bn1", channels: c)   // registered before the PReLU, as PyTorch orders them
            layers.append(BatchNormActivation(norm, .prelu(activation())))
        } else {
            layers.append(activation())
        }
        layers.append(Conv2d(parameters, "\(name).conv2", inChannels: c, outChannels: c, kernelSize: 3, bias: !bn, rng: &rng))
        if bn { layers.append(batchNorm("\(name).bn2", channels: c)) }
        return Residual(Sequential(layers))
    }

    public override var summary: String {
        let body = config.residualGroups == 0
            ? "\(config.residualBlocks) blocks"
            : "\(config.residualGroups) groups of \(config.residualBlocks) blocks"
        return "Generator(\(body), \(config.channels) channels, x\(config.scale)\(config.batchNorm ? "" : ", no BN")"
            + (config.tailKernel == 9 ? "" : ", \(config.tailKernel)x\(config.tailKernel) tail")
            + (config.kind == .colorize ? ", colorizing: U-Net depth \(config.colorizer.depth), \(config.colorizer.baseChannels) channels, "
               + "\(config.colorizer.outputChannels) out" : "") + ")"
    }
}

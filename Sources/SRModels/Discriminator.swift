// The SRGAN discriminator (Ledig et al. 2017, figure 4): conv3x3 3->64 + LeakyReLU(0.2); seven
// [conv3x3, BN, LeakyReLU(0.2)] with (channels, stride) (64,2) (128,1) (128,2) (256,1) (256,2)
// (512,1) (512,2); flatten; dense 1024; LeakyReLU(0.2); dense 1, a logit. Four stride-2
// convolutions shrink the patch 16 times, so the first dense layer takes 512 x (P/16)^2 inputs.
// PyTorch names: features.{i} and classifier.{i}, the indices of two nn.Sequential.

import SRCore

public struct DiscriminatorConfig: Equatable, Codable, Sendable {
    /// HR patch side (the paper: 96); a multiple of 16.
    public var patchSize = 96
    /// Channels of the first convolution; the paper's 64 gives 64, 64, 128, 128, 256, 256, 512, 512.
    public var baseChannels = 64
    /// Width of the hidden dense layer (the paper: 1024).
    public var hidden = 1024
    public var inputChannels = 3

    enum CodingKeys: String, CodingKey {
        case hidden
        case patchSize = "patch_size", baseChannels = "base_channels", inputChannels = "input_channels"
    }

    public init(patchSize: Int = 96, baseChannels: Int = 64, hidden: Int = 1024, inputChannels: Int = 3) {
        self.patchSize = patchSize
        self.baseChannels = baseChannels
        self.hidden = hidden
        self.inputChannels = inputChannels
    }

    public var problem: String? {
        if patchSize < 16 || patchSize % 16 != 0 { return "patch size \(patchSize) is not a positive multiple of 16" }
        if baseChannels < 1 || hidden < 1 { return "base channels and hidden width must be >= 1" }
        return nil
    }

    /// (channels, stride) of the seven BN blocks.
    public var blocks: [(Int, Int)] {
        let b = baseChannels
        return [(b, 2), (2 * b, 1), (2 * b, 2), (4 * b, 1), (4 * b, 2), (8 * b, 1), (8 * b, 2)]
    }
}

public final class Discriminator: Network {
    public let config: DiscriminatorConfig

    public init(_ config: DiscriminatorConfig = DiscriminatorConfig(), seed: UInt64) {
        precondition(config.problem == nil, config.problem ?? "")
        self.config = config
        super.init()
        var rng = SeededRandom(seed: seed)
        var features: [Layer] = [
            Conv2d(parameters, "features.0", inChannels: config.inputChannels, outChannels: config.baseChannels,
                   kernelSize: 3, rng: &rng),
            LeakyReLU(negativeSlope: 0.2),
        ]
        var channels = config.baseChannels
        var index = features.count   // PyTorch's indices: conv i, BN i+1, LeakyReLU i+2 (fused here)
        for (outChannels, stride) in config.blocks {
            features += [
                Conv2d(parameters, "features.\(index)", inChannels: channels, outChannels: outChannels,
                       kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng),
                BatchNormActivation(batchNorm("features.\(index + 1)", channels: outChannels), .leakyReLU(negativeSlope: 0.2)),
            ]
            channels = outChannels
            index += 3
        }
        let side = config.patchSize / 16
        let classifier: [Layer] = [
            Flatten(),
            Linear(parameters, "classifier.1", inFeatures: channels * side * side, outFeatures: config.hidden, rng: &rng),
            LeakyReLU(negativeSlope: 0.2),
            Linear(parameters, "classifier.3", inFeatures: config.hidden, outFeatures: 1, rng: &rng),
        ]
        root = Sequential(features + classifier)
    }

    public override var summary: String {
        "Discriminator(\(config.patchSize)x\(config.patchSize) patches, \(config.baseChannels) base channels, dense \(config.hidden))"
    }
}

// The SRGAN discriminator (Ledig et al. 2017, figure 4): conv3x3 3->64 + LeakyReLU(0.2); seven
// [conv3x3, BN, LeakyReLU(0.2)] with (channels, stride) (64,2) (128,1) (128,2) (256,1) (256,2)
// (512,1) (512,2); flatten; dense 1024; LeakyReLU(0.2); dense 1, a logit. Four stride-2
// convolutions shrink the patch 16 times, so the first dense layer takes 512 x (P/16)^2 inputs.
// PyTorch names: features.{i} and classifier.{i}, the indices of two nn.Sequential.
// Conditional (`conditional`): the LR image joins where the feature map first reaches the LR size,
// after BN block k = 2 log2(scale) - 2 (x2: block 0, x4: block 2, x8: block 4, x16: block 6;
// counting conv0, the (k+2)-th convolution); that block outputs (channels - LR channels) and the LR
// batch is concatenated after its LeakyReLU, so the next layer sees the usual width. The
// concatenation has no parameters, so the names stay those of the plain discriminator; only that
// block's convolution and BN are narrower (reference_models.py defines the same).

import SRCore

public struct DiscriminatorConfig: Equatable, Codable, Sendable {
    /// HR patch side (the paper: 96); a multiple of 16.
    public var patchSize = 96
    /// Channels of the first convolution; the paper's 64 gives 64, 64, 128, 128, 256, 256, 512, 512.
    public var baseChannels = 64
    /// Width of the hidden dense layer (the paper: 1024).
    public var hidden = 1024
    public var inputChannels = 3
    /// Conditioned on the LR image (a second input), concatenated at the LR resolution.
    public var conditional = false
    /// Channels of the LR condition (3 for RGB, 1 for grayscale).
    public var lrChannels = 3
    /// HR / LR side ratio of the condition, a power of two in 2...16 (the trainer sets the generator's).
    public var scale = 4

    enum CodingKeys: String, CodingKey {
        case hidden, conditional, scale
        case patchSize = "patch_size", baseChannels = "base_channels", inputChannels = "input_channels"
        case lrChannels = "lr_channels"
    }

    public init(patchSize: Int = 96, baseChannels: Int = 64, hidden: Int = 1024, inputChannels: Int = 3,
                conditional: Bool = false, lrChannels: Int = 3, scale: Int = 4) {
        self.patchSize = patchSize
        self.baseChannels = baseChannels
        self.hidden = hidden
        self.inputChannels = inputChannels
        self.conditional = conditional
        self.lrChannels = lrChannels
        self.scale = scale
    }

    /// Files written before the conditional discriminator existed lack its keys.
    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        patchSize = try values.decode(Int.self, forKey: .patchSize)
        baseChannels = try values.decode(Int.self, forKey: .baseChannels)
        hidden = try values.decode(Int.self, forKey: .hidden)
        inputChannels = try values.decodeIfPresent(Int.self, forKey: .inputChannels) ?? 3
        conditional = try values.decodeIfPresent(Bool.self, forKey: .conditional) ?? false
        lrChannels = try values.decodeIfPresent(Int.self, forKey: .lrChannels) ?? 3
        scale = try values.decodeIfPresent(Int.self, forKey: .scale) ?? 4
    }

    public var problem: String? {
        if patchSize < 16 || patchSize % 16 != 0 { return "patch size \(patchSize) is not a positive multiple of 16" }
        if baseChannels < 1 || hidden < 1 { return "base channels and hidden width must be >= 1" }
        if conditional {
            guard let block = conditionBlock else { return "a conditional discriminator needs a scale of 2, 4, 8 or 16, not \(scale)" }
            if lrChannels < 1 || lrChannels >= blocks[block].0 {
                return "lr_channels \(lrChannels) must be >= 1 and below the \(blocks[block].0) channels of block \(block), where the LR image joins"
            }
        }
        return nil
    }

    /// The BN block after which the LR image is concatenated: the first whose output has the LR
    /// size (blocks 0, 2, 4, 6 halve the side), i.e. 2 log2(scale) - 2; nil when not conditional
    /// or no block has that size.
    public var conditionBlock: Int? {
        guard conditional, [2, 4, 8, 16].contains(scale) else { return nil }
        return 2 * (scale.trailingZeroBitCount - 1)
    }

    /// (channels, stride) of the seven BN blocks.
    public var blocks: [(Int, Int)] {
        let b = baseChannels
        return [(b, 2), (2 * b, 1), (2 * b, 2), (4 * b, 1), (4 * b, 2), (8 * b, 1), (8 * b, 2)]
    }
}

public final class Discriminator: Network {
    public let config: DiscriminatorConfig
    /// Conditional: the layers up to the concatenation, and after it.
    private var head: Sequential?, tail: Sequential?
    /// Conditional: dLoss/dLR of the last backward (the LR is data; kept for tests).
    public private(set) var conditionGrad: Tensor?

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
        var headCount = 0
        for (block, (outChannels, stride)) in config.blocks.enumerated() {
            let joins = block == config.conditionBlock
            let width = joins ? outChannels - config.lrChannels : outChannels
            features += [
                Conv2d(parameters, "features.\(index)", inChannels: channels, outChannels: width,
                       kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng),
                BatchNormActivation(batchNorm("features.\(index + 1)", channels: width), .leakyReLU(negativeSlope: 0.2)),
            ]
            if joins { headCount = features.count }
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
        if config.conditional {
            head = Sequential(Array(features.prefix(headCount)))
            tail = Sequential(Array(features.dropFirst(headCount)) + classifier)
        } else {
            root = Sequential(features + classifier)
        }
        layOutMemory()
    }

    /// The conditional D's two halves (its root is empty), else the root.
    public override var sublayers: [Layer] { head.map { [$0, tail!] } ?? [root] }

    /// image (N,C,P,P), condition (N,lrChannels,P/scale,P/scale) for a conditional D (ignored,
    /// and may be nil, otherwise) -> logits (N,1).
    public func forward(_ image: Tensor, condition: Tensor?, mode: ForwardMode) -> Tensor {
        guard let head, let tail else { return super.forward(image, mode: mode) }
        guard let condition else { preconditionFailure("the conditional discriminator needs the LR image") }
        let run = {
            let features = head.forward(image, mode: mode)
            precondition(condition.n == features.n && condition.c == self.config.lrChannels && condition.h == features.h && condition.w == features.w,
                         "LR condition \(condition) does not fit the features \(features)")
            return tail.forward(concatenateChannels(features, condition), mode: mode)
        }
        guard let profiler = LayerProfiler.active else { return run() }
        return profiler.within(profileScope, run)
    }

    public override func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        forward(input, condition: nil, mode: mode)
    }

    /// dLoss/dImage (when asked); a conditional D also keeps dLoss/dLR in `conditionGrad`.
    public override func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        guard let head, let tail else { return super.backward(outputGrad, needInputGrad: needInputGrad) }
        let run = { () -> Tensor? in
            let joined = tail.backward(outputGrad, needInputGrad: true)!
            let (featureGrad, lrGrad) = splitChannels(joined, first: joined.c - self.config.lrChannels)
            self.conditionGrad = lrGrad
            return head.backward(featureGrad, needInputGrad: needInputGrad)
        }
        guard let profiler = LayerProfiler.active else { return run() }
        return profiler.within(profileScope, run)
    }

    public override var summary: String {
        "Discriminator(\(config.patchSize)x\(config.patchSize) patches, \(config.baseChannels) base channels, dense \(config.hidden)"
            + (config.conditional ? ", conditioned on the x\(config.scale) LR after block \(config.conditionBlock!))" : ")")
    }
}

// torchvision's VGG19 `features`, truncated after the ReLU of a chosen convolution, for the
// perceptual loss. The paper's phi(i,j) is the feature map of the j-th convolution (after its
// activation) before the i-th max-pool: phi(2,2) ends at features.8, phi(5,4) at features.35.
// Inputs are images in [0,1], normalised with ImageNet's mean and std first. The weights are
// frozen: backward gives the input gradient only and computes no weight gradients.

import SRCore

public struct VGGFeatureLayer: Equatable, Codable, Sendable, CustomStringConvertible {
    public let block: Int
    public let convolution: Int

    /// Convolutions per block in VGG19 (torchvision's configuration "E").
    public static let convolutionsPerBlock = [2, 2, 4, 4, 4]
    public static let channelsPerBlock = [64, 128, 256, 512, 512]
    public static let phi22 = VGGFeatureLayer(block: 2, convolution: 2)
    public static let phi54 = VGGFeatureLayer(block: 5, convolution: 4)

    public init(block: Int, convolution: Int) {
        self.block = block
        self.convolution = convolution
    }

    public var isValid: Bool {
        (1...5).contains(block) && (1...Self.convolutionsPerBlock[block - 1]).contains(convolution)
    }

    public var description: String { "phi\(block),\(convolution)" }
}

/// Normalises images in [0,1] with per-channel mean and std: y = (x - mean) / std.
public final class ChannelNormalize: Layer {
    public let mean: [Float], std: [Float]

    public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]

    public init(mean: [Float] = imageNetMean, std: [Float] = imageNetStd) {
        self.mean = mean
        self.std = std
    }

    // input (N,C,H,W) -> output (N,C,H,W)
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.shape.count == 4 && input.c == mean.count, "ChannelNormalize given \(input)")
        let output = Tensor(uninitializedShape: input.shape)
        let plane = input.h * input.w
        withPointers(output, input) { y, x in
            for n in 0..<input.n {
                for c in 0..<input.c {
                    let base = (n * input.c + c) * plane
                    let shift = mean[c], scale = 1 / std[c]
                    for i in base..<(base + plane) { y[i] = (x[i] - shift) * scale }
                }
            }
        }
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        guard needInputGrad else { return nil }
        let inputGrad = Tensor(uninitializedShape: outputGrad.shape)
        let plane = outputGrad.h * outputGrad.w
        withPointers(inputGrad, outputGrad) { dx, dy in
            for n in 0..<outputGrad.n {
                for c in 0..<outputGrad.c {
                    let base = (n * outputGrad.c + c) * plane
                    let scale = 1 / std[c]
                    for i in base..<(base + plane) { dx[i] = dy[i] * scale }
                }
            }
        }
        return inputGrad
    }
}

public final class VGG19Features: Network {
    public let layer: VGGFeatureLayer
    public let widthDivisor: Int
    /// (name, shape) of every tensor this truncated network reads from a weights file.
    public var expectedTensors: [(String, [Int])] { parameters.layout.map { ($0.name, $0.shape) } }

    /// `widthDivisor` > 1 divides every channel count (small networks for tests only).
    public init(layer: VGGFeatureLayer = .phi54, widthDivisor: Int = 1, seed: UInt64 = 0) {
        precondition(layer.isValid, "no VGG19 layer \(layer)")
        self.layer = layer
        self.widthDivisor = widthDivisor
        super.init(trainable: false)
        var rng = SeededRandom(seed: seed)
        var layers: [Layer] = [ChannelNormalize()]
        var index = 0, inChannels = 3
        blocks: for block in 1...5 {
            let channels = max(1, VGGFeatureLayer.channelsPerBlock[block - 1] / widthDivisor)
            for convolution in 1...VGGFeatureLayer.convolutionsPerBlock[block - 1] {
                layers.append(Conv2d(parameters, "features.\(index)", inChannels: inChannels, outChannels: channels,
                                     kernelSize: 3, rng: &rng))
                layers.append(ReLU())
                index += 2
                inChannels = channels
                if block == layer.block && convolution == layer.convolution { break blocks }
            }
            layers.append(MaxPool2d())
            index += 1
        }
        root = Sequential(layers)
        layOutMemory()
    }

    public override var summary: String {
        "VGG19 features to \(layer)" + (widthDivisor > 1 ? " (width / \(widthDivisor))" : "")
    }

    /// Index in torchvision's `features` of the last layer kept (the ReLU of phi(i,j)).
    public var lastFeatureIndex: Int {
        let before = VGGFeatureLayer.convolutionsPerBlock.prefix(layer.block - 1).reduce(0) { $0 + 2 * $1 + 1 }
        return before + 2 * layer.convolution - 1
    }
}

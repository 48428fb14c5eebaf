// The generator's content loss: pixel MSE or L1, or the paper's VGG19 feature distance
// (phi 2,2 or phi 5,4, feature maps scaled by 1/12.75 so the MSE is scaled by 1/12.75^2).

import SRCore
import SRModels

public enum ContentLossKind: String, CaseIterable, Codable, Sendable {
    case mse, l1, vgg22, vgg54

    public var vggLayer: VGGFeatureLayer? {
        switch self {
        case .vgg22: return .phi22
        case .vgg54: return .phi54
        case .mse, .l1: return nil
        }
    }
}

/// Where the VGG19 weights come from. Training on random VGG features is refused unless a user
/// (or a test) asks for it by name.
public enum VGGWeightsSource: Equatable, Sendable {
    case file(String)
    case randomForTesting
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let problem: String
    public let hint: String

    public init(_ problem: String, hint: String) {
        self.problem = problem
        self.hint = hint
    }

    public var description: String { "\(problem). HINT: \(hint)" }
}

public final class ContentLoss {
    public let kind: ContentLossKind
    public let vgg: VGG19Features?
    /// The range of the SR and HR images handed in: VGG19 expects [0,1], so images in [-1,1] (the
    /// paper's HR range) are mapped with (x + 1) / 2 before it, and the gradient scaled back.
    public var imagesInMinusOneToOne = false
    /// The paper rescales VGG feature maps by 1/12.75.
    public static let vggFeatureScale: Float = 1 / 12.75

    public init(_ kind: ContentLossKind, vggWeights: VGGWeightsSource?, vggWidthDivisor: Int = 1) throws {
        self.kind = kind
        guard let layer = kind.vggLayer else {
            vgg = nil
            return
        }
        let network = VGG19Features(layer: layer, widthDivisor: vggWidthDivisor, seed: 19)
        switch vggWeights {
        case .file(let path):
            try network.loadWeights(path: path)
        case .randomForTesting:
            break
        case nil:
            throw ConfigurationError(
                "the \(kind.rawValue) content loss needs VGG19 weights and none were given",
                hint: "pass --vgg-weights FILE (torchvision VGG19 as safetensors; docs/vgg19-weights.md says how to make one), or choose --content-loss mse")
        }
        vgg = network
    }

    /// A VGG content loss over an already built (and loaded) feature network.
    public init(_ kind: ContentLossKind, vgg: VGG19Features) {
        precondition(kind.vggLayer == vgg.layer, "\(kind) needs \(String(describing: kind.vggLayer)), got \(vgg.layer)")
        self.kind = kind
        self.vgg = vgg
    }

    /// The loss of `sr` against `hr` (both (N,3,H,W) in [0,1]); writes dLoss/dSR, scaled by
    /// `weight`, into `srGrad`.
    public func callAsFunction(sr: Tensor, hr: Tensor, srGrad: Tensor, weight: Float = 1) -> Float {
        switch kind {
        case .mse:
            return Loss.mse(prediction: sr, target: hr, grad: srGrad, gradScale: weight)
        case .l1:
            return Loss.l1(prediction: sr, target: hr, grad: srGrad, gradScale: weight)
        case .vgg22, .vgg54:
            let vgg = vgg!
            let (srImage, hrImage) = imagesInMinusOneToOne ? (Self.toUnitRange(sr), Self.toUnitRange(hr)) : (sr, hr)
            let hrFeatures = vgg.forward(hrImage, mode: .inference)
            let srFeatures = vgg.forward(srImage, mode: .evaluation)
            let featureGrad = Tensor(uninitializedShape: srFeatures.shape)  // the MSE writes all of it
            let scale2 = Self.vggFeatureScale * Self.vggFeatureScale
            let loss = Loss.mse(prediction: srFeatures, target: hrFeatures, grad: featureGrad, gradScale: weight * scale2)
            let grad = vgg.backward(featureGrad, needInputGrad: true)!
            withExtendedLifetime(grad) { srGrad.data.update(from: grad.data, count: grad.count) }
            if imagesInMinusOneToOne {
                for i in 0..<srGrad.count { srGrad[i] *= 0.5 }
            }
            return loss * scale2
        }
    }

    static func toUnitRange(_ image: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: image.shape)
        let x = image.data, y = out.data
        for i in 0..<image.count { y[i] = (x[i] + 1) * 0.5 }
        return out
    }
}

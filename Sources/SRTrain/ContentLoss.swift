// The generator's content loss: pixel MSE or L1, or the paper's VGG19 feature distance
// (phi 2,2 or phi 5,4, feature maps scaled by 1/12.75 so the MSE is scaled by 1/12.75^2), or
// `combined`: a weighted sum of one pixel term and one VGG term (pixel_loss x pixel_weight +
// vgg_loss x vgg_weight; docs/gan-variants.md).

import SRCore
import SRModels

public enum ContentLossKind: String, CaseIterable, Codable, Sendable {
    case mse, l1, vgg22, vgg54, combined

    public var vggLayer: VGGFeatureLayer? {
        switch self {
        case .vgg22: return .phi22
        case .vgg54: return .phi54
        case .mse, .l1, .combined: return nil
        }
    }
}

/// The pixel term of a combined content loss.
public enum PixelLossKind: String, CaseIterable, Codable, Sendable {
    case mse, l1, none

    var single: ContentLossKind? { self == .none ? nil : ContentLossKind(rawValue: rawValue) }
}

/// The VGG term of a combined content loss.
public enum VGGLossKind: String, CaseIterable, Codable, Sendable {
    case vgg22, vgg54, none

    var single: ContentLossKind? { self == .none ? nil : ContentLossKind(rawValue: rawValue) }
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
    /// `combined`: the weighted single-kind losses it sums.
    public let terms: [(loss: ContentLoss, weight: Float)]
    /// The range of the SR and HR images handed in: VGG19 expects [0,1], so images in [-1,1] (the
    /// paper's HR range) are mapped with (x + 1) / 2 before it, and the gradient scaled back.
    public var imagesInMinusOneToOne = false {
        didSet { for term in terms { term.loss.imagesInMinusOneToOne = imagesInMinusOneToOne } }
    }
    /// The paper rescales VGG feature maps by 1/12.75.
    public static let vggFeatureScale: Float = 1 / 12.75

    public init(_ kind: ContentLossKind, vggWeights: VGGWeightsSource?, vggWidthDivisor: Int = 1) throws {
        precondition(kind != .combined, "a combined content loss is built from its terms")
        self.kind = kind
        terms = []
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
        terms = []
    }

    /// `combined`: the sum of `terms`, each weighted (at least one term).
    public init(terms: [(loss: ContentLoss, weight: Float)]) {
        precondition(!terms.isEmpty && terms.allSatisfy { $0.loss.kind != .combined }, "a combined loss of single-kind terms")
        kind = .combined
        vgg = terms.first { $0.loss.vgg != nil }?.loss.vgg
        self.terms = terms
    }

    /// The pixel and VGG terms a config names (weights 0 or kind none leave a term out).
    public convenience init(pixel: PixelLossKind, pixelWeight: Float, vgg: VGGLossKind, vggWeight: Float,
                            vggWeights: VGGWeightsSource?, vggWidthDivisor: Int = 1) throws {
        var terms: [(loss: ContentLoss, weight: Float)] = []
        if let kind = pixel.single, pixelWeight != 0 { terms.append((try ContentLoss(kind, vggWeights: nil), pixelWeight)) }
        if let kind = vgg.single, vggWeight != 0 {
            terms.append((try ContentLoss(kind, vggWeights: vggWeights, vggWidthDivisor: vggWidthDivisor), vggWeight))
        }
        guard !terms.isEmpty else {
            throw ConfigurationError("content_loss combined has no term (pixel_loss and vgg_loss are none or weighted 0)",
                                     hint: "set pixel_loss: mse and/or vgg_loss: vgg54 with a weight, or choose another content_loss")
        }
        self.init(terms: terms)
    }

    /// The loss of `sr` against `hr` (both (N,3,H,W) in [0,1]); writes dLoss/dSR, scaled by
    /// `weight`, into `srGrad`.
    public func callAsFunction(sr: Tensor, hr: Tensor, srGrad: Tensor, weight: Float = 1) -> Float {
        switch kind {
        case .combined:
            var total: Float = 0
            let termGrad = Tensor(uninitializedShape: sr.shape)
            for (index, term) in terms.enumerated() {
                let loss = term.loss(sr: sr, hr: hr, srGrad: index == 0 ? srGrad : termGrad, weight: weight * term.weight)
                if index > 0 { withPointers(srGrad, termGrad) { addInPlace($0, $1, count: srGrad.count) } }
                total += term.weight * loss
            }
            return total
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
            srGrad.update(from: grad)
            if imagesInMinusOneToOne {
                srGrad.withUnsafeMutablePointer { g in for i in 0..<srGrad.count { g[i] *= 0.5 } }
            }
            return loss * scale2
        }
    }

    static func toUnitRange(_ image: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: image.shape)
        withPointers(out, image) { y, x in for i in 0..<image.count { y[i] = (x[i] + 1) * 0.5 } }
        return out
    }
}

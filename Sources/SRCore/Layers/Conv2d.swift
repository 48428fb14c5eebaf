// torch.nn.Conv2d: weight (OC, C, KH, KW), bias (OC), zero padding.

import Foundation

public final class Conv2d: Layer {
    public enum Kernel: Sendable { case gemm, reference }

    public let inChannels: Int, outChannels: Int
    public let kernelSize: Int, stride: Int, padding: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot?
    public var kernel: Kernel = .gemm
    /// The fast paths' choices (Winograd or im2col, chunk and band sizes): benchmarks and tests
    /// compare paths by setting this on the layers they build.
    public var options = ConvOptions()
    private let store: ParameterStore
    private var input: Tensor?
    /// A frozen layer's (its store is not trainable: VGG19's) Winograd-transformed weights, kept
    /// between calls: its forward runs twice a GAN step (HR and SR) on weights that never change,
    /// and the transform of a 512x512 layer writes 38 MB. Remade when the store's version moves.
    private var frozenTransform: FrozenTransform?

    /// Registers `name.weight` and `name.bias` and initialises them as PyTorch does by default:
    /// U(-1/sqrt(fanIn), 1/sqrt(fanIn)). Padding defaults to "same" for odd kernels at stride 1.
    public init(_ store: ParameterStore, _ name: String, inChannels: Int, outChannels: Int,
                kernelSize: Int, stride: Int = 1, padding: Int? = nil, bias: Bool = true,
                rng: inout SeededRandom) {
        self.store = store
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding ?? kernelSize / 2
        weight = store.register("\(name).weight", shape: [outChannels, inChannels, kernelSize, kernelSize])
        self.bias = bias ? store.register("\(name).bias", shape: [outChannels]) : nil
        let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
        rng.fillUniform(store.value(weight), -bound, bound)
        if let slot = self.bias { rng.fillUniform(store.value(slot), -bound, bound) }
    }

    public func geometry(for input: Tensor) -> ConvGeometry {
        precondition(input.shape.count == 4 && input.c == inChannels,
                     "Conv2d(\(inChannels)->\(outChannels)) given \(input)")
        return ConvGeometry(batch: input.n, inChannels: inChannels, inHeight: input.h, inWidth: input.w,
                            outChannels: outChannels, kernelHeight: kernelSize, kernelWidth: kernelSize,
                            stride: stride, padding: padding)
    }

    // input (N,C,H,W) -> output (N,OC,OH,OW)
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let g = geometry(for: input)
        let output = Tensor(uninitializedShape: [g.batch, outChannels, g.outHeight, g.outWidth])  // every path writes all of it
        let biasPointer = bias.map { UnsafePointer(store.values + $0.offset) }
        let weightPointer = UnsafePointer(store.values + weight.offset)
        withPointers(output, input) { y, x in
            switch kernel {
            case .gemm:
                if let u = frozenWinogradWeights(g) {
                    forEachBatchPart(g, options) { images, part in
                        winogradConvForward(output: y + images.lowerBound * g.outChannels * g.outPlane,
                                            input: x + images.lowerBound * g.inChannels * g.inPlane,
                                            transformedWeight: u, bias: biasPointer, part, options)
                    }
                } else {
                    convForward(output: y, input: x, weight: weightPointer, bias: biasPointer, g, options: options)
                }
            case .reference:
                convForwardReference(output: y, input: x, weight: weightPointer, bias: biasPointer, g)
            }
        }
        self.input = mode.recordsForBackward ? input : nil
        return output
    }

    /// U for the forward of a frozen layer on the Winograd path (nil: not frozen, or another path).
    private func frozenWinogradWeights(_ g: ConvGeometry) -> UnsafePointer<Float>? {
        guard !store.trainable, usesWinograd(g, options) else { return nil }
        if frozenTransform?.version != store.version {
            let u = winogradWeightTransform(UnsafePointer(store.values + weight.offset), outChannels: outChannels,
                                            inChannels: inChannels, flipped: false)
            frozenTransform = FrozenTransform(u, version: store.version)
        }
        return UnsafePointer(frozenTransform!.values)
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let input = cached(self.input, "Conv2d")
        let g = geometry(for: input)
        let inputGrad = needInputGrad ? Tensor(shape: input.shape) : nil
        let biasGrad = bias.flatMap { store.gradPointer($0) }
        let weightGrad = store.gradPointer(weight)
        let weightPointer = UnsafePointer(store.values + weight.offset)
        withPointers(optional: inputGrad, outputGrad, input) { dx, dy, x in
            switch kernel {
            case .gemm:
                convBackward(inputGrad: dx, weightGrad: weightGrad, biasGrad: biasGrad,
                             outputGrad: dy, input: x, weight: weightPointer, g, options: options)
            case .reference:
                convBackwardReference(inputGrad: dx, weightGrad: weightGrad, biasGrad: biasGrad,
                                      outputGrad: dy, input: x, weight: weightPointer, g)
            }
        }
        return inputGrad
    }
}

/// Transformed weights owned by one layer, freed with it (not kept for reuse: a dropped VGG19's
/// would pin 300 MB).
private final class FrozenTransform {
    let values: UnsafeMutablePointer<Float>
    let version: Int

    init(_ values: UnsafeMutablePointer<Float>, version: Int) {
        self.values = values
        self.version = version
    }

    deinit { values.deallocate() }
}

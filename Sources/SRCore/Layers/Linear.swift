// torch.nn.Linear: weight (OUT, IN), bias (OUT); y = x W^T + b.

public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot?
    /// The products' inputs in fp32 or bfloat16 (ProductPrecision), forward and backward.
    public var precision = ProductPrecision.fp32
    private let store: ParameterStore
    private var input: Tensor?

    /// Registers `name.weight` and `name.bias`, initialised U(-1/sqrt(IN), 1/sqrt(IN)) as PyTorch.
    public init(_ store: ParameterStore, _ name: String, inFeatures: Int, outFeatures: Int,
                bias: Bool = true, rng: inout SeededRandom) {
        self.store = store
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = store.register("\(name).weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? store.register("\(name).bias", shape: [outFeatures]) : nil
        let bound = 1 / Float(inFeatures).squareRoot()
        rng.fillUniform(store.value(weight), -bound, bound)
        if let slot = self.bias { rng.fillUniform(store.value(slot), -bound, bound) }
    }

    // input (N, IN) -> output (N, OUT)
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.shape.count == 2 && input.shape[1] == inFeatures,
                     "Linear(\(inFeatures)->\(outFeatures)) given \(input)")
        let output = Tensor(shape: [input.shape[0], outFeatures])
        withPointers(output, input) { y, x in
            denseForward(output: y, input: x, weight: store.values + weight.offset,
                         bias: bias.map { UnsafePointer(store.values + $0.offset) },
                         batch: input.shape[0], inFeatures: inFeatures, outFeatures: outFeatures, precision: precision)
        }
        self.input = mode.recordsForBackward ? input : nil
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let input = cached(self.input, "Linear")
        let inputGrad = needInputGrad ? Tensor(shape: input.shape) : nil
        withPointers(optional: inputGrad, outputGrad, input) { dx, dy, x in
            denseBackward(inputGrad: dx, weightGrad: store.gradPointer(weight),
                          biasGrad: bias.flatMap { store.gradPointer($0) }, outputGrad: dy,
                          input: x, weight: store.values + weight.offset,
                          batch: input.shape[0], inFeatures: inFeatures, outFeatures: outFeatures, precision: precision)
        }
        return inputGrad
    }
}

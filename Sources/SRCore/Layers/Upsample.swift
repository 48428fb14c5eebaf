// torch.nn.Upsample(scale_factor=2, mode="nearest"): every pixel repeated into a 2x2 block.
// The U-Net's decoder upsamples with it and then convolves (no checkerboard artefacts, unlike a
// transposed convolution). Its backward sums each 2x2 block of the output gradient.

public final class UpsampleNearest2x: Layer {
    private var inputShape: [Int]?

    public init() {}

    // input (N,C,H,W) -> output (N,C,2H,2W), output[n,c,y,x] = input[n,c,y/2,x/2]
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.shape.count == 4, "UpsampleNearest2x given \(input)")
        let (h, w) = (input.h, input.w)
        let output = Tensor(uninitializedShape: [input.n, input.c, 2 * h, 2 * w])
        let planes = input.n * input.c
        withPointers(input, output) { source, target in forEachRange(planes, work: 4 * output.count) { range in
            for p in range {
                for y in 0..<h {
                    let row = source + (p * h + y) * w
                    let top = target + (p * 2 * h + 2 * y) * 2 * w, bottom = top + 2 * w
                    for x in 0..<w {
                        let v = row[x]
                        top[2 * x] = v; top[2 * x + 1] = v
                        bottom[2 * x] = v; bottom[2 * x + 1] = v
                    }
                }
            }
        } }
        inputShape = input.shape
        return output
    }

    public func backward(_ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        let shape = cached(inputShape, "UpsampleNearest2x")
        guard needInputGrad else { return nil }
        let (h, w) = (shape[2], shape[3])
        let inputGrad = Tensor(uninitializedShape: shape)
        let planes = shape[0] * shape[1]
        withPointers(outputGrad, inputGrad) { source, target in forEachRange(planes, work: 2 * outputGrad.count) { range in
            for p in range {
                for y in 0..<h {
                    let top = source + (p * 2 * h + 2 * y) * 2 * w, bottom = top + 2 * w
                    let row = target + (p * h + y) * w
                    for x in 0..<w { row[x] = top[2 * x] + top[2 * x + 1] + bottom[2 * x] + bottom[2 * x + 1] }
                }
            }
        } }
        return inputGrad
    }
}

// Total-variation loss on images (an SR batch): the squared-difference form
//   TV(I) = (1/N) sum_n sum_c [ sum_{y, x<W-1} (I[y,x+1] - I[y,x])^2 + sum_{y<H-1, x} (I[y+1,x] - I[y,x])^2 ]
// a sum over each image's channels and pixels, averaged over the N images, so the value does not
// depend on the batch size, the number of ranks or micro-batches (docs/gan-variants.md says why
// the combined loss's weight 2e-8 fits this normalisation).

extension Loss {
    /// TV of `image` (N,C,H,W) as above; ADDS gradScale * dTV/dImage into `grad` (when given),
    /// each difference d = I[q] - I[p] adding (2/N) d to I[q]'s gradient and -(2/N) d to I[p]'s.
    public static func totalVariation(image: Tensor, grad: Tensor?, gradScale: Float = 1) -> Float {
        precondition(image.shape.count == 4, "total variation of \(image)")
        precondition(grad == nil || grad!.shape == image.shape, "TV gradient \(String(describing: grad)) for \(image)")
        let height = image.h, width = image.w, plane = height * width
        let k = 2 * gradScale / Float(image.n)
        var sum = 0.0
        let planes = image.n * image.c
        withPointers(optional: grad, image) { g, x in for p in 0..<planes {
            let base = p * plane
            for y in 0..<height {
                let row = base + y * width
                for column in 0..<width {
                    let here = x[row + column]
                    if column + 1 < width {
                        let d = x[row + column + 1] - here
                        sum += Double(d) * Double(d)
                        if let g {
                            g[row + column + 1] += k * d
                            g[row + column] -= k * d
                        }
                    }
                    if y + 1 < height {
                        let d = x[row + width + column] - here
                        sum += Double(d) * Double(d)
                        if let g {
                            g[row + width + column] += k * d
                            g[row + column] -= k * d
                        }
                    }
                }
            }
        } }
        return Float(sum / Double(image.n))
    }
}

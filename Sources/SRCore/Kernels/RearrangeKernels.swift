// Pixel shuffle (sub-pixel convolution's rearrangement) and 2x2 max pooling.

/// PixelShuffle(r): input (N, C*r*r, H, W) -> output (N, C, H*r, W*r),
/// output[n, c, h*r+i, w*r+j] = input[n, c*r*r + i*r + j, h, w]  (torch.nn.PixelShuffle).
/// With `inverse` it maps the other way, which is also the backward of the forward map:
/// the gradient of a permutation is the inverse permutation. Each output row is written (or, in
/// inverse, read) contiguously, interleaving r input rows; output channels are split over threads.
public func pixelShuffle(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>,
                         batch: Int, outChannels: Int, inHeight: Int, inWidth: Int, factor r: Int,
                         inverse: Bool) {
    let outHeight = inHeight * r, outWidth = inWidth * r, inPlane = inHeight * inWidth
    let planes = batch * outChannels
    let interleave = KernelPath.kernels.pointee.interleave2_row!, deinterleave = KernelPath.kernels.pointee.deinterleave2_row!
    forEachRange(planes, work: 2 * planes * outHeight * outWidth) { range in
        for p in range {  // p = n * outChannels + c
            let shuffled = p * r * r * inPlane, unshuffled = p * outHeight * outWidth
            for i in 0..<r {
                for h in 0..<inHeight {
                    let row = unshuffled + (h * r + i) * outWidth
                    let first = shuffled + i * r * inPlane + h * inWidth   // sub-channel (i, j=0), row h
                    if r == 2 {  // the active path's row kernels (CKernels pool_body.h)
                        let even = first, odd = first + inPlane
                        if inverse {
                            deinterleave(source + row, inWidth, target + even, target + odd)
                        } else {
                            interleave(source + even, source + odd, inWidth, target + row)
                        }
                        continue
                    }
                    for w in 0..<inWidth {
                        for j in 0..<r {
                            if inverse {
                                target[first + j * inPlane + w] = source[row + w * r + j]
                            } else {
                                target[row + w * r + j] = source[first + j * inPlane + w]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The plain loops of `pixelShuffle`, kept to test it against.
/// PixelShuffle(r): input (N, C*r*r, H, W) -> output (N, C, H*r, W*r),
/// output[n, c, h*r+i, w*r+j] = input[n, c*r*r + i*r + j, h, w]  (torch.nn.PixelShuffle).
/// With `inverse` it maps the other way, which is also the backward of the forward map:
/// the gradient of a permutation is the inverse permutation.
public func pixelShuffleReference(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>,
                                  batch: Int, outChannels: Int, inHeight: Int, inWidth: Int, factor r: Int,
                                  inverse: Bool) {
    let outHeight = inHeight * r, outWidth = inWidth * r
    for n in 0..<batch {
        for c in 0..<outChannels {
            for i in 0..<r {
                for j in 0..<r {
                    let shuffledPlane = ((n * outChannels + c) * r * r + i * r + j) * inHeight * inWidth
                    let outPlane = (n * outChannels + c) * outHeight * outWidth
                    for h in 0..<inHeight {
                        let shuffledRow = shuffledPlane + h * inWidth
                        let outRow = outPlane + (h * r + i) * outWidth + j
                        if inverse {
                            for w in 0..<inWidth { target[shuffledRow + w] = source[outRow + w * r] }
                        } else {
                            for w in 0..<inWidth { target[outRow + w * r] = source[shuffledRow + w] }
                        }
                    }
                }
            }
        }
    }
}

/// MaxPool2d(2): x (N,C,H,W) -> y (N,C,H/2,W/2) (odd edges dropped, as PyTorch's floor mode);
/// argmax records the input index of each maximum (the first one on ties, a NaN over any number)
/// for backward. The reference of the per-ISA row kernels MaxPool2d runs (CKernels pool_body.h).
public func maxPool2Forward(output y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>,
                            input x: UnsafePointer<Float>, planes: Int, height: Int, width: Int) {
    let outH = height / 2, outW = width / 2
    for p in 0..<planes {
        let inBase = p * height * width
        let outBase = p * outH * outW
        for oh in 0..<outH {
            for ow in 0..<outW {
                let topLeft = inBase + (2 * oh) * width + 2 * ow
                var best = topLeft
                for offset in 1...3 {
                    let index = topLeft + (offset >> 1) * width + (offset & 1)
                    if x[index] > x[best] || x[index].isNaN { best = index }
                }
                y[outBase + oh * outW + ow] = x[best]
                argmax[outBase + oh * outW + ow] = Int32(best)
            }
        }
    }
}

/// inputGrad (N,C,H,W) = scatter of outputGrad to the recorded maxima (overwritten).
public func maxPool2Backward(inputGrad: UnsafeMutablePointer<Float>, outputGrad: UnsafePointer<Float>,
                             argmax: UnsafePointer<Int32>, inputCount: Int, outputCount: Int) {
    inputGrad.update(repeating: 0, count: inputCount)
    for i in 0..<outputCount { inputGrad[Int(argmax[i])] += outputGrad[i] }
}

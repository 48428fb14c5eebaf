// Convolution for layers with few output channels and a kernel of 3x3 or more (SRResNet's 9x9
// tail, 64 -> 3, or a 3x3 tail): the patch matrix is built on the OUTPUT side, whose K*K*OC rows are far fewer than
// the input side's K*K*C (243 vs 5184 for the paper's tail).
//   forward:  T (K*K*OC, Hp*Wp) = W' (K*K*OC, C) x paddedInput (C, Hp*Wp)           one sgemm
//             out[oc, y, x] = sum over taps (kh, kw) of T[tap*OC + oc, (y+kh)*Wp + x+kw]
//   backward: Z (K*K*OC, Hp*Wp) = dY scattered: row tap*OC + oc holds dY[oc] shifted by (kh, kw)
//             dW' (K*K*OC, C) += Z x paddedInput^T                                    one sgemm
//             dPaddedInput (C, Hp*Wp) = W'^T x Z                                        one sgemm
// Stride 1, "same" padding (2p = K - 1).

/// Whether the output-side path serves this geometry.
func usesOutputSide(_ g: ConvGeometry) -> Bool {
    g.stride == 1 && g.kernelHeight == g.kernelWidth && g.kernelHeight >= 3 && 2 * g.padding == g.kernelHeight - 1
        && g.outChannels * 4 <= g.inChannels
}

private struct OutputSideGeometry {
    let g: ConvGeometry
    var k: Int { g.kernelHeight }
    var rows: Int { k * k * g.outChannels }
    var padding: SamePadding { SamePadding(g: g) }
    var paddedWidth: Int { padding.paddedWidth }
    var paddedPlane: Int { padding.paddedPlane }
}

/// weight (OC, C, K, K) -> W' (K*K*OC, C), row tap*OC + oc
private func tapMajorWeights(_ weight: UnsafePointer<Float>, _ s: OutputSideGeometry) -> UnsafeMutablePointer<Float> {
    let g = s.g, k2 = s.k * s.k
    let out = UnsafeMutablePointer<Float>.allocate(capacity: s.rows * g.inChannels)
    for oc in 0..<g.outChannels {
        for c in 0..<g.inChannels {
            for t in 0..<k2 { out[(t * g.outChannels + oc) * g.inChannels + c] = weight[(oc * g.inChannels + c) * k2 + t] }
        }
    }
    return out
}

/// Padded rows per band of the forward: the band's tap products (K*K*OC x rows x Wp floats) stay
/// about 4 MB, in cache while they are added into the output, whatever the image size (the whole
/// 512x512 image at once took a 263 MB product, written and read back from memory).
public enum OutputSide {
    nonisolated(unsafe) public static var bandFloats = 1 << 20
}

func outputSideConvForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                           weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry) {
    let s = OutputSideGeometry(g: g)
    let (k, wp, p) = (s.k, s.paddedWidth, g.padding)
    let paddedHeight = s.padding.paddedHeight
    let bandRows = max(1, min(paddedHeight, OutputSide.bandFloats / (s.rows * wp)))
    let weights = tapMajorWeights(weight, s)
    let bandCount = g.inChannels * bandRows * wp, tapCount = s.rows * bandRows * wp
    let band = TensorMemory.allocate(bandCount), taps = TensorMemory.allocate(tapCount)
    defer {
        weights.deallocate()
        TensorMemory.release(band, count: bandCount)
        TensorMemory.release(taps, count: tapCount)
    }
    for n in 0..<g.batch {
        let image = input + n * g.inChannels * g.inPlane
        let out = output + n * g.outChannels * g.outPlane
        for oc in 0..<g.outChannels { (out + oc * g.outPlane).update(repeating: bias?[oc] ?? 0, count: g.outPlane) }
        for first in stride(from: 0, to: paddedHeight, by: bandRows) {
            let rows = min(bandRows, paddedHeight - first)
            // band (C, rows, Wp): padded rows first..<first+rows (image row py - p, zero outside)
            forEachRange(g.inChannels, work: g.inChannels * rows * wp) { channels in
                for c in channels {
                    for r in 0..<rows {
                        let target = band + (c * rows + r) * wp, y = first + r - p
                        guard y >= 0 && y < g.inHeight else { target.update(repeating: 0, count: wp); continue }
                        target.update(repeating: 0, count: p)
                        (target + p).update(from: image + (c * g.inHeight + y) * g.inWidth, count: g.inWidth)
                        (target + p + g.inWidth).update(repeating: 0, count: wp - p - g.inWidth)
                    }
                }
            }
            // taps (K*K*OC, rows*Wp) = W' (K*K*OC, C) x band (C, rows*Wp)
            parallelGemm(.none, .none, m: s.rows, n: rows * wp, k: g.inChannels, a: weights, b: band, beta: 0, c: taps)
            // out[oc, y, x] += taps[tap*OC + oc, py - first, x + kw] for py = y + kh in the band;
            // output rows split over the threads
            let firstY = max(0, first - (k - 1)), endY = min(g.outHeight, first + rows)
            guard firstY < endY else { continue }
            forEachRange(endY - firstY, work: s.rows * rows * g.outWidth) { range in
                for oc in 0..<g.outChannels {
                    for y in (firstY + range.lowerBound)..<(firstY + range.upperBound) {
                        let target = out + oc * g.outPlane + y * g.outWidth
                        for kh in max(0, first - y)..<min(k, first + rows - y) {
                            for kw in 0..<k {
                                let row = taps + ((kh * k + kw) * g.outChannels + oc) * rows * wp + (y + kh - first) * wp + kw
                                for x in 0..<g.outWidth { target[x] += row[x] }
                            }
                        }
                    }
                }
            }
        }
    }
}

func outputSideConvBackward(inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
                            biasGrad: UnsafeMutablePointer<Float>?, outputGrad: UnsafePointer<Float>,
                            input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry) {
    let s = OutputSideGeometry(g: g)
    let k2 = s.k * s.k
    let weights = tapMajorWeights(weight, s)
    let paddedCount = g.inChannels * s.paddedPlane, scatteredCount = s.rows * s.paddedPlane
    let padded = TensorMemory.allocate(paddedCount), paddedGrad = TensorMemory.allocate(paddedCount)
    let scattered = TensorMemory.allocate(scatteredCount)
    let weightsGrad = UnsafeMutablePointer<Float>.allocate(capacity: s.rows * g.inChannels)
    defer {
        weights.deallocate()
        weightsGrad.deallocate()
        TensorMemory.release(padded, count: paddedCount)
        TensorMemory.release(paddedGrad, count: paddedCount)
        TensorMemory.release(scattered, count: scatteredCount)
    }
    padded.initialize(repeating: 0, count: g.inChannels * s.paddedPlane)
    scattered.initialize(repeating: 0, count: s.rows * s.paddedPlane)   // borders stay 0
    weightsGrad.initialize(repeating: 0, count: s.rows * g.inChannels)
    for n in 0..<g.batch {
        let outGrad = outputGrad + n * g.outChannels * g.outPlane
        for oc in 0..<g.outChannels {
            let plane = outGrad + oc * g.outPlane
            if let biasGrad {
                var sum: Float = 0
                for i in 0..<g.outPlane { sum += plane[i] }
                biasGrad[oc] += sum
            }
            for t in 0..<k2 {
                let (kh, kw) = (t / s.k, t % s.k)
                let target = scattered + (t * g.outChannels + oc) * s.paddedPlane + kh * s.paddedWidth + kw
                for y in 0..<g.outHeight { (target + y * s.paddedWidth).update(from: plane + y * g.outWidth, count: g.outWidth) }
            }
        }
        if weightGrad != nil {
            s.padding.pad(input + n * g.inChannels * g.inPlane, into: padded)
            // dW' (K*K*OC, C) += scattered (K*K*OC, Hp*Wp) x padded^T (Hp*Wp, C)
            parallelGemm(.none, .transposed, m: s.rows, n: g.inChannels, k: s.paddedPlane, a: scattered, b: padded,
                 beta: 1, c: weightsGrad)
        }
        if let inputGrad {
            // dPadded (C, Hp*Wp) = W'^T (C, K*K*OC) x scattered (K*K*OC, Hp*Wp)
            parallelGemm(.transposed, .none, m: g.inChannels, n: s.paddedPlane, k: s.rows, a: weights, b: scattered,
                 beta: 0, c: paddedGrad)
            s.padding.crop(paddedGrad, into: inputGrad + n * g.inChannels * g.inPlane)
        }
    }
    if let weightGrad {
        for oc in 0..<g.outChannels {
            for c in 0..<g.inChannels {
                for t in 0..<k2 { weightGrad[(oc * g.inChannels + c) * k2 + t] += weightsGrad[(t * g.outChannels + oc) * g.inChannels + c] }
            }
        }
    }
}

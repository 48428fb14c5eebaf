// Convolution for layers with few output channels and a kernel of 3x3 or more (SRResNet's 9x9
// tail, 64 -> 3, or a 3x3 tail): the patch matrix is built on the OUTPUT side, whose K*K*OC rows are far fewer than
// the input side's K*K*C (243 vs 5184 for the paper's tail).
//   forward:  T (K*K*OC, Hp*Wp) = W' (K*K*OC, C) x paddedInput (C, Hp*Wp)           one sgemm
//             out[oc, y, x] = sum over taps (kh, kw) of T[tap*OC + oc, (y+kh)*Wp + x+kw]
//   backward: Z (K*K*OC, Hp*Wp) = dY scattered: row tap*OC + oc holds dY[oc] shifted by (kh, kw)
//             dW' (K*K*OC, C) += Z x paddedInput^T                                    one sgemm
//             dPaddedInput (C, Hp*Wp) = W'^T x Z                                        one sgemm
// Stride 1, "same" padding (2p = K - 1). Both directions run over bands of padded rows (T, Z and
// the padded input exist for one band at a time): a position of T or Z involves only the padded
// input at the same position, so the bands are independent but for the sums into dW'.

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

func outputSideConvForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                           weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry,
                           _ options: ConvOptions) {
    let s = OutputSideGeometry(g: g)
    let (k, wp) = (s.k, s.paddedWidth)
    let paddedHeight = s.padding.paddedHeight
    // Padded rows per band: the band's tap products (K*K*OC x rows x Wp floats) within the budget.
    let bandRows = max(1, min(paddedHeight, options.outputSideBandFloats / (s.rows * wp)))
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
            padBand(image, first: first, rows: rows, into: band, g, paddedWidth: wp)
            // taps (K*K*OC, rows*Wp) = W' (K*K*OC, C) x band (C, rows*Wp)
            parallelGemm(.none, .none, m: s.rows, n: rows * wp, k: g.inChannels, a: weights, b: band, beta: 0, c: taps,
                         precision: options.precision)
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
                            input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry,
                            _ options: ConvOptions) {
    let s = OutputSideGeometry(g: g)
    let (k, wp, p) = (s.k, s.paddedWidth, g.padding)
    let paddedHeight = s.padding.paddedHeight
    // Padded rows per band: the band's tap products (K*K*OC x rows x Wp floats) within the budget.
    let bandRows = max(1, min(paddedHeight, options.outputSideBandFloats / (s.rows * wp)))
    let weights = tapMajorWeights(weight, s)
    let bandCount = g.inChannels * bandRows * wp, scatteredCount = s.rows * bandRows * wp
    let band = TensorMemory.allocate(bandCount), bandGrad = TensorMemory.allocate(bandCount)
    let scattered = TensorMemory.allocate(scatteredCount)
    let weightsGrad = UnsafeMutablePointer<Float>.allocate(capacity: s.rows * g.inChannels)
    defer {
        weights.deallocate()
        weightsGrad.deallocate()
        TensorMemory.release(band, count: bandCount)
        TensorMemory.release(bandGrad, count: bandCount)
        TensorMemory.release(scattered, count: scatteredCount)
    }
    weightsGrad.initialize(repeating: 0, count: s.rows * g.inChannels)
    for n in 0..<g.batch {
        let outGrad = outputGrad + n * g.outChannels * g.outPlane
        let image = input + n * g.inChannels * g.inPlane
        if let biasGrad {
            for oc in 0..<g.outChannels { biasGrad[oc] += spanSum(outGrad + oc * g.outPlane, count: g.outPlane) }
        }
        for first in stride(from: 0, to: paddedHeight, by: bandRows) {
            let rows = min(bandRows, paddedHeight - first)
            // scattered (K*K*OC, rows, Wp): row tap*OC + oc holds dY[oc] shifted by (kh, kw), i.e.
            // scattered[tap*OC + oc, py - first, px] = dY[oc, py - kh, px - kw] (zero outside)
            forEachRange(s.rows, work: s.rows * rows * wp) { range in
                for row in range {
                    let (tap, oc) = (row / g.outChannels, row % g.outChannels)
                    let (kh, kw) = (tap / k, tap % k)
                    let plane = outGrad + oc * g.outPlane
                    for r in 0..<rows {
                        let target = scattered + (row * rows + r) * wp, y = first + r - kh
                        guard y >= 0 && y < g.outHeight else { target.update(repeating: 0, count: wp); continue }
                        target.update(repeating: 0, count: kw)
                        (target + kw).update(from: plane + y * g.outWidth, count: g.outWidth)
                        (target + kw + g.outWidth).update(repeating: 0, count: wp - kw - g.outWidth)
                    }
                }
            }
            if weightGrad != nil {
                padBand(image, first: first, rows: rows, into: band, g, paddedWidth: wp)
                // dW' (K*K*OC, C) += scattered (K*K*OC, rows*Wp) x band^T (rows*Wp, C)
                parallelGemm(.none, .transposed, m: s.rows, n: g.inChannels, k: rows * wp, a: scattered, b: band,
                             beta: 1, c: weightsGrad, precision: options.precision)
            }
            if let inputGrad {
                // dBand (C, rows*Wp) = W'^T (C, K*K*OC) x scattered (K*K*OC, rows*Wp); its interior is dX
                parallelGemm(.transposed, .none, m: g.inChannels, n: rows * wp, k: s.rows, a: weights, b: scattered,
                             beta: 0, c: bandGrad, precision: options.precision)
                let imageGrad = inputGrad + n * g.inChannels * g.inPlane
                for c in 0..<g.inChannels {
                    for r in 0..<rows {
                        let y = first + r - p
                        guard y >= 0 && y < g.inHeight else { continue }
                        (imageGrad + (c * g.inHeight + y) * g.inWidth).update(from: bandGrad + (c * rows + r) * wp + p, count: g.inWidth)
                    }
                }
            }
        }
    }
    if let weightGrad {
        let k2 = k * k
        for oc in 0..<g.outChannels {
            for c in 0..<g.inChannels {
                for t in 0..<k2 { weightGrad[(oc * g.inChannels + c) * k2 + t] += weightsGrad[(t * g.outChannels + oc) * g.inChannels + c] }
            }
        }
    }
}

/// band (C, rows, Wp) = padded rows first..<first+rows of image (C, H, W): image row py - p, zero outside.
private func padBand(_ image: UnsafePointer<Float>, first: Int, rows: Int, into band: UnsafeMutablePointer<Float>,
                     _ g: ConvGeometry, paddedWidth wp: Int) {
    let p = g.padding
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
}

// Convolution without im2col for large stride-1 kernels (the 9x9 layers of SRResNet): the input
// is zero-padded once to (C, H+2p, W+2p), and the output is computed on a "wide" grid
// (OC, H, W+2p) as a sum over the K*K kernel taps of one sgemm each:
//   outWide (OC, H*Wp) += W_tap (OC, C) x paddedInput shifted by (kh, kw) (C, H*Wp), ldb = Hp*Wp
// For a valid column x < W, x + kw never leaves its padded row, so the shifted matrix is just a
// pointer offset; columns x >= W are garbage and are dropped. The im2col matrix of a 9x9 layer
// with 64 inputs is 81x bigger than its input (190 MB per 96x96 image); this reads the input K*K
// times from cache instead. Backward mirrors it with zero garbage columns in the output gradient.

/// Whether `convForward`/`convBackward` take the shifted-window path for this geometry.
func usesShiftedWindow(_ g: ConvGeometry) -> Bool {
    g.stride == 1 && g.kernelHeight == g.kernelWidth && g.kernelHeight >= 5
        && 2 * g.padding == g.kernelHeight - 1 && g.inChannels >= 16
}

private struct PaddedGeometry {
    let g: ConvGeometry
    var padding: SamePadding { SamePadding(g: g) }
    var paddedWidth: Int { padding.paddedWidth }
    var paddedPlane: Int { padding.paddedPlane }
    /// Floats of one padded image, plus the overrun of the last shifted window.
    var paddedCount: Int { g.inChannels * paddedPlane + 2 * g.padding + 1 }
    var wideCount: Int { g.outHeight * paddedWidth }
}

/// weight (OC, C, K, K) -> taps (K*K, OC, C)
private func weightTaps(_ weight: UnsafePointer<Float>, _ g: ConvGeometry) -> UnsafeMutablePointer<Float> {
    let k2 = g.kernelHeight * g.kernelWidth
    let taps = UnsafeMutablePointer<Float>.allocate(capacity: k2 * g.outChannels * g.inChannels)
    for oc in 0..<g.outChannels {
        for c in 0..<g.inChannels {
            let source = weight + (oc * g.inChannels + c) * k2
            for t in 0..<k2 { taps[(t * g.outChannels + oc) * g.inChannels + c] = source[t] }
        }
    }
    return taps
}

func shiftedConvForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry,
                        _ options: ConvOptions) {
    let p = PaddedGeometry(g: g)
    let k = g.kernelHeight
    let taps = weightTaps(weight, g)
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: p.paddedCount)
    let wide = UnsafeMutablePointer<Float>.allocate(capacity: g.outChannels * p.wideCount)
    defer { taps.deallocate(); padded.deallocate(); wide.deallocate() }
    padded.initialize(repeating: 0, count: p.paddedCount)
    for n in 0..<g.batch {
        p.padding.pad(input + n * g.inChannels * g.inPlane, into: padded)
        for t in 0..<(k * k) {
            let (kh, kw) = (t / k, t % k)
            // wide (OC, H*Wp) += taps[t] (OC, C) x shifted (C, H*Wp), ldb = Hp*Wp
            parallelGemm(.none, .none, m: g.outChannels, n: p.wideCount, k: g.inChannels,
                 a: taps + t * g.outChannels * g.inChannels, b: padded + kh * p.paddedWidth + kw,
                 ldb: p.paddedPlane, beta: t == 0 ? 0 : 1, c: wide, precision: options.precision)
        }
        let out = output + n * g.outChannels * g.outPlane
        for oc in 0..<g.outChannels {
            let value = bias?[oc] ?? 0
            for y in 0..<g.outHeight {
                let source = wide + oc * p.wideCount + y * p.paddedWidth
                let target = out + (oc * g.outHeight + y) * g.outWidth
                for x in 0..<g.outWidth { target[x] = source[x] + value }
            }
        }
    }
}

func shiftedConvBackward(inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
                         biasGrad: UnsafeMutablePointer<Float>?, outputGrad: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry,
                         _ options: ConvOptions) {
    let p = PaddedGeometry(g: g)
    let k = g.kernelHeight, k2 = k * k
    let taps = weightTaps(weight, g)
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: p.paddedCount)
    let paddedGrad = UnsafeMutablePointer<Float>.allocate(capacity: p.paddedCount)
    let wideGrad = UnsafeMutablePointer<Float>.allocate(capacity: g.outChannels * p.wideCount)
    let tapGrads = UnsafeMutablePointer<Float>.allocate(capacity: k2 * g.outChannels * g.inChannels)
    defer { taps.deallocate(); padded.deallocate(); paddedGrad.deallocate(); wideGrad.deallocate(); tapGrads.deallocate() }
    padded.initialize(repeating: 0, count: p.paddedCount)
    wideGrad.initialize(repeating: 0, count: g.outChannels * p.wideCount)   // garbage columns stay 0
    tapGrads.initialize(repeating: 0, count: k2 * g.outChannels * g.inChannels)
    for n in 0..<g.batch {
        let outGrad = outputGrad + n * g.outChannels * g.outPlane
        for oc in 0..<g.outChannels {
            for y in 0..<g.outHeight {
                (wideGrad + oc * p.wideCount + y * p.paddedWidth).update(from: outGrad + (oc * g.outHeight + y) * g.outWidth,
                                                                         count: g.outWidth)
            }
            if let biasGrad {
                var sum: Float = 0
                for i in 0..<g.outPlane { sum += outGrad[oc * g.outPlane + i] }
                biasGrad[oc] += sum
            }
        }
        if weightGrad != nil {
            p.padding.pad(input + n * g.inChannels * g.inPlane, into: padded)
            for t in 0..<k2 {
                let (kh, kw) = (t / k, t % k)
                // tapGrads[t] (OC, C) += wideGrad (OC, H*Wp) x shifted^T (H*Wp, C)
                parallelGemm(.none, .transposed, m: g.outChannels, n: g.inChannels, k: p.wideCount,
                     a: wideGrad, b: padded + kh * p.paddedWidth + kw, ldb: p.paddedPlane, beta: 1,
                     c: tapGrads + t * g.outChannels * g.inChannels, precision: options.precision)
            }
        }
        if let inputGrad {
            paddedGrad.update(repeating: 0, count: p.paddedCount)
            for t in 0..<k2 {
                let (kh, kw) = (t / k, t % k)
                // shifted dX (C, H*Wp) += taps[t]^T (C, OC) x wideGrad (OC, H*Wp), ldc = Hp*Wp
                parallelGemm(.transposed, .none, m: g.inChannels, n: p.wideCount, k: g.outChannels,
                     a: taps + t * g.outChannels * g.inChannels, b: wideGrad, beta: 1,
                     c: paddedGrad + kh * p.paddedWidth + kw, ldc: p.paddedPlane, precision: options.precision)
            }
            p.padding.crop(paddedGrad, into: inputGrad + n * g.inChannels * g.inPlane)
        }
    }
    if let weightGrad {
        for oc in 0..<g.outChannels {
            for c in 0..<g.inChannels {
                let target = weightGrad + (oc * g.inChannels + c) * k2
                for t in 0..<k2 { target[t] += tapGrads[(t * g.outChannels + oc) * g.inChannels + c] }
            }
        }
    }
}

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

func outputSideConvForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                           weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry) {
    let s = OutputSideGeometry(g: g)
    let weights = tapMajorWeights(weight, s)
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.inChannels * s.paddedPlane)
    let taps = UnsafeMutablePointer<Float>.allocate(capacity: s.rows * s.paddedPlane)
    defer { weights.deallocate(); padded.deallocate(); taps.deallocate() }
    padded.initialize(repeating: 0, count: g.inChannels * s.paddedPlane)
    for n in 0..<g.batch {
        s.padding.pad(input + n * g.inChannels * g.inPlane, into: padded)
        // taps (K*K*OC, Hp*Wp) = W' (K*K*OC, C) x padded (C, Hp*Wp)
        parallelGemm(.none, .none, m: s.rows, n: s.paddedPlane, k: g.inChannels, a: weights, b: padded, beta: 0, c: taps)
        let out = output + n * g.outChannels * g.outPlane
        for oc in 0..<g.outChannels {
            let plane = out + oc * g.outPlane
            plane.update(repeating: bias?[oc] ?? 0, count: g.outPlane)
            for t in 0..<(s.k * s.k) {
                let (kh, kw) = (t / s.k, t % s.k)
                let source = taps + (t * g.outChannels + oc) * s.paddedPlane + kh * s.paddedWidth + kw
                for y in 0..<g.outHeight {
                    let row = source + y * s.paddedWidth, target = plane + y * g.outWidth
                    for x in 0..<g.outWidth { target[x] += row[x] }
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
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.inChannels * s.paddedPlane)
    let paddedGrad = UnsafeMutablePointer<Float>.allocate(capacity: g.inChannels * s.paddedPlane)
    let scattered = UnsafeMutablePointer<Float>.allocate(capacity: s.rows * s.paddedPlane)
    let weightsGrad = UnsafeMutablePointer<Float>.allocate(capacity: s.rows * g.inChannels)
    defer { weights.deallocate(); padded.deallocate(); paddedGrad.deallocate(); scattered.deallocate(); weightsGrad.deallocate() }
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

// Plain-loop convolution: the specification the fast kernels are tested against. Slow on
// purpose; never used in training.

/// output (N,OC,OH,OW) = conv(input (N,C,H,W), weight (OC,C,KH,KW)) + bias (OC)
public func convForwardReference(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry
) {
    for n in 0..<g.batch {
        for oc in 0..<g.outChannels {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    var sum = Double(bias?[oc] ?? 0)
                    for c in 0..<g.inChannels {
                        for kh in 0..<g.kernelHeight {
                            for kw in 0..<g.kernelWidth {
                                let ih = oh * g.stride - g.padding + kh
                                let iw = ow * g.stride - g.padding + kw
                                if ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth { continue }
                                let x = input[((n * g.inChannels + c) * g.inHeight + ih) * g.inWidth + iw]
                                let w = weight[((oc * g.inChannels + c) * g.kernelHeight + kh) * g.kernelWidth + kw]
                                sum += Double(x) * Double(w)
                            }
                        }
                    }
                    output[((n * g.outChannels + oc) * g.outHeight + oh) * g.outWidth + ow] = Float(sum)
                }
            }
        }
    }
}

/// Same contract as convBackward: weightGrad and biasGrad are added to, inputGrad overwritten.
public func convBackwardReference(
    inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
    biasGrad: UnsafeMutablePointer<Float>?, outputGrad: UnsafePointer<Float>,
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry
) {
    inputGrad?.update(repeating: 0, count: g.batch * g.inChannels * g.inPlane)
    for n in 0..<g.batch {
        for oc in 0..<g.outChannels {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    let dy = outputGrad[((n * g.outChannels + oc) * g.outHeight + oh) * g.outWidth + ow]
                    biasGrad?[oc] += dy
                    for c in 0..<g.inChannels {
                        for kh in 0..<g.kernelHeight {
                            for kw in 0..<g.kernelWidth {
                                let ih = oh * g.stride - g.padding + kh
                                let iw = ow * g.stride - g.padding + kw
                                if ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth { continue }
                                let xIndex = ((n * g.inChannels + c) * g.inHeight + ih) * g.inWidth + iw
                                let wIndex = ((oc * g.inChannels + c) * g.kernelHeight + kh) * g.kernelWidth + kw
                                weightGrad?[wIndex] += dy * input[xIndex]
                                inputGrad?[xIndex] += dy * weight[wIndex]
                            }
                        }
                    }
                }
            }
        }
    }
}

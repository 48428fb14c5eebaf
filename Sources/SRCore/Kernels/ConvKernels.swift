// Convolution by im2col + one sgemm per image (Caffe's scheme); 3x3 stride-1 "same"
// convolutions over 8 or more channels take Winograd F(4x4,3x3) (WinogradConv); 1x1 stride-1
// convolutions skip im2col; large stride-1 kernels with few outputs build the patch matrix on the output side
// (OutputSideConv), other large stride-1 kernels over many channels take the shifted-window path. The plain-loop reference in ConvReference.swift is the specification these must match.

/// The (C*KH*KW, OH*OW) patch matrix of one image: im2col into `columns`, or the image itself
/// when the convolution is pointwise (columns is nil then).
@inline(__always)
private func patchMatrix(_ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>?,
                         _ g: ConvGeometry) -> UnsafePointer<Float> {
    guard let columns else { return image }
    im2col(image, columns, g)
    return UnsafePointer(columns)
}

/// output (N,OC,OH,OW) = conv(input (N,C,H,W), weight (OC,C,KH,KW)) + bias (OC)
public func convForward(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry, options: ConvOptions = ConvOptions()
) {
    forEachBatchPart(g, options) { images, part in
        convForwardPart(output: output + images.lowerBound * g.outChannels * g.outPlane,
                        input: input + images.lowerBound * g.inChannels * g.inPlane,
                        weight: weight, bias: bias, part, options: options)
    }
}

/// convForward of the images `g` describes, on the threads the caller has.
private func convForwardPart(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry, options: ConvOptions
) {
    if usesWinograd(g, options) {
        winogradConvForward(output: output, input: input, weight: weight, bias: bias, g, options)
        return
    }
    if usesOutputSide(g) {
        outputSideConvForward(output: output, input: input, weight: weight, bias: bias, g, options)
        return
    }
    if usesShiftedWindow(g) {
        shiftedConvForward(output: output, input: input, weight: weight, bias: bias, g, options)
        return
    }
    // Images split over the threads, each with its own patch matrix and single-threaded sgemms
    // (im2col is half the work at stride 2: one thread building it while the other waited for
    // the split sgemm left a core idle).
    forEachImage(g) { images in
        let columnCount = g.patchSize * g.outPlane
        let columns = g.isPointwise ? nil : TensorMemory.allocate(columnCount)
        defer { columns.map { TensorMemory.release($0, count: columnCount) } }
        for n in images {
            let image = input + n * g.inChannels * g.inPlane
            let out = output + n * g.outChannels * g.outPlane
            let matrix = patchMatrix(image, columns, g)
            // out (OC, OH*OW) = weight (OC, C*KH*KW) x columns (C*KH*KW, OH*OW)
            gemm(.none, .none, m: g.outChannels, n: g.outPlane, k: g.patchSize,
                 a: weight, b: matrix, beta: 0, c: out, precision: options.precision)
            if let bias {
                for oc in 0..<g.outChannels {
                    let value = bias[oc]
                    let plane = out + oc * g.outPlane
                    for i in 0..<g.outPlane { plane[i] += value }
                }
            }
        }
    }
}

/// body(images) on disjoint ranges of the batch's images, one per thread when the batch and the
/// work allow (else one call with every image); convBackward splits the same way.
private func forEachImage(_ g: ConvGeometry, _ body: (Range<Int>) -> Void) {
    forEachRange(g.batch, work: Int(g.forwardFlops / 2), body)
}

/// Given outputGrad (N,OC,OH,OW): weightGrad (OC,C,KH,KW) += dL/dW, biasGrad (OC) += dL/db, and
/// inputGrad (N,C,H,W) = dL/dx (overwritten); each is skipped when its pointer is nil.
public func convBackward(
    inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
    biasGrad: UnsafeMutablePointer<Float>?, outputGrad: UnsafePointer<Float>,
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry, options: ConvOptions = ConvOptions()
) {
    forEachBatchPart(g, options, weightGrad: weightGrad, biasGrad: biasGrad) { images, part, weightGrad, biasGrad in
        convBackwardPart(inputGrad: inputGrad.map { $0 + images.lowerBound * g.inChannels * g.inPlane },
                         weightGrad: weightGrad, biasGrad: biasGrad,
                         outputGrad: outputGrad + images.lowerBound * g.outChannels * g.outPlane,
                         input: input + images.lowerBound * g.inChannels * g.inPlane, weight: weight, part, options: options)
    }
}

/// convBackward of the images `g` describes, on the threads the caller has.
private func convBackwardPart(
    inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
    biasGrad: UnsafeMutablePointer<Float>?, outputGrad: UnsafePointer<Float>,
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry, options: ConvOptions
) {
    if usesWinograd(g, options) {
        winogradConvBackward(inputGrad: inputGrad, weightGrad: weightGrad, biasGrad: biasGrad, outputGrad: outputGrad,
                             input: input, weight: weight, g, options)
        return
    }
    if usesOutputSide(g) {
        outputSideConvBackward(inputGrad: inputGrad, weightGrad: weightGrad, biasGrad: biasGrad, outputGrad: outputGrad,
                               input: input, weight: weight, g, options)
        return
    }
    if usesShiftedWindow(g) {
        shiftedConvBackward(inputGrad: inputGrad, weightGrad: weightGrad, biasGrad: biasGrad, outputGrad: outputGrad,
                            input: input, weight: weight, g, options)
        return
    }
    // Images split over the threads as in the forward; each part adds its weight and bias
    // gradients into a buffer of its own (the first part straight into the result), summed after.
    let columnCount = g.patchSize * g.outPlane
    accumulateOverParts(splitRanges(g.batch, work: Int(g.forwardFlops / 2)), g, weightGrad: weightGrad,
                        biasGrad: biasGrad) { images, ownWeightGrad, ownBiasGrad in
        let columns = (g.isPointwise || weightGrad == nil) ? nil : TensorMemory.allocate(columnCount)
        defer { columns.map { TensorMemory.release($0, count: columnCount) } }
        let columnGrad = (g.isPointwise || inputGrad == nil) ? nil : TensorMemory.allocate(columnCount)
        defer { columnGrad.map { TensorMemory.release($0, count: columnCount) } }
        for n in images {
            let image = input + n * g.inChannels * g.inPlane
            let outGrad = outputGrad + n * g.outChannels * g.outPlane
            if let ownWeightGrad {
                let matrix = patchMatrix(image, columns, g)
                // weightGrad (OC, C*KH*KW) += outGrad (OC, OH*OW) x columns^T (OH*OW, C*KH*KW)
                gemm(.none, .transposed, m: g.outChannels, n: g.patchSize, k: g.outPlane,
                     a: outGrad, b: matrix, beta: 1, c: ownWeightGrad, precision: options.precision)
            }
            if let ownBiasGrad {
                for oc in 0..<g.outChannels {
                    let plane = outGrad + oc * g.outPlane
                    var sum: Float = 0
                    for i in 0..<g.outPlane { sum += plane[i] }
                    ownBiasGrad[oc] += sum
                }
            }
            guard let inputGrad else { continue }
            let imageGrad = inputGrad + n * g.inChannels * g.inPlane
            // columnGrad (C*KH*KW, OH*OW) = weight^T (C*KH*KW, OC) x outGrad (OC, OH*OW)
            if let columnGrad {
                gemm(.transposed, .none, m: g.patchSize, n: g.outPlane, k: g.outChannels,
                     a: weight, b: outGrad, beta: 0, c: columnGrad, precision: options.precision)
                imageGrad.update(repeating: 0, count: g.inChannels * g.inPlane)
                col2imAdd(columnGrad, imageGrad, g)
            } else {
                gemm(.transposed, .none, m: g.patchSize, n: g.outPlane, k: g.outChannels,
                     a: weight, b: outGrad, beta: 0, c: imageGrad, precision: options.precision)
            }
        }
    }
}

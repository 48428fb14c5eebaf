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
    if usesNarrowDirect(g, options) {
        narrowConvForward(output: output, input: input, weight: weight, bias: bias, g)
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
    // the split sgemm left a core idle). Small output maps put several images side by side.
    forEachImage(g) { images in
        let group = imagesPerProduct(g, available: images.count), width = group * g.outPlane
        let columnCount = g.patchSize * width, productCount = g.outChannels * width
        let columns = g.isPointwise ? nil : TensorMemory.allocate(columnCount)
        defer { columns.map { TensorMemory.release($0, count: columnCount) } }
        let product = group > 1 ? TensorMemory.allocate(productCount) : nil
        defer { product.map { TensorMemory.release($0, count: productCount) } }
        for first in stride(from: images.lowerBound, to: images.upperBound, by: group) {
            let count = min(group, images.upperBound - first)
            let out = output + first * g.outChannels * g.outPlane
            if let product, let columns {
                for j in 0..<count { im2col(input + (first + j) * g.inChannels * g.inPlane, columns + j * g.outPlane, g, rowStride: width) }
                // product (OC, count*OH*OW) = weight (OC, C*KH*KW) x columns (C*KH*KW, count*OH*OW)
                gemm(.none, .none, m: g.outChannels, n: count * g.outPlane, k: g.patchSize, a: weight, b: columns, ldb: width,
                     beta: 0, c: product, ldc: width, precision: options.precision)
                scatterImages(product, width: width, count: count, into: out, g)
            } else {
                let matrix = patchMatrix(input + first * g.inChannels * g.inPlane, columns, g)
                // out (OC, OH*OW) = weight (OC, C*KH*KW) x columns (C*KH*KW, OH*OW)
                gemm(.none, .none, m: g.outChannels, n: g.outPlane, k: g.patchSize,
                     a: weight, b: matrix, beta: 0, c: out, precision: options.precision)
            }
            guard let bias else { continue }
            for j in 0..<count {
                for oc in 0..<g.outChannels {
                    let value = bias[oc]
                    let plane = out + (j * g.outChannels + oc) * g.outPlane
                    for i in 0..<g.outPlane { plane[i] += value }
                }
            }
        }
    }
}

/// Images per product on the im2col path: 1 for output maps of 512 pixels or more; below, enough
/// images side by side for a product at least 512 columns wide (the discriminator's last stride-2
/// layers, 12x12 and 6x6: 36 columns wasted most of a 32-wide register block and left the weight
/// gradient's sum 36 long), within 8 MB of patch matrix.
public func imagesPerProduct(_ g: ConvGeometry, available: Int) -> Int {
    guard !g.isPointwise, g.outPlane < 512 else { return 1 }
    let byWidth = (512 + g.outPlane - 1) / g.outPlane
    let byMemory = (1 << 21) / max(1, g.patchSize * g.outPlane)
    return max(1, min(available, byWidth, byMemory))
}

/// The images' (OC, OH*OW) blocks of product (OC, count*OH*OW, rows `width` apart) -> NCHW at out.
private func scatterImages(_ product: UnsafePointer<Float>, width: Int, count: Int, into out: UnsafeMutablePointer<Float>,
                           _ g: ConvGeometry) {
    for j in 0..<count {
        for oc in 0..<g.outChannels {
            (out + (j * g.outChannels + oc) * g.outPlane).update(from: product + oc * width + j * g.outPlane, count: g.outPlane)
        }
    }
}

/// The reverse: NCHW images at source -> their blocks side by side in gathered (OC, count*OH*OW).
private func gatherImages(_ source: UnsafePointer<Float>, count: Int, into gathered: UnsafeMutablePointer<Float>, width: Int,
                          _ g: ConvGeometry) {
    for j in 0..<count {
        for oc in 0..<g.outChannels {
            (gathered + oc * width + j * g.outPlane).update(from: source + (j * g.outChannels + oc) * g.outPlane, count: g.outPlane)
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
    if usesNarrowDirect(g, options) {
        narrowConvBackward(inputGrad: inputGrad, weightGrad: weightGrad, biasGrad: biasGrad, outputGrad: outputGrad,
                           input: input, weight: weight, g)
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
    // Small output maps take several images per product, as in the forward.
    accumulateOverParts(splitRanges(g.batch, work: Int(g.forwardFlops / 2)), g, weightGrad: weightGrad,
                        biasGrad: biasGrad) { images, ownWeightGrad, ownBiasGrad in
        let group = imagesPerProduct(g, available: images.count), width = group * g.outPlane
        let columnCount = g.patchSize * width, gatheredCount = g.outChannels * width
        let columns = (g.isPointwise || weightGrad == nil) ? nil : TensorMemory.allocate(columnCount)
        defer { columns.map { TensorMemory.release($0, count: columnCount) } }
        let columnGrad = (g.isPointwise || inputGrad == nil) ? nil : TensorMemory.allocate(columnCount)
        defer { columnGrad.map { TensorMemory.release($0, count: columnCount) } }
        let gathered = group > 1 ? TensorMemory.allocate(gatheredCount) : nil
        defer { gathered.map { TensorMemory.release($0, count: gatheredCount) } }
        for first in stride(from: images.lowerBound, to: images.upperBound, by: group) {
            let count = min(group, images.upperBound - first)
            let image = input + first * g.inChannels * g.inPlane
            let outGrad = outputGrad + first * g.outChannels * g.outPlane
            // dY of the group as (OC, count*OH*OW), rows `stride` apart: one image is itself
            let stride = gathered == nil ? g.outPlane : width
            if let gathered { gatherImages(outGrad, count: count, into: gathered, width: width, g) }
            let dy = UnsafePointer(gathered) ?? outGrad
            if let ownWeightGrad {
                let matrix: UnsafePointer<Float>
                if let columns, gathered != nil {
                    for j in 0..<count { im2col(image + j * g.inChannels * g.inPlane, columns + j * g.outPlane, g, rowStride: width) }
                    matrix = UnsafePointer(columns)
                } else {
                    matrix = patchMatrix(image, columns, g)
                }
                // weightGrad (OC, C*KH*KW) += dY (OC, count*OH*OW) x columns^T (count*OH*OW, C*KH*KW)
                gemm(.none, .transposed, m: g.outChannels, n: g.patchSize, k: count * g.outPlane,
                     a: dy, lda: stride, b: matrix, ldb: stride, beta: 1, c: ownWeightGrad, precision: options.precision)
            }
            if let ownBiasGrad {
                for j in 0..<count {
                    for oc in 0..<g.outChannels {
                        let plane = outGrad + (j * g.outChannels + oc) * g.outPlane
                        var sum: Float = 0
                        for i in 0..<g.outPlane { sum += plane[i] }
                        ownBiasGrad[oc] += sum
                    }
                }
            }
            guard let inputGrad else { continue }
            let imageGrad = inputGrad + first * g.inChannels * g.inPlane
            // columnGrad (C*KH*KW, count*OH*OW) = weight^T (C*KH*KW, OC) x dY (OC, count*OH*OW)
            if let columnGrad {
                gemm(.transposed, .none, m: g.patchSize, n: count * g.outPlane, k: g.outChannels,
                     a: weight, b: dy, ldb: stride, beta: 0, c: columnGrad, ldc: stride, precision: options.precision)
                imageGrad.update(repeating: 0, count: count * g.inChannels * g.inPlane)
                for j in 0..<count {
                    col2imAdd(columnGrad + j * g.outPlane, imageGrad + j * g.inChannels * g.inPlane, g, rowStride: stride)
                }
            } else {
                gemm(.transposed, .none, m: g.patchSize, n: g.outPlane, k: g.outChannels,
                     a: weight, b: dy, beta: 0, c: imageGrad, precision: options.precision)
            }
        }
    }
}

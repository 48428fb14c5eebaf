// Splitting a convolution's batch over the threads: each thread runs the whole layer on its
// own images, its kernels on one thread. The alternative, one call whose phases (layout copies,
// transforms, products) each split their work, joins the threads after every phase; on small
// layers the joins cost more than the second core gives. Measured on AMD EPYC family 25 model 17
// (Zen 4, avx512 path, OpenBLAS Cooperlake), the tiny preset's step (batch 16 of 48x48), per
// layer forward + backward at 1 / 2 threads before this split: 3x3 32->32 on 12x12 11.7 / 16.2
// ms, 3x3 32->3 on 48x48 6.1 / 10.2 ms: two threads were slower than one.

extension ConvGeometry {
    /// The same convolution over `batch` images.
    func with(batch: Int) -> ConvGeometry {
        ConvGeometry(batch: batch, inChannels: inChannels, inHeight: inHeight, inWidth: inWidth,
                     outChannels: outChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                     stride: stride, padding: padding)
    }
}

/// The parts of the batch, one per thread, when `options` split batches and there is at least
/// one image per thread (nil: run the whole batch in one call, its kernels splitting their work;
/// one image, as in inference, always runs so).
func batchParts(_ g: ConvGeometry, _ options: ConvOptions) -> [Range<Int>]? {
    guard options.splitBatch else { return nil }
    let threads = KernelThreads.available
    guard threads > 1, g.batch >= threads,
          g.forwardFlops / Double(g.batch) <= options.splitBatchMaxImageFlops else { return nil }
    return (0..<threads).map { part in (g.batch * part / threads)..<(g.batch * (part + 1) / threads) }
}

/// body(images, geometry of those images) over the parts of the batch, in parallel with one
/// kernel thread each, or once over the whole batch (see `batchParts`).
func forEachBatchPart(_ g: ConvGeometry, _ options: ConvOptions, _ body: (Range<Int>, ConvGeometry) -> Void) {
    guard let parts = batchParts(g, options) else {
        body(0..<g.batch, g)
        return
    }
    forEachPart(parts) { _, images in
        BLASThreads.withThreads(1) { body(images, g.with(batch: images.count)) }
    }
}

/// The same for a backward pass that adds into weightGrad (OC*C*KH*KW) and biasGrad (OC): the
/// first part adds into them, every other part into zeroed buffers of its own, added after in
/// part order (so the result depends on the thread count only through that order).
func forEachBatchPart(
    _ g: ConvGeometry, _ options: ConvOptions, weightGrad: UnsafeMutablePointer<Float>?,
    biasGrad: UnsafeMutablePointer<Float>?,
    _ body: (Range<Int>, ConvGeometry, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
) {
    guard let parts = batchParts(g, options) else {
        body(0..<g.batch, g, weightGrad, biasGrad)
        return
    }
    accumulateOverParts(parts, g, weightGrad: weightGrad, biasGrad: biasGrad) { images, weightGrad, biasGrad in
        BLASThreads.withThreads(1) { body(images, g.with(batch: images.count), weightGrad, biasGrad) }
    }
}

/// body(images, weightGrad, biasGrad) for every part of the batch, in parallel when there are
/// several: the first part adds into weightGrad (OC*C*KH*KW) and biasGrad (OC), every other part
/// into zeroed buffers of its own, added after in part order (so the result depends on the
/// thread count only through that order). The im2col backward uses it directly.
func accumulateOverParts(
    _ parts: [Range<Int>], _ g: ConvGeometry, weightGrad: UnsafeMutablePointer<Float>?,
    biasGrad: UnsafeMutablePointer<Float>?,
    _ body: (Range<Int>, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
) {
    guard parts.count > 1 else {
        if let only = parts.first, !only.isEmpty { body(only, weightGrad, biasGrad) }
        return
    }
    let weightCount = g.outChannels * g.patchSize, stride = weightCount + g.outChannels
    let partialCount = (parts.count - 1) * stride
    let partials = TensorMemory.allocate(partialCount)
    defer { TensorMemory.release(partials, count: partialCount) }
    partials.update(repeating: 0, count: partialCount)
    forEachPart(parts) { part, images in
        let partial = part == 0 ? nil : partials + (part - 1) * stride
        body(images, weightGrad.map { partial ?? $0 }, biasGrad.map { partial.map { $0 + weightCount } ?? $0 })
    }
    for part in 1..<parts.count {
        let partial = partials + (part - 1) * stride
        if let weightGrad { for i in 0..<weightCount { weightGrad[i] += partial[i] } }
        if let biasGrad { for oc in 0..<g.outChannels { biasGrad[oc] += partial[weightCount + oc] } }
    }
}

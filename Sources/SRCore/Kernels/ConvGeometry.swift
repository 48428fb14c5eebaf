// The sizes of one 2-D convolution, shared by the fast and the reference kernels.

public struct ConvGeometry: Equatable, Sendable {
    public let batch: Int
    public let inChannels: Int, inHeight: Int, inWidth: Int
    public let outChannels: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int

    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int,
                kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        self.batch = batch
        self.inChannels = inChannels
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    public var outHeight: Int { (inHeight + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (inWidth + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of one image's im2col matrix: C*KH*KW.
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    public var inPlane: Int { inHeight * inWidth }
    public var outPlane: Int { outHeight * outWidth }
    /// A 1x1 stride-1 unpadded convolution is a plain matrix product: no im2col needed.
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0
    }
    /// Multiply-adds x 2 of the forward pass.
    public var forwardFlops: Double {
        2 * Double(batch) * Double(outChannels) * Double(patchSize) * Double(outPlane)
    }
}

/// im2col of one image. image (C,H,W) -> columns (C*KH*KW, OH*OW), zeros where the kernel
/// reaches into the padding; rows `rowStride` floats apart (default OH*OW: packed).
func im2col(_ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, _ g: ConvGeometry, rowStride: Int? = nil) {
    let (outH, outW) = (g.outHeight, g.outWidth)
    let rowStride = rowStride ?? outH * outW
    var row = 0
    for c in 0..<g.inChannels {
        let plane = image + c * g.inPlane
        for kh in 0..<g.kernelHeight {
            for kw in 0..<g.kernelWidth {
                let out = columns + row * rowStride
                // ow range whose input column iw = ow*stride - pad + kw lies inside [0, W)
                let owStart = max(0, (g.padding - kw + g.stride - 1) / g.stride)
                let owEnd = min(outW, (g.inWidth + g.padding - kw + g.stride - 1) / g.stride)
                for oh in 0..<outH {
                    let ih = oh * g.stride - g.padding + kh
                    let outRow = out + oh * outW
                    if ih < 0 || ih >= g.inHeight || owStart >= owEnd {
                        outRow.update(repeating: 0, count: outW)
                        continue
                    }
                    let inRow = plane + ih * g.inWidth - g.padding + kw
                    if owStart > 0 { outRow.update(repeating: 0, count: owStart) }
                    if g.stride == 1 {
                        (outRow + owStart).update(from: inRow + owStart, count: owEnd - owStart)
                    } else {
                        for ow in owStart..<owEnd { outRow[ow] = inRow[ow * g.stride] }
                    }
                    if owEnd < outW { (outRow + owEnd).update(repeating: 0, count: outW - owEnd) }
                }
                row += 1
            }
        }
    }
}

/// col2im of one image, the adjoint of im2col: columns (C*KH*KW, OH*OW), rows `rowStride`
/// floats apart, are ADDED into image (C,H,W), which the caller cleared.
func col2imAdd(_ columns: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>, _ g: ConvGeometry, rowStride: Int? = nil) {
    let (outH, outW) = (g.outHeight, g.outWidth)
    let rowStride = rowStride ?? outH * outW
    var row = 0
    for c in 0..<g.inChannels {
        let plane = image + c * g.inPlane
        for kh in 0..<g.kernelHeight {
            for kw in 0..<g.kernelWidth {
                let source = columns + row * rowStride
                let owStart = max(0, (g.padding - kw + g.stride - 1) / g.stride)
                let owEnd = min(outW, (g.inWidth + g.padding - kw + g.stride - 1) / g.stride)
                if owStart < owEnd {
                    for oh in 0..<outH {
                        let ih = oh * g.stride - g.padding + kh
                        if ih < 0 || ih >= g.inHeight { continue }
                        let inRow = plane + ih * g.inWidth - g.padding + kw
                        let sourceRow = source + oh * outW
                        for ow in owStart..<owEnd { inRow[ow * g.stride] += sourceRow[ow] }
                    }
                }
                row += 1
            }
        }
    }
}

/// biasGrad (OC) += outputGrad (N,OC,OH,OW) summed over images and pixels, a plane at a time.
func addBiasGradient(_ outputGrad: UnsafePointer<Float>, _ g: ConvGeometry, into biasGrad: UnsafeMutablePointer<Float>) {
    for n in 0..<g.batch {
        for oc in 0..<g.outChannels {
            let plane = outputGrad + (n * g.outChannels + oc) * g.outPlane
            var sum: Float = 0
            for i in 0..<g.outPlane { sum += plane[i] }
            biasGrad[oc] += sum
        }
    }
}

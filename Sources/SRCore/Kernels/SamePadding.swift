// Zero padding of one image for the kernels that work on a padded copy instead of im2col
// (ShiftedConv, OutputSideConv): image (C,H,W) <-> padded (C, H+2p, W+2p).

struct SamePadding {
    let g: ConvGeometry
    var paddedHeight: Int { g.inHeight + 2 * g.padding }
    var paddedWidth: Int { g.inWidth + 2 * g.padding }
    var paddedPlane: Int { paddedHeight * paddedWidth }

    /// Copies the image into the interior of `padded`, whose border the caller zeroed once.
    func pad(_ image: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        for c in 0..<g.inChannels {
            for y in 0..<g.inHeight {
                (padded + c * paddedPlane + (y + g.padding) * paddedWidth + g.padding)
                    .update(from: image + (c * g.inHeight + y) * g.inWidth, count: g.inWidth)
            }
        }
    }

    /// Copies the interior of `padded` out to the image (the gradient of `pad`, border dropped).
    func crop(_ padded: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        for c in 0..<g.inChannels {
            for y in 0..<g.inHeight {
                (image + (c * g.inHeight + y) * g.inWidth)
                    .update(from: padded + c * paddedPlane + (y + g.padding) * paddedWidth + g.padding, count: g.inWidth)
            }
        }
    }
}

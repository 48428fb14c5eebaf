// Zero padding of one image for the kernels that work on a padded copy instead of im2col
// (ShiftedConv, OutputSideConv, NarrowConv): image (C,H,W) <-> padded (C, H+2p, W+2p).

struct SamePadding {
    let channels: Int, height: Int, width: Int, border: Int
    var paddedHeight: Int { height + 2 * border }
    var paddedWidth: Int { width + 2 * border }
    var paddedPlane: Int { paddedHeight * paddedWidth }
    /// Floats of one padded image.
    var paddedCount: Int { channels * paddedPlane }

    init(channels: Int, height: Int, width: Int, border: Int) {
        (self.channels, self.height, self.width, self.border) = (channels, height, width, border)
    }

    /// The padding of a convolution's input.
    init(g: ConvGeometry) {
        self.init(channels: g.inChannels, height: g.inHeight, width: g.inWidth, border: g.padding)
    }

    /// Copies the image into the interior of `padded`, whose border the caller zeroed once.
    func pad(_ image: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for y in 0..<height {
                (padded + c * paddedPlane + (y + border) * paddedWidth + border)
                    .update(from: image + (c * height + y) * width, count: width)
            }
        }
    }

    /// Copies the interior of `padded` out to the image (the gradient of `pad`, border dropped).
    func crop(_ padded: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for y in 0..<height {
                (image + (c * height + y) * width)
                    .update(from: padded + c * paddedPlane + (y + border) * paddedWidth + border, count: width)
            }
        }
    }
}

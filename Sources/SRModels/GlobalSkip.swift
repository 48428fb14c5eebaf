// The generator's output range and its global skip: the only place either is computed.
// G works in the paper's ranges: its input is the LR image as it is, in [0,1] (the colourising
// generator: L*/50 - 1, in [-1,1]), its output is in [-1,1] (HR is trained as 2y - 1). With the
// global skip, the bicubic upsampling of the LR picture is added to G's output, so G learns the
// residual over it:
//   SR    = G(x) + (2 bicubic(picture(x)) - 1)      (N,3,h*scale,w*scale), in [-1,1]
//   image = (SR + 1) / 2                             in [0,1], what validate, upscale and serve show
// picture(x) is x itself for SR; for the colouriser it is the sRGB gray of each pixel's L*
// (R = G = B), so G learns colour and detail over the gray image.
// A tiled upscale adds the skip after cross-fading the tiles' G outputs, band by band of output
// rows, with the whole image's taps (`bicubicRows`): the same values as one whole-image resize.

import SRCore
import SRData

/// [0,1] images <-> the generator's [-1,1].
public enum OutputRange {
    /// An image value in [0,1] in the generator's range.
    @inlinable public static func network(_ imageValue: Float) -> Float { 2 * imageValue - 1 }

    /// A value in the generator's range as an image value in [0,1].
    @inlinable public static func image(_ networkValue: Float) -> Float { (networkValue + 1) * 0.5 }

    /// `values` (count) G's outputs in [-1,1] -> image values in [0,1], in place, adding the
    /// skip's `bicubic` picture (count, in [0,1]) first when there is one.
    public static func toImage(_ values: UnsafeMutablePointer<Float>, count: Int, bicubic: UnsafePointer<Float>? = nil) {
        if let bicubic {
            for i in 0..<count { values[i] = image(values[i] + network(bicubic[i])) }
        } else {
            for i in 0..<count { values[i] = image(values[i]) }
        }
    }
}

/// The picture the global skip adds: the bicubic upsampling of the LR picture, for batches of G's
/// inputs (resize taps kept for the last LR size, as training reuses one).
public final class GlobalSkip {
    public let scale: Int
    /// The colouriser's: the input is L*/50 - 1 and the picture its gray.
    public let fromLightness: Bool
    private var resizer: BicubicResizer?

    public init(scale: Int, fromLightness: Bool) {
        self.scale = scale
        self.fromLightness = fromLightness
    }

    /// input (N,C,h,w) as G takes it -> (N,3,h*scale,w*scale) in [-1,1]: 2 bicubic(picture) - 1.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let picture = fromLightness ? Self.grayPicture(input) : input
        let resizer = resizer(height: picture.h, width: picture.w)
        let out = Tensor(shape: [picture.n, picture.c, resizer.outHeight, resizer.outWidth])
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: resizer.outHeight * picture.w)
        defer { scratch.deallocate() }
        withPointers(picture, out) { lrBatch, bicubicBatch in
            for n in 0..<picture.n {
                resizer.resize(lrBatch + n * picture.c * picture.h * picture.w,
                               bicubicBatch + n * picture.c * resizer.outHeight * resizer.outWidth, channels: picture.c, scratch: scratch)
            }
            for i in 0..<out.count { bicubicBatch[i] = OutputRange.network(bicubicBatch[i]) }
        }
        return out
    }

    /// Output rows `rows` of the bicubic picture of a whole LR image: lr (3,height,width) in [0,1]
    /// -> output (3, rows.count, width*scale) in [0,1]; `scratch` needs rows.count x width floats.
    public func bicubicRows(_ lr: UnsafePointer<Float>, height: Int, width: Int, rows: Range<Int>,
                            _ output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        precondition(!fromLightness, "the colouriser's skip runs on whole images (callAsFunction)")
        resizer(height: height, width: width).resize(lr, rows: rows, output, channels: 3, scratch: scratch)
    }

    private func resizer(height: Int, width: Int) -> BicubicResizer {
        if let resizer, resizer.inHeight == height, resizer.inWidth == width { return resizer }
        let made = BicubicResizer(inHeight: height, inWidth: width, scale: Double(scale))
        resizer = made
        return made
    }

    // lr (N,1,h,w) of L*/50 - 1 -> (N,3,h,w): the sRGB gray of each lightness, in [0,1]
    static func grayPicture(_ lr: Tensor) -> Tensor {
        precondition(lr.c == 1, "the colouriser's skip takes the 1-channel L* input, given \(lr)")
        let plane = lr.h * lr.w
        let gray = Tensor(uninitializedShape: [lr.n, 3, lr.h, lr.w])
        for n in 0..<lr.n {
            for i in 0..<plane {
                let g = Float(Lab.grayLevel(lightness: (Double(lr[n * plane + i]) + 1) * 50))
                for c in 0..<3 { gray[(n * 3 + c) * plane + i] = g }
            }
        }
        return gray
    }
}

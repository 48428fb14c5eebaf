// `pack --whole-images S`: each photo becomes one S x S item. The shorter side is resized to S
// with the repository's MATLAB-style bicubic (antialiased when shrinking), the longer side by the
// same factor, then the centred S x S square is kept (docs/shard-format.md).

public enum WholeImage {
    /// `image` (shorter side >= 1) -> side x side, RGB8.
    public static func resized(_ image: RGBImage, side: Int) -> RGBImage {
        let shorter = min(image.width, image.height)
        var scale = Double(side) / Double(shorter)
        // ceil(shorter * scale) must be exactly `side`: step below any rounding up.
        while Int((Double(shorter) * scale).rounded(.up)) > side { scale = scale.nextDown }
        let resizer = BicubicResizer(inHeight: image.height, inWidth: image.width, scale: scale)
        let planar = resizer.resize(PlanarImage(image).values, channels: 3)
        let (w, h) = (resizer.outWidth, resizer.outHeight)
        let resized = PlanarImage(width: w, height: h, values: planar).rgb8
        return resized.crop(x: (w - side) / 2, y: (h - side) / 2, width: side, height: side)
    }
}

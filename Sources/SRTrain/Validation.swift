// Validation on rank 0: for each held-out image, the x`scale` LR made by MATLAB-style bicubic
// (quantised to 8 bits, as a saved LR image would be), super-resolved, and compared with the HR
// by PSNR and SSIM on Y with a `scale`-pixel border crop, next to bicubic upsampling of the same LR.

import Foundation
import SRCore
import SRData
import SRModels

public struct ValidationImage {
    public let name: String
    public let hr: RGBImage   // cropped to a multiple of the scale

    public init(name: String, hr: RGBImage) {
        self.name = name
        self.hr = hr
    }
}

public struct ValidationResult: Sendable {
    public var psnr = 0.0, ssim = 0.0, psnrBicubic = 0.0, ssimBicubic = 0.0
    /// Colorize mode only: bicubic of the gray input (what a user with only the gray LR gets), in RGB.
    public var psnrGrayBicubic = 0.0, ssimGrayBicubic = 0.0
    public var images = 0
}

public enum Validation {
    /// PNGs of a folder, or the `val/` images of a packed folder; each cropped to a multiple of `scale`.
    /// `sideMultiple`: the LR sides must also be multiples of it (the colourising U-Net's 2^depth).
    /// `colourOnly`: gray images (R = G = B everywhere) are left out, each with a `note`.
    /// `maxPixels`: larger images are refused from their header, with `limitHint` saying how to
    /// raise the limit (the command's own option, if it has one).
    public static func loadImages(_ path: String, scale: Int, sideMultiple: Int = 1, colourOnly: Bool = false,
                                  maxPixels: Int = PNG.defaultMaxPixels,
                                  limitHint: String = "shrink or crop the image, or take it out of the validation folder",
                                  note: (String) -> Void = { _ in }) throws -> [ValidationImage] {
        var folder = path
        if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(Manifest.fileName)) {
            folder = (path as NSString).appendingPathComponent(Manifest.validationFolder)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigurationError("\(folder): validation folder not found",
                                     hint: "pass --val a folder of PNG or JPEG images or a packed folder made with --val-images")
        }
        var images: [ValidationImage] = []
        var tooSmall: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where ImageFile.hasImageName(name) {
            let image: RGBImage
            do {
                image = try ImageFile.read((folder as NSString).appendingPathComponent(name), maxPixels: maxPixels).0
            } catch let error as DataError where error.problem.contains("above the limit") {
                throw DataError(error.file, error.problem, hint: limitHint)
            }
            if colourOnly && image.isGray {
                note("note: \(name): a gray image gives no colour target; not used for validation")
                continue
            }
            let unit = scale * sideMultiple
            let width = image.width / unit * unit, height = image.height / unit * unit
            guard width >= 4 * scale, height >= 4 * scale, width > 0, height > 0 else {
                let reason = "\(name): \(image.width)x\(image.height) is smaller than \(max(4 * scale, unit))x\(max(4 * scale, unit)) pixels"
                note("note: \(reason); not used for validation")
                tooSmall.append(reason)
                continue
            }
            images.append(ValidationImage(name: name, hr: image.crop(x: 0, y: 0, width: width, height: height)))
        }
        guard !images.isEmpty else {
            let named = tooSmall.isEmpty ? "" : " (\(tooSmall.prefix(3).joined(separator: "; "))\(tooSmall.count > 3 ? "; ..." : ""))"
            throw ConfigurationError("\(folder): no usable PNG or JPEG images\(named)", hint: "put validation PNGs or JPEGs there, each at least \(4 * scale) pixels a side")
        }
        return images
    }

    /// RGB8 (H,W,3) -> planar floats (3,H,W) in [0,1].
    public static func planar(_ image: RGBImage) -> [Float] {
        let plane = image.width * image.height
        var out = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 { out[c * plane + i] = Float(image.pixels[3 * i + c]) / 255 }
        }
        return out
    }

    /// Planar floats in [0,1] -> RGB8, rounded and clamped.
    public static func image(_ planar: UnsafePointer<Float>, width: Int, height: Int) -> RGBImage {
        let plane = width * height
        var out = RGBImage(width: width, height: height)
        for i in 0..<plane {
            for c in 0..<3 { out.pixels[3 * i + c] = UInt8(min(max((planar[c * plane + i] * 255).rounded(), 0), 255)) }
        }
        return out
    }

    /// MATLAB-style bicubic resize of an RGB8 image, quantised back to 8 bits.
    public static func resize(_ image: RGBImage, scale: Double) -> RGBImage {
        let resizer = BicubicResizer(inHeight: image.height, inWidth: image.width, scale: scale)
        let out = resizer.resize(planar(image), channels: 3)
        return out.withUnsafeBufferPointer { self.image($0.baseAddress!, width: resizer.outWidth, height: resizer.outHeight) }
    }

    /// LR tile side of validation: an image of more than tile x tile LR pixels is super-resolved
    /// by the tiled Upscaler (overlap = the generator's receptive radius, so the same values up to
    /// float rounding) instead of whole: whole images held the activations of the whole LR (a
    /// 20-step tiny run validating 8 wallpapers of up to 14.7 megapixels peaked at 5.22 GB, tiled
    /// at 2.63 GB, with the metrics streamed too at 1.97 GB; docs/training.md). The bundled sample photos (LR 128x128) stay whole, bit for
    /// bit as before.
    public static let tile = 192

    /// The SR image of `lr` by `superResolver` (inference mode, its skip and output range), rounded
    /// to 8 bits: whole up to `tile` x `tile` LR pixels, in tiles above (`tile` 0: always whole). A
    /// colourising model sees only the lightness of `lr`, and always runs whole.
    public static func superResolve(_ superResolver: SuperResolver, _ lr: RGBImage, tile: Int = Validation.tile) -> RGBImage {
        let width = lr.width * superResolver.scale, height = lr.height * superResolver.scale
        if tile > 0, lr.width * lr.height > tile * tile, superResolver.config.kind != .colorize {
            let upscaler = Upscaler(model: TrainedModel(superResolver, file: "validation"), tile: tile)
            let sr = upscaler.upscale(PlanarImage(lr))
            return sr.values.withUnsafeBufferPointer { image($0.baseAddress!, width: width, height: height) }
        }
        let sr = superResolver(lr)
        return sr.withUnsafePointer { image($0, width: width, height: height) }
    }

    /// Metrics of `superResolver` on `images`; SR results of the first `saveCount` go to `saveFolder`.
    /// `tile`: as `superResolve`'s.
    public static func run(_ superResolver: SuperResolver, images: [ValidationImage], saveFolder: String?,
                           saveCount: Int, tile: Int = Validation.tile) throws -> ValidationResult {
        let scale = superResolver.scale
        var result = ValidationResult()
        if let saveFolder { try FileManager.default.createDirectory(atPath: saveFolder, withIntermediateDirectories: true) }
        for (index, item) in images.enumerated() {
            if superResolver.config.kind == .colorize {
                let one = colorizeOne(superResolver, item)
                result.psnr += one.model.psnr
                result.ssim += one.model.ssim
                result.psnrBicubic += one.bicubic.psnr
                result.ssimBicubic += one.bicubic.ssim
                result.psnrGrayBicubic += one.grayBicubic.psnr
                result.ssimGrayBicubic += one.grayBicubic.ssim
                if let saveFolder, index < saveCount {
                    try PNG.write(one.sr, to: (saveFolder as NSString).appendingPathComponent(item.name))
                    let panelName = ((item.name as NSString).deletingPathExtension as NSString).appendingPathExtension("panel.png")!
                    try PNG.write(one.panel, to: (saveFolder as NSString).appendingPathComponent(panelName))
                }
                continue
            }
            let lr = resize(item.hr, scale: 1 / Double(scale))
            let sr = superResolve(superResolver, lr, tile: tile)
            let bicubic = resize(lr, scale: Double(scale))
            let model = ImageMetrics.compare(sr, item.hr, border: scale)
            let baseline = ImageMetrics.compare(bicubic, item.hr, border: scale)
            result.psnr += model.psnr
            result.ssim += model.ssim
            result.psnrBicubic += baseline.psnr
            result.ssimBicubic += baseline.ssim
            if let saveFolder, index < saveCount {
                try PNG.write(sr, to: (saveFolder as NSString).appendingPathComponent(item.name))
            }
        }
        let n = Double(images.count)
        result.psnr /= n
        result.ssim /= n
        result.psnrBicubic /= n
        result.ssimBicubic /= n
        result.psnrGrayBicubic /= n
        result.ssimGrayBicubic /= n
        result.images = images.count
        return result
    }
}

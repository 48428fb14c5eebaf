// The colourising mode's data checks, inference and metrics (docs/colorize.md). Validation LR is
// the colour HR downsampled by MATLAB-style bicubic (quantised to 8 bits), and the network sees
// only its L* channel; the result is measured in RGB (PSNR over all three channels, SSIM the mean
// of the three channels' SSIM, `scale`-pixel border) against the colour HR, next to bicubic
// upsampling of the *colour* LR: the picture a user who had the colour LR would get.

import Foundation
import SRCore
import SRData
import SRModels

extension ImageMetrics {
    /// PSNR over R, G and B together and the mean SSIM of the three channels, after cropping `border`.
    public static func compareRGB(_ a: RGBImage, _ b: RGBImage, border: Int) -> (psnr: Double, ssim: Double) {
        precondition(a.width == b.width && a.height == b.height, "metrics of images of different sizes")
        var squared = 0.0, count = 0, ssimSum = 0.0
        for c in 0..<3 {
            let (values, ssim) = streamed(a, b, border: border, squared: &squared) { image, offset in Double(image.pixels[offset + c]) }
            count += values
            ssimSum += ssim
        }
        let mse = squared / Double(max(count, 1))
        return (mse == 0 ? .infinity : 10 * log10(255 * 255 / mse), ssimSum / 3)
    }
}

extension Validation {
    /// The network's input shown as a picture: the sRGB gray of each pixel's L*.
    public static func lightnessPicture(_ lr: RGBImage) -> RGBImage {
        var out = RGBImage(width: lr.width, height: lr.height)
        for (i, value) in Lab.networkInput(lr).enumerated() {
            let byte = UInt8((Lab.grayLevel(lightness: (Double(value) + 1) * 50) * 255).rounded())
            out.pixels[3 * i] = byte; out.pixels[3 * i + 1] = byte; out.pixels[3 * i + 2] = byte
        }
        return out
    }

    /// One held-out image through the colourising generator: SR, bicubic of the colour LR, both
    /// scored in RGB, and the four-panel picture (gray LR, colour bicubic, model, HR); also
    /// bicubic of the gray input, the lower reference (no colour at all).
    public static func colorizeOne(_ superResolver: SuperResolver, _ item: ValidationImage)
        -> (sr: RGBImage, panel: RGBImage, model: (psnr: Double, ssim: Double), bicubic: (psnr: Double, ssim: Double),
            grayBicubic: (psnr: Double, ssim: Double)) {
        let scale = superResolver.scale
        let lr = resize(item.hr, scale: 1 / Double(scale))
        let sr = superResolve(superResolver, lr)
        let bicubic = resize(lr, scale: Double(scale))
        let model = ImageMetrics.compareRGB(sr, item.hr, border: scale)
        let baseline = ImageMetrics.compareRGB(bicubic, item.hr, border: scale)
        let gray = lightnessPicture(lr)
        let grayBaseline = ImageMetrics.compareRGB(resize(gray, scale: Double(scale)), item.hr, border: scale)
        let panel = ComparisonPanel.make(lr: gray, bicubic: bicubic, sr: sr, hr: item.hr, psnr: model.psnr,
                                         ssim: model.ssim, psnrBicubic: baseline.psnr, ssimBicubic: baseline.ssim,
                                         lrLabel: "L* of LR x\(scale) (input)")
        return (sr, panel, model, baseline, grayBaseline)
    }
}

extension Trainer {
    /// The colourising mode trains on whole images with colour targets only.
    static func checkColorizeData(_ dataset: PackedDataset, _ path: String, _ generator: GeneratorConfig) throws {
        let parameters = dataset.manifest.parameters
        guard parameters.skipGray else {
            throw ConfigurationError("\(path): packed without --skip-gray, so it may hold gray photos, which give no colour targets",
                                     hint: "pack again with 'srgan-dist pack --whole-images 256 --skip-gray ...'")
        }
        let multiple = generator.scale * generator.lrSideMultiple
        guard dataset.patchSize % multiple == 0 else {
            throw ConfigurationError("\(path): items of \(dataset.patchSize)x\(dataset.patchSize) are not a multiple of \(multiple) "
                                     + "(scale \(generator.scale) x 2^colorizer.depth \(generator.lrSideMultiple))",
                                     hint: "pack again with --whole-images a multiple of \(multiple), e.g. 256")
        }
        if !parameters.wholeImages {
            FileHandle.standardError.write(Data("note: \(path) holds \(parameters.mode) patches; the colorize mode is meant for whole images (pack --whole-images 256)\n".utf8))
        }
    }
}

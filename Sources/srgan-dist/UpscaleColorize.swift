// `srgan-dist upscale --colorize`: a gray (or colour, by its L* channel) photo to a x`scale`
// colour one with a colourising generator (docs/colorize.md). The whole image runs at once (the
// U-Net's receptive field spans the image, so there is no exact tiling); its sides are padded by
// repeating the edge pixels to multiples of 2^colorizer.depth and the result cropped back.

import ArgumentParser
import Foundation
import SRData
import SRModels
import SRTrain

extension Upscale {
    func runColorize(_ model: TrainedModel) throws {
        let config = model.generator.config
        guard config.kind == .colorize else {
            throw ConfigurationError("\(model.file): a \(config.kind.rawValue) generator, which does not colourise",
                                     hint: "leave out --colorize, or pass a model trained with generator.kind colorize (--preset colorize)")
        }
        guard colorize else {
            throw ConfigurationError("\(model.file): a colourising generator (gray input, colour output)",
                                     hint: "add --colorize to turn gray photos into colour ones with it")
        }
        let jobs = try self.jobs()
        print("\(model.generator.summary): gray x\(model.scale) -> colour, whole images at once")
        let multiple = config.lrSideMultiple
        var failures = 0
        for (source, target) in jobs {
            do {
                let started = Date()
                let (image, header) = try ImageFile.read(source, maxPixels: Int(maxMegapixels * 1e6))
                let padded = Self.padded(image, toMultipleOf: multiple)
                let sr = Validation.superResolve(model.superResolver, padded)
                let result = sr.crop(x: 0, y: 0, width: image.width * model.scale, height: image.height * model.scale)
                try PNG.write(result, to: target)
                let kind = image.isGray ? "gray" : "colour (its L* used)"
                print(String(format: "%@ (%dx%d, %@, %@ colour type %d) -> %@ (%dx%d colour), %.1f s", source, image.width, image.height,
                             kind, header.format == .jpeg ? "JPEG as PNG" : "PNG", header.colorType, target, result.width, result.height, Date().timeIntervalSince(started)))
            } catch where jobs.count > 1 {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// `image` extended right and down by repeating its last column and row to multiples of `multiple`.
    static func padded(_ image: RGBImage, toMultipleOf multiple: Int) -> RGBImage {
        let width = (image.width + multiple - 1) / multiple * multiple, height = (image.height + multiple - 1) / multiple * multiple
        if width == image.width && height == image.height { return image }
        var out = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let from = 3 * (min(y, image.height - 1) * image.width + min(x, image.width - 1)), to = 3 * (y * width + x)
                for c in 0..<3 { out.pixels[to + c] = image.pixels[from + c] }
            }
        }
        return out
    }
}

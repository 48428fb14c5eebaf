// `srgan-dist validate`: a trained generator against bicubic on a folder of HR images, measured
// the way training validates (docs/using-models.md).

import ArgumentParser
import Foundation
import SRCore
import SRData
import SRTrain

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "PSNR/SSIM of a trained generator and of bicubic on a folder of HR images.",
        discussion: """
            For each PNG or JPEG in --images: cropped to a multiple of the scale, LR = MATLAB-style bicubic x1/scale \
            (quantised to 8 bits), SR by the model, bicubic x scale for comparison; PSNR and SSIM (Gaussian \
            window, Wang et al. 2004) on the Y channel of BT.601 with a border of `scale` pixels cropped.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "A folder of HR PNG or JPEG images (or a packed folder: its val/ images).")
    var images: String

    @Flag(help: "Print one JSON object (per-image values under `images`, means under `mean`).")
    var json = false

    @Option(help: "Write a side-by-side PNG per image here (LR enlarged, bicubic, model, HR, with the numbers).")
    var save: String?

    @Option(help: "LR tile size for the model (0: whole images).")
    var tile = 192

    @Option(help: "Largest image accepted, in megapixels (larger ones are refused from their header).")
    var maxMegapixels = 100.0

    func validate() throws {
        guard maxMegapixels > 0, maxMegapixels.isFinite else { throw ValidationError("--max-megapixels must be a positive number") }
        guard tile == 0 || tile >= 8 else { throw ValidationError("--tile must be 0 (whole images) or at least 8 LR pixels") }
    }

    func run() throws {
        do {
            let model = try self.model.load()
            let scale = model.scale
            let items = try Validation.loadImages(images, scale: scale, sideMultiple: model.generator.config.lrSideMultiple,
                                                  colourOnly: model.generator.config.kind == .colorize,
                                                  maxPixels: Int(maxMegapixels * 1e6),
                                                  limitHint: "raise --max-megapixels if the image is genuine, or remove it",
                                                  note: { FileHandle.standardError.write(Data("\($0)\n".utf8)) })
            let upscaler = Upscaler(model: model, tile: tile)
            if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }
            var rows: [ImageScore] = []
            let colorize = model.generator.config.kind == .colorize
            for item in items where colorize {
                let one = Validation.colorizeOne(model.superResolver, item)
                let row = ImageScore(name: item.name, psnr: one.model.psnr, ssim: one.model.ssim, psnrBicubic: one.bicubic.psnr,
                                     ssimBicubic: one.bicubic.ssim)
                rows.append(row)
                if let save { try PNG.write(one.panel, to: Self.panelPath(save, item.name)) }
                if !json {
                    print(String(format: "%@: PSNR %.2f dB (colour-LR bicubic %.2f, %+.2f; gray-LR bicubic %.2f), SSIM %.4f (bicubic %.4f) [RGB]",
                                 item.name, row.psnr, row.psnrBicubic, row.psnr - row.psnrBicubic, one.grayBicubic.psnr, row.ssim,
                                 row.ssimBicubic))
                }
            }
            for item in items where !colorize {
                let lr = Validation.resize(item.hr, scale: 1 / Double(scale))
                let sr = upscaler.upscale(PlanarImage(lr)).rgb8
                let bicubic = Validation.resize(lr, scale: Double(scale))
                let model = ImageMetrics.compare(sr, item.hr, border: scale)
                let baseline = ImageMetrics.compare(bicubic, item.hr, border: scale)
                let row = ImageScore(name: item.name, psnr: model.psnr, ssim: model.ssim, psnrBicubic: baseline.psnr, ssimBicubic: baseline.ssim)
                rows.append(row)
                if let save {
                    let panel = ComparisonPanel.make(lr: lr, bicubic: bicubic, sr: sr, hr: item.hr, psnr: row.psnr, ssim: row.ssim,
                                                     psnrBicubic: row.psnrBicubic, ssimBicubic: row.ssimBicubic)
                    try PNG.write(panel, to: Self.panelPath(save, item.name))
                }
                if !json {
                    print(String(format: "%@: PSNR %.2f dB (bicubic %.2f, %+.2f), SSIM %.4f (bicubic %.4f)",
                                 item.name, row.psnr, row.psnrBicubic, row.psnr - row.psnrBicubic, row.ssim, row.ssimBicubic))
                }
            }
            let mean = ImageScore.mean(rows)
            if json {
                let object: [String: Any] = [
                    "checkpoint": self.model.checkpoint, "weights": model.file, "scale": scale, "border": scale,
                    "channel": colorize ? "RGB (vs bicubic of the colour LR)" : "Y (BT.601)",
                    "images": rows.map(\.dictionary), "mean": mean.dictionary,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(String(format: "mean of %d images: PSNR %.2f dB (bicubic %.2f, %+.2f), SSIM %.4f (bicubic %.4f) [%@, %d-pixel border]",
                             rows.count, mean.psnr, mean.psnrBicubic, mean.psnr - mean.psnrBicubic, mean.ssim, mean.ssimBicubic,
                             colorize ? "RGB vs colour-LR bicubic" : "Y", scale))
                if let save { print("side-by-side images -> \(save)") }
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

extension Validate {
    /// SAVE/NAME.png for the image NAME.png or NAME.jpg (panels are always PNG).
    static func panelPath(_ save: String, _ name: String) -> String {
        (save as NSString).appendingPathComponent(((name as NSString).deletingPathExtension as NSString).appendingPathExtension("png")!)
    }
}

struct ImageScore {
    var name: String
    var psnr, ssim, psnrBicubic, ssimBicubic: Double

    /// For JSON: an identical image has infinite PSNR, written as null.
    var dictionary: [String: Any] {
        func number(_ value: Double) -> Any { value.isFinite ? value : NSNull() }
        return ["name": name, "psnr": number(psnr), "ssim": number(ssim), "psnr_bicubic": number(psnrBicubic), "ssim_bicubic": number(ssimBicubic)]
    }

    static func mean(_ rows: [ImageScore]) -> ImageScore {
        let n = Double(max(rows.count, 1))
        return ImageScore(name: "mean", psnr: rows.map(\.psnr).reduce(0, +) / n, ssim: rows.map(\.ssim).reduce(0, +) / n,
                          psnrBicubic: rows.map(\.psnrBicubic).reduce(0, +) / n, ssimBicubic: rows.map(\.ssimBicubic).reduce(0, +) / n)
    }
}

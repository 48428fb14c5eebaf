// The side-by-side PNG `validate --save` (and colorize training's validation) writes per image:
// LR enlarged by nearest neighbour, bicubic, the model, HR; each panel at the HR size with its
// label and numbers under it.

import Foundation
import SRData

public enum ComparisonPanel {
    static let gap = 8
    static let textScale = 2

    /// `lrLabel` names the first panel (default "LR xS (nearest)"); the scores are the model's and bicubic's.
    public static func make(lr: RGBImage, bicubic: RGBImage, sr: RGBImage, hr: RGBImage, psnr: Double, ssim: Double,
                            psnrBicubic: Double, ssimBicubic: Double, lrLabel: String? = nil) -> RGBImage {
        let w = hr.width, h = hr.height
        let labels = [
            (lrLabel ?? "LR x\(hr.width / max(lr.width, 1)) (nearest)", "\(lr.width)x\(lr.height)"),
            ("bicubic", String(format: "%.2f dB  SSIM %.4f", psnrBicubic, ssimBicubic)),
            ("model", String(format: "%.2f dB  SSIM %.4f", psnr, ssim)),
            ("HR", "\(hr.width)x\(hr.height)"),
        ]
        // Text must fit under a narrow panel: shrink the font rather than clip.
        let longest = labels.map { max(BitmapFont.width(of: $0.0, scale: 1), BitmapFont.width(of: $0.1, scale: 1)) }.max() ?? 1
        let scale = max(1, min(textScale, w / max(longest, 1)))
        let lineHeight = BitmapFont.cellHeight * scale + 2
        let panelHeight = h + 2 * lineHeight + gap
        var canvas = Canvas(width: 4 * w + 5 * gap, height: panelHeight + gap, background: .white)
        for (index, image) in [lr, bicubic, sr, hr].enumerated() {
            let x = gap + index * (w + gap)
            canvas.draw(image, x: x, y: gap, width: w, height: h)
            canvas.text(labels[index].0, x: x, y: gap + h + 4, color: .black, scale: scale)
            canvas.text(labels[index].1, x: x, y: gap + h + 4 + lineHeight, color: RGBColor(40, 40, 140), scale: scale)
        }
        return canvas.image
    }
}

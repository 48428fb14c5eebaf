// PSNR and SSIM as SR papers report them (and BasicSR computes them): on the Y channel of
// ITU-R BT.601 YCbCr (Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 for RGB in [0,255]), after
// cropping `border` pixels (the scale) from every side. SSIM is Wang et al. 2004: 11x11 Gaussian
// window (sigma 1.5), K1 0.01, K2 0.03, L 255, averaged over the valid (unpadded) window positions.

import Foundation
import SRData

public enum ImageMetrics {
    /// Y channel (height x width, values in [16, 235]) of an RGB8 image.
    public static func luma(_ image: RGBImage) -> [Double] {
        (0..<(image.width * image.height)).map { i in
            let r = Double(image.pixels[3 * i]), g = Double(image.pixels[3 * i + 1]), b = Double(image.pixels[3 * i + 2])
            return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
        }
    }

    static func cropped(_ y: [Double], width: Int, height: Int, border: Int) -> ([Double], Int, Int) {
        let w = width - 2 * border, h = height - 2 * border
        var out = [Double](repeating: 0, count: max(w, 0) * max(h, 0))
        for row in 0..<max(h, 0) {
            for column in 0..<w { out[row * w + column] = y[(row + border) * width + column + border] }
        }
        return (out, w, h)
    }

    /// PSNR and SSIM of `a` against `b`, the Y channels computed once.
    public static func compare(_ a: RGBImage, _ b: RGBImage, border: Int) -> (psnr: Double, ssim: Double) {
        precondition(a.width == b.width && a.height == b.height, "metrics of images of different sizes")
        let (ya, w, h) = cropped(luma(a), width: a.width, height: a.height, border: border)
        let (yb, _, _) = cropped(luma(b), width: b.width, height: b.height, border: border)
        return (psnr(ya, yb), ssim(ya, yb, width: w, height: h))
    }

    public static func psnr(_ a: RGBImage, _ b: RGBImage, border: Int) -> Double { compare(a, b, border: border).psnr }

    public static func ssim(_ a: RGBImage, _ b: RGBImage, border: Int) -> Double { compare(a, b, border: border).ssim }

    static func psnr(_ ya: [Double], _ yb: [Double]) -> Double {
        let mse = zip(ya, yb).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(ya.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    static func ssim(_ x: [Double], _ y: [Double], width w: Int, height h: Int) -> Double {
        let radius = 5, size = 11
        var window = [Double](repeating: 0, count: size)
        for i in 0..<size { window[i] = exp(-Double((i - radius) * (i - radius)) / (2 * 1.5 * 1.5)) }
        let total = window.reduce(0, +)
        window = window.map { $0 / total }
        // Separable Gaussian filtering over the valid region: horizontal, then vertical.
        func filter(_ image: [Double]) -> [Double] {
            let vw = w - size + 1, vh = h - size + 1
            guard vw > 0, vh > 0 else { return [] }
            var horizontal = [Double](repeating: 0, count: vw * h)
            for row in 0..<h {
                for column in 0..<vw {
                    var sum = 0.0
                    for k in 0..<size { sum += window[k] * image[row * w + column + k] }
                    horizontal[row * vw + column] = sum
                }
            }
            var out = [Double](repeating: 0, count: vw * vh)
            for row in 0..<vh {
                for column in 0..<vw {
                    var sum = 0.0
                    for k in 0..<size { sum += window[k] * horizontal[(row + k) * vw + column] }
                    out[row * vw + column] = sum
                }
            }
            return out
        }
        let muX = filter(x), muY = filter(y)
        guard !muX.isEmpty else { return .nan }
        let xx = filter(x.map { (v: Double) in v * v }), yy = filter(y.map { (v: Double) in v * v })
        let xy = filter(zip(x, y).map { (p: (Double, Double)) in p.0 * p.1 })
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        var sum = 0.0
        for i in 0..<muX.count {
            let sx = xx[i] - muX[i] * muX[i], sy = yy[i] - muY[i] * muY[i], sxy = xy[i] - muX[i] * muY[i]
            sum += ((2 * muX[i] * muY[i] + c1) * (2 * sxy + c2)) / ((muX[i] * muX[i] + muY[i] * muY[i] + c1) * (sx + sy + c2))
        }
        return sum / Double(muX.count)
    }
}

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

    /// PSNR and SSIM of `a` against `b` on Y, streamed by rows (`streamed`).
    public static func compare(_ a: RGBImage, _ b: RGBImage, border: Int) -> (psnr: Double, ssim: Double) {
        precondition(a.width == b.width && a.height == b.height, "metrics of images of different sizes")
        var squared = 0.0
        let (count, ssim) = streamed(a, b, border: border, squared: &squared) { image, offset in
            let r = Double(image.pixels[offset]), g = Double(image.pixels[offset + 1]), b = Double(image.pixels[offset + 2])
            return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
        }
        let mse = squared / Double(count)
        return (mse == 0 ? .infinity : 10 * log10(255 * 255 / mse), ssim)
    }

    public static func psnr(_ a: RGBImage, _ b: RGBImage, border: Int) -> Double { compare(a, b, border: border).psnr }

    public static func ssim(_ a: RGBImage, _ b: RGBImage, border: Int) -> Double { compare(a, b, border: border).ssim }

    /// The SSIM window: 11 taps of a Gaussian of sigma 1.5, summing to 1.
    static let window: [Double] = {
        let taps = (0..<11).map { i in exp(-Double((i - 5) * (i - 5)) / (2 * 1.5 * 1.5)) }
        let total = taps.reduce(0, +)
        return taps.map { $0 / total }
    }()

    /// One pass over the `border`-cropped planes of `a` and `b`, a row at a time, where
    /// `sample(image, byte offset of the pixel)` is the plane's value: adds the squared differences
    /// to `squared` (row-major) and returns (values compared, mean SSIM over the valid 11x11
    /// windows, NaN when there is none). The Gaussian filtering is separable: each row is filtered
    /// horizontally into a ring of 11 rows per quantity (x, y, x^2, y^2, xy), and each output row
    /// vertically from the ring, so memory is 55 rows instead of whole planes (a 14.7-megapixel
    /// image held over a gigabyte of double planes), with the same sums in the same order as
    /// whole-plane filtering.
    static func streamed(_ a: RGBImage, _ b: RGBImage, border: Int, squared: inout Double,
                         sample: (RGBImage, Int) -> Double) -> (count: Int, ssim: Double) {
        let w = max(a.width - 2 * border, 0), h = max(a.height - 2 * border, 0)
        let size = window.count, vw = w - size + 1, vh = h - size + 1
        let filtered = vw > 0 && vh > 0
        var x = [Double](repeating: 0, count: w), y = [Double](repeating: 0, count: w)
        var ring = [Double](repeating: 0, count: filtered ? 5 * size * vw : 0)  // (quantity, slot, column)
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        var sum = 0.0
        for row in 0..<h {
            for column in 0..<w {
                let offset = 3 * ((row + border) * a.width + column + border)
                x[column] = sample(a, offset)
                y[column] = sample(b, offset)
                squared += (x[column] - y[column]) * (x[column] - y[column])
            }
            guard filtered else { continue }
            let slot = row % size
            for column in 0..<vw {
                var mx = 0.0, my = 0.0, mxx = 0.0, myy = 0.0, mxy = 0.0
                for k in 0..<size {
                    let u = x[column + k], v = y[column + k]
                    mx += window[k] * u
                    my += window[k] * v
                    mxx += window[k] * (u * u)
                    myy += window[k] * (v * v)
                    mxy += window[k] * (u * v)
                }
                let base = slot * vw + column, plane = size * vw
                ring[base] = mx
                ring[plane + base] = my
                ring[2 * plane + base] = mxx
                ring[3 * plane + base] = myy
                ring[4 * plane + base] = mxy
            }
            guard row >= size - 1 else { continue }
            let first = row - (size - 1)  // the output row whose window ends at this row
            for column in 0..<vw {
                var m = (0.0, 0.0, 0.0, 0.0, 0.0)
                for k in 0..<size {
                    let base = ((first + k) % size) * vw + column, plane = size * vw
                    m.0 += window[k] * ring[base]
                    m.1 += window[k] * ring[plane + base]
                    m.2 += window[k] * ring[2 * plane + base]
                    m.3 += window[k] * ring[3 * plane + base]
                    m.4 += window[k] * ring[4 * plane + base]
                }
                let sx = m.2 - m.0 * m.0, sy = m.3 - m.1 * m.1, sxy = m.4 - m.0 * m.1
                sum += ((2 * m.0 * m.1 + c1) * (2 * sxy + c2)) / ((m.0 * m.0 + m.1 * m.1 + c1) * (sx + sy + c2))
            }
        }
        return (w * h, filtered ? sum / Double(vw * vh) : .nan)
    }
}

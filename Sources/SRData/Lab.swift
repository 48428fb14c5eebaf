// CIE L*a*b* from sRGB, for the colourising mode's grayscale input (docs/colorize.md):
//   sRGB (IEC 61966-2-1) in [0,1] -> linear: c / 12.92 for c <= 0.04045, else ((c + 0.055) / 1.055)^2.4
//   linear -> XYZ (D65): [0.4124564 0.3575761 0.1804375; 0.2126729 0.7151522 0.0721750;
//                         0.0193339 0.1191920 0.9503041]  (Lindbloom's sRGB matrix)
//   normalised by the D65 white (Xn, Yn, Zn) = (0.95047, 1, 1.08883)
//   f(t) = t^(1/3) for t > (6/29)^3, else t / (3 (6/29)^2) + 4/29
//   L* = 116 f(Y) - 16 in [0, 100], a* = 500 (f(X) - f(Y)), b* = 200 (f(Y) - f(Z)).
// Only data goes through it (the network never sees a* or b*), so it has no backward. The network
// input is L* / 50 - 1, in [-1, 1].

import Foundation

public enum Lab {
    static let toXYZ: [Double] = [0.4124564, 0.3575761, 0.1804375,
                                  0.2126729, 0.7151522, 0.0721750,
                                  0.0193339, 0.1191920, 0.9503041]
    static let white: [Double] = [0.95047, 1.0, 1.08883]

    @inline(__always)
    static func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }

    @inline(__always)
    static func f(_ t: Double) -> Double {
        let delta = 6.0 / 29
        return t > delta * delta * delta ? cbrt(t) : t / (3 * delta * delta) + 4.0 / 29
    }

    /// (L*, a*, b*) of an sRGB colour with components in [0,1].
    public static func fromSRGB(_ r: Double, _ g: Double, _ b: Double) -> (l: Double, a: Double, b: Double) {
        let lr = linear(r), lg = linear(g), lb = linear(b)
        var xyz = [0.0, 0.0, 0.0]
        for i in 0..<3 { xyz[i] = (toXYZ[3 * i] * lr + toXYZ[3 * i + 1] * lg + toXYZ[3 * i + 2] * lb) / white[i] }
        let fx = f(xyz[0]), fy = f(xyz[1]), fz = f(xyz[2])
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }

    /// L* alone (it depends on Y only).
    public static func lightness(_ r: Double, _ g: Double, _ b: Double) -> Double {
        116 * f(toXYZ[3] * linear(r) + toXYZ[4] * linear(g) + toXYZ[5] * linear(b)) - 16
    }

    /// The sRGB gray level g in [0,1] whose L* is `lightness` (R = G = B = g): the inverse of
    /// `lightness` along the gray axis (L* -> Y -> sRGB).
    public static func grayLevel(lightness l: Double) -> Double {
        let fy = (l + 16) / 116, delta = 6.0 / 29
        let y = fy > delta ? fy * fy * fy : 3 * delta * delta * (fy - 4.0 / 29)
        let g = y <= 0.0031308 ? 12.92 * y : 1.055 * pow(y, 1 / 2.4) - 0.055
        return min(max(g, 0), 1)
    }

    /// planar RGB (3, H, W) in [0,1] -> the network's input (H, W): L* / 50 - 1, in [-1, 1].
    public static func networkInput(_ rgb: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, plane: Int) {
        for i in 0..<plane {
            out[i] = Float(lightness(Double(rgb[i]), Double(rgb[plane + i]), Double(rgb[2 * plane + i])) / 50 - 1)
        }
    }

    /// The same for an RGB8 image: (H, W) floats in [-1, 1] (the 256 channel values linearised once).
    public static func networkInput(_ image: RGBImage) -> [Float] {
        var table = [Double](repeating: 0, count: 256)
        for k in 0..<256 { table[k] = linear(Double(k) / 255) }
        return (0..<(image.width * image.height)).map { i in
            let y = toXYZ[3] * table[Int(image.pixels[3 * i])] + toXYZ[4] * table[Int(image.pixels[3 * i + 1])]
                + toXYZ[5] * table[Int(image.pixels[3 * i + 2])]
            return Float((116 * f(y) - 16) / 50 - 1)
        }
    }
}

extension RGBImage {
    /// Every pixel has R = G = B: a gray photo, whatever its PNG colour type.
    public var isGray: Bool {
        pixels.withUnsafeBufferPointer { PixelView(width: width, height: height, pixels: $0).isGray }
    }
}

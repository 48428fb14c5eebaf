// Images as the networks see them: planar floats (3, H, W) in [0,1], read from any PNG at full
// precision (16-bit files stay 16-bit) and written back as 8- or 16-bit, RGB or gray.

import CPNGShim
import Foundation

public struct PlanarImage: Sendable {
    public let width: Int
    public let height: Int
    /// (3, height, width), values in [0,1] (results may overshoot; writing clamps).
    public var values: [Float]
    /// The file was gray (colour types 0 and 4): its three channels are equal.
    public var isGray: Bool
    /// Bits per sample of the file it came from (8 or 16 after expansion of 1/2/4-bit files).
    public var bitDepth: Int

    public init(width: Int, height: Int, values: [Float], isGray: Bool = false, bitDepth: Int = 8) {
        precondition(values.count == 3 * width * height)
        self.width = width
        self.height = height
        self.values = values
        self.isGray = isGray
        self.bitDepth = bitDepth
    }

    public init(_ image: RGBImage) {
        let plane = image.width * image.height
        var values = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 { values[c * plane + i] = Float(image.pixels[3 * i + c]) / 255 }
        }
        self.init(width: image.width, height: image.height, values: values)
    }

    /// Rounded and clamped to 8 bits.
    public var rgb8: RGBImage {
        let plane = width * height
        var out = RGBImage(width: width, height: height)
        for i in 0..<plane {
            for c in 0..<3 { out.pixels[3 * i + c] = UInt8(min(max((values[c * plane + i] * 255).rounded(), 0), 255)) }
        }
        return out
    }
}

extension PNG {
    /// Decodes any PNG to planar floats at the file's precision (16-bit samples / 65535).
    public static func readPlanar(_ path: String, maxPixels: Int = defaultMaxPixels) throws -> PlanarImage {
        var image = srpng_image()
        var message = [CChar](repeating: 0, count: 512)
        guard srpng_read_rgb16(path, UInt64(maxPixels), &image, &message, message.count) == 0 else {
            throw readFailure(path, message)
        }
        defer { srpng_free(image.pixels) }
        let width = Int(image.width), height = Int(image.height), plane = width * height
        var values = [Float](repeating: 0, count: 3 * plane)
        image.pixels.withMemoryRebound(to: UInt16.self, capacity: 3 * plane) { samples in
            for i in 0..<plane {
                for c in 0..<3 { values[c * plane + i] = Float(samples[3 * i + c]) / 65535 }
            }
        }
        let colorType = Int(image.source_color_type)
        return PlanarImage(width: width, height: height, values: values, isGray: colorType == 0 || colorType == 4,
                           bitDepth: image.source_bit_depth == 16 ? 16 : 8)
    }

    /// Writes planar floats as a PNG of `bitDepth` (8 or 16) bits, gray (BT.601 luma of the three
    /// channels) or RGB, atomically (temporary name, then rename).
    public static func writePlanar(_ image: PlanarImage, to path: String, bitDepth: Int = 8, gray: Bool = false) throws {
        let writer = try PNGRowWriter(path: path, width: image.width, height: image.height, bitDepth: bitDepth, gray: gray)
        try image.values.withUnsafeBufferPointer { try writer.append($0, rows: image.height) }
        try writer.finish()
    }
}

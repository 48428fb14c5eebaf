// 8-bit RGB images in memory (row-major, interleaved RGB), read from and written to PNG through
// CPNGShim (libpng).

import CPNGShim
import Foundation

public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// height x width x 3 bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "\(pixels.count) bytes for \(width)x\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// The width x height region at (x, y), which must lie inside the image.
    public func crop(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && x + width <= self.width && y + height <= self.height, "crop outside the image")
        var out = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for row in 0..<height {
                    let from = ((y + row) * self.width + x) * 3
                    (target.baseAddress! + row * width * 3).update(from: source.baseAddress! + from, count: width * 3)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}

/// What the PNG file itself declares.
public struct PNGHeader: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let bitDepth: Int
    public let colorType: Int
    public let interlaced: Bool
}

public enum PNG {
    /// The pixel limit used when the caller sets none: 100 megapixels.
    public static let defaultMaxPixels = 100_000_000

    public static func readHeader(_ path: String) throws -> PNGHeader {
        var image = srpng_image()
        var message = [CChar](repeating: 0, count: 512)
        guard srpng_read_header(path, &image, &message, message.count) == 0 else {
            throw DataError(path, String(cString: message), hint: "check that the file is a complete PNG")
        }
        return PNGHeader(width: Int(image.width), height: Int(image.height), bitDepth: Int(image.source_bit_depth),
                         colorType: Int(image.source_color_type), interlaced: image.source_interlaced != 0)
    }

    /// The error of a failed decode, from the reader's message.
    static func readFailure(_ path: String, _ message: [CChar]) -> DataError {
        var text = String(cString: message)
        if text == "Read Error" {  // libpng's words for a file that ends early
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            text = "truncated: the file ends\(size.map { " at byte \($0)" } ?? "") before its image data does"
        }
        let hint = text.contains("above the limit")
            ? "raise the pixel limit (--max-megapixels) if the image is genuine, or remove it"
            : "the file is not a PNG or is damaged; re-export it or remove it"
        return DataError(path, text, hint: hint)
    }

    /// Decodes any PNG to RGB8 (gray -> three equal channels, alpha dropped, 16 -> 8 bits).
    /// Images above `maxPixels` are refused from the header, before pixel memory is allocated.
    public static func read(_ path: String, maxPixels: Int = defaultMaxPixels) throws -> (RGBImage, PNGHeader) {
        try withDecoded(path, maxPixels: maxPixels) { (RGBImage(width: $0.width, height: $0.height, pixels: Array($0.pixels)), $1) }
    }

    /// Decodes like `read` and lends the decoder's own buffer to `body` (no copy); it is freed
    /// when `body` returns.
    static func withDecoded<R>(_ path: String, maxPixels: Int, _ body: (PixelView, PNGHeader) throws -> R) throws -> R {
        var image = srpng_image()
        var message = [CChar](repeating: 0, count: 512)
        guard srpng_read_rgb8(path, UInt64(maxPixels), &image, &message, message.count) == 0 else {
            throw readFailure(path, message)
        }
        defer { srpng_free(image.pixels) }
        let count = Int(image.width) * Int(image.height) * 3
        let header = PNGHeader(width: Int(image.width), height: Int(image.height), bitDepth: Int(image.source_bit_depth),
                               colorType: Int(image.source_color_type), interlaced: image.source_interlaced != 0)
        let view = PixelView(width: Int(image.width), height: Int(image.height), pixels: UnsafeBufferPointer(start: image.pixels, count: count))
        return try body(view, header)
    }

    /// Writes an RGB8 PNG atomically (temporary name, then rename). `compressionLevel` is zlib's
    /// (-1: libpng's default, 6); it changes the file's size and the time taken, not the pixels.
    public static func write(_ image: RGBImage, to path: String, compressionLevel: Int = -1) throws {
        try writeAtomically(path) { temporary, message in
            image.pixels.withUnsafeBufferPointer {
                srpng_write8_level(temporary, $0.baseAddress, UInt32(image.width), UInt32(image.height), 3, Int32(compressionLevel),
                                   &message, message.count)
            }
        }
    }

    /// Runs `encode` (which writes a PNG to the temporary path it is given and returns libpng's
    /// status) and renames the result over `path`; the temporary file never outlives a failure.
    static func writeAtomically(_ path: String, _ encode: (String, inout [CChar]) -> Int32) throws {
        let temporary = "\(path).tmp-\(getpid())"
        var message = [CChar](repeating: 0, count: 512)
        guard encode(temporary, &message) == 0 else {
            unlink(temporary)
            throw DataError(path, "cannot write PNG: \(String(cString: message))", hint: "check that the folder exists and has space")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw DataError(path, "cannot rename the finished PNG into place", hint: "check the folder's permissions")
        }
    }
}

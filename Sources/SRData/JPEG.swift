// JPEG decoding through CJPEGShim (libjpeg-turbo): baseline and progressive, gray or colour,
// upright after the EXIF orientation. Settings and tolerances: docs/jpeg.md.

import CJPEGShim
import Foundation

/// What the JPEG file itself declares; width and height are after the EXIF orientation.
public struct JPEGHeader: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 1 (gray) or 3 (colour).
    public let components: Int
    public let progressive: Bool
    /// EXIF orientation 1...8 (1: none, or none readable).
    public let orientation: Int
}

public enum JPEG {
    /// The first bytes of every JPEG file (SOI and the start of the next marker).
    public static let signature: [UInt8] = [0xFF, 0xD8, 0xFF]

    static func header(_ image: srjpeg_image) -> JPEGHeader {
        JPEGHeader(width: Int(image.width), height: Int(image.height), components: Int(image.components),
                   progressive: image.progressive != 0, orientation: Int(image.orientation))
    }

    static func failure(_ path: String, _ message: [CChar]) -> DataError {
        let text = String(cString: message)
        let hint: String
        if text.contains("above the limit") {
            hint = "raise the pixel limit (--max-megapixels) if the image is genuine, or remove it"
        } else if text.contains("CMYK") {
            hint = "convert it to RGB (e.g. 'convert IN.jpg -colorspace sRGB OUT.jpg' or re-export it), or remove it"
        } else {
            hint = "the file is not a JPEG or is damaged (cut short?); re-export it or remove it"
        }
        return DataError(path, text, hint: hint)
    }

    public static func readHeader(_ path: String) throws -> JPEGHeader {
        var image = srjpeg_image()
        var message = [CChar](repeating: 0, count: 512)
        guard srjpeg_read_header(path, &image, &message, message.count) == 0 else { throw failure(path, message) }
        return header(image)
    }

    /// Decodes to upright RGB8 (gray -> three equal channels). Images above `maxPixels` are
    /// refused from the header, before pixel memory is allocated.
    public static func read(_ path: String, maxPixels: Int = PNG.defaultMaxPixels) throws -> (RGBImage, JPEGHeader) {
        try withDecoded(path, maxPixels: maxPixels) { (RGBImage(width: $0.width, height: $0.height, pixels: Array($0.pixels)), $1) }
    }

    /// Decodes like `read` and lends the decoder's own buffer to `body` (no copy); it is freed
    /// when `body` returns.
    static func withDecoded<R>(_ path: String, maxPixels: Int, _ body: (PixelView, JPEGHeader) throws -> R) throws -> R {
        var image = srjpeg_image()
        var message = [CChar](repeating: 0, count: 512)
        guard srjpeg_read_rgb8(path, UInt64(maxPixels), &image, &message, message.count) == 0 else { throw failure(path, message) }
        defer { srjpeg_free(image.pixels) }
        let view = PixelView(width: Int(image.width), height: Int(image.height),
                             pixels: UnsafeBufferPointer(start: image.pixels, count: Int(image.width) * Int(image.height) * 3))
        return try body(view, header(image))
    }
}

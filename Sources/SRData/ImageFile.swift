// Photos on disk, PNG or JPEG, told apart by their first bytes (not by their names): one header
// type and one decode for every reader of photos (pack, validate, upscale, serve).

import Foundation

public enum ImageFormat: String, Codable, Sendable {
    case png, jpeg
}

/// A photo's header in PNG terms: JPEGs are 8-bit, colour type 0 (gray) or 2 (RGB).
public struct ImageHeader: Equatable, Sendable {
    public let format: ImageFormat
    public let width: Int
    public let height: Int
    public let bitDepth: Int
    /// PNG colour type (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA).
    public let colorType: Int
    /// Adam7 for PNG, progressive for JPEG.
    public let interlaced: Bool
    /// EXIF orientation already applied to width, height and pixels (always 1 for PNG).
    public let orientation: Int

    public init(_ png: PNGHeader) {
        format = .png
        width = png.width
        height = png.height
        bitDepth = png.bitDepth
        colorType = png.colorType
        interlaced = png.interlaced
        orientation = 1
    }

    public init(_ jpeg: JPEGHeader) {
        format = .jpeg
        width = jpeg.width
        height = jpeg.height
        bitDepth = 8
        colorType = jpeg.components == 1 ? 0 : 2
        interlaced = jpeg.progressive
        orientation = jpeg.orientation
    }

    /// Gray in the file (PNG colour types 0 and 4, one-component JPEG).
    public var isGray: Bool { colorType == 0 || colorType == 4 }
}

public enum ImageFile {
    /// The names `pack`, `validate` and `upscale` pick out of a folder.
    public static func hasImageName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".png") || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The format of the file at `path`, from its first bytes.
    public static func format(of path: String) throws -> ImageFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(path, "cannot open file for reading", hint: "check that the file exists and is readable")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
        if let format = format(ofBytes: head) { return format }
        throw DataError(path, "not a PNG or JPEG file (bad signature)", hint: "convert it to PNG or JPEG, or remove it")
    }

    /// The format whose signature `bytes` starts with, if any.
    public static func format(ofBytes bytes: [UInt8]) -> ImageFormat? {
        if bytes.starts(with: pngSignature) { return .png }
        if bytes.starts(with: JPEG.signature) { return .jpeg }
        return nil
    }

    public static func readHeader(_ path: String) throws -> ImageHeader {
        switch try format(of: path) {
        case .png: return ImageHeader(try PNG.readHeader(path))
        case .jpeg: return ImageHeader(try JPEG.readHeader(path))
        }
    }

    /// Decodes to upright RGB8; images above `maxPixels` are refused before pixel memory is allocated.
    public static func read(_ path: String, maxPixels: Int = PNG.defaultMaxPixels) throws -> (RGBImage, ImageHeader) {
        switch try format(of: path) {
        case .png:
            let (image, header) = try PNG.read(path, maxPixels: maxPixels)
            return (image, ImageHeader(header))
        case .jpeg:
            let (image, header) = try JPEG.read(path, maxPixels: maxPixels)
            return (image, ImageHeader(header))
        }
    }

    /// Decodes to upright RGB8 like `read`, and lends the decoder's buffer to `body` instead of
    /// copying it out (the packer cuts its patches straight from it). The view is valid only
    /// inside `body`.
    public static func withDecoded<R>(_ path: String, maxPixels: Int = PNG.defaultMaxPixels,
                                      _ body: (PixelView, ImageHeader) throws -> R) throws -> R {
        switch try format(of: path) {
        case .png: return try PNG.withDecoded(path, maxPixels: maxPixels) { try body($0, ImageHeader($1)) }
        case .jpeg: return try JPEG.withDecoded(path, maxPixels: maxPixels) { try body($0, ImageHeader($1)) }
        }
    }

    /// Planar floats at the file's precision (16-bit PNGs stay 16-bit; JPEGs are 8-bit).
    public static func readPlanar(_ path: String, maxPixels: Int = PNG.defaultMaxPixels) throws -> PlanarImage {
        switch try format(of: path) {
        case .png:
            return try PNG.readPlanar(path, maxPixels: maxPixels)
        case .jpeg:
            let (image, header) = try JPEG.read(path, maxPixels: maxPixels)
            var planar = PlanarImage(image)
            planar.isGray = header.components == 1
            return planar
        }
    }
}

/// A decoded RGB8 image in memory its decoder owns (height x width x 3 bytes, row-major,
/// interleaved), lent for the duration of a closure by `ImageFile.withDecoded`.
public struct PixelView {
    public let width: Int
    public let height: Int
    public let pixels: UnsafeBufferPointer<UInt8>

    /// Every pixel has R = G = B (RGBImage.isGray's rule).
    public var isGray: Bool {
        var i = 0
        while i < pixels.count {
            if pixels[i] != pixels[i + 1] || pixels[i] != pixels[i + 2] { return false }
            i += 3
        }
        return true
    }

    /// Copies the p x p square at (x, y), which must lie inside the image, row by row to `target`.
    public func copySquare(x: Int, y: Int, side p: Int, to target: UnsafeMutablePointer<UInt8>) {
        precondition(x >= 0 && y >= 0 && x + p <= width && y + p <= height, "square outside the image")
        for row in 0..<p {
            (target + row * p * 3).update(from: pixels.baseAddress! + ((y + row) * width + x) * 3, count: p * 3)
        }
    }

    /// An RGBImage copy (for paths that transform the whole image).
    public var image: RGBImage { RGBImage(width: width, height: height, pixels: Array(pixels)) }
}

import Foundation
import SRData
import XCTest

final class PNGTests: XCTestCase {
    /// Every layout the packer must read, written by libpng, decoded to the expected RGB8.
    func testDecodesEveryLayoutToRGB8() throws {
        let directory = try makeTemporaryDirectory("png")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let w = 7, h = 5
        let pixels = w * h
        let gray16 = (0..<pixels).map { UInt16($0 * 1871 % 65536) }
        let rgb16 = (0..<(3 * pixels)).map { UInt16($0 * 977 % 65536) }
        let gray8 = (0..<pixels).map { UInt16($0 * 7 % 256) }
        let rgba8 = (0..<(4 * pixels)).map { UInt16($0 * 13 % 256) }
        let ga8 = (0..<(2 * pixels)).map { UInt16($0 * 29 % 256) }
        let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let indices = (0..<pixels).map { UInt16($0 % 4) }
        let rgb8 = (0..<(3 * pixels)).map { UInt16($0 * 31 % 256) }

        func expect(_ name: String, _ expected: [UInt8], depth: Int, type: Int, interlaced: Bool = false,
                    samples: [UInt16], palette: [UInt8] = []) throws {
            let path = directory + "/\(name).png"
            try writePNG(path, width: w, height: h, bitDepth: depth, colorType: type, interlaced: interlaced,
                         samples: samples, palette: palette)
            let (image, header) = try PNG.read(path)
            XCTAssertEqual(header.bitDepth, depth, name)
            XCTAssertEqual(header.colorType, type, name)
            XCTAssertEqual(header.interlaced, interlaced, name)
            XCTAssertEqual(image.width, w)
            XCTAssertEqual(image.pixels, expected, name)
        }
        func rgbFrom(_ channels: Int, _ samples: [UInt16], gray: Bool, _ convert: (UInt16) -> UInt8) -> [UInt8] {
            (0..<pixels).flatMap { p -> [UInt8] in
                gray ? Array(repeating: convert(samples[p * channels]), count: 3)
                     : (0..<3).map { convert(samples[p * channels + $0]) }
            }
        }
        try expect("rgb8", rgbFrom(3, rgb8, gray: false) { UInt8($0) }, depth: 8, type: 2, samples: rgb8)
        try expect("rgb8-interlaced", rgbFrom(3, rgb8, gray: false) { UInt8($0) }, depth: 8, type: 2, interlaced: true, samples: rgb8)
        try expect("rgb16", rgbFrom(3, rgb16, gray: false, scale16), depth: 16, type: 2, samples: rgb16)
        try expect("gray16-interlaced", rgbFrom(1, gray16, gray: true, scale16), depth: 16, type: 0, interlaced: true, samples: gray16)
        try expect("gray8", rgbFrom(1, gray8, gray: true) { UInt8($0) }, depth: 8, type: 0, samples: gray8)
        try expect("gray-alpha", rgbFrom(2, ga8, gray: true) { UInt8($0) }, depth: 8, type: 4, samples: ga8)
        try expect("rgba", rgbFrom(4, rgba8, gray: false) { UInt8($0) }, depth: 8, type: 6, samples: rgba8)
        let paletted = indices.flatMap { Array(palette[(Int($0) * 3)..<(Int($0) * 3 + 3)]) }
        try expect("palette", paletted, depth: 8, type: 3, samples: indices, palette: palette)
    }

    func testCompressionLevelsChangeTheSizeNotThePixels() throws {
        let directory = try makeTemporaryDirectory("levels")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var rng = SystemRandomNumberGenerator()
        // A smooth gradient with noise in the low bits: compressible, so the levels differ in size.
        let (w, h) = (97, 61)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for i in pixels.indices {
            let ramp = (i / 3) % w
            pixels[i] = UInt8(truncatingIfNeeded: ramp + Int.random(in: 0...3, using: &rng))
        }
        let image = RGBImage(width: w, height: h, pixels: pixels)
        var sizes: [Int] = []
        for level in [-1, 0, 1, 9] {
            let path = directory + "/level\(level).png"
            try PNG.write(image, to: path, compressionLevel: level)
            XCTAssertEqual(try PNG.read(path).0, image, "level \(level)")
            sizes.append(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
        }
        XCTAssertGreaterThan(sizes[1], sizes[2], "level 0 (stored) should be larger than level 1")
        XCTAssertThrowsError(try PNG.write(image, to: directory + "/bad.png", compressionLevel: 10)) {
            XCTAssertTrue("\($0)".contains("compression level"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/bad.png"))
    }

    func testAbsurdDimensionsAreRefusedFromTheHeader() throws {
        // A forged PNG declaring 100000 x 100000 pixels (30 GB of RGB if allocated).
        let directory = try makeTemporaryDirectory("absurd")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/absurd.png"
        try forgedPNG(width: 100_000, height: 100_000).write(to: URL(fileURLWithPath: path))
        let header = try PNG.readHeader(path)
        XCTAssertEqual(header.width, 100_000)
        XCTAssertThrowsError(try PNG.read(path)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("100000x100000"), text)
            XCTAssertTrue(text.contains("above the limit"), text)
            XCTAssertTrue(text.hasPrefix(path), text)
        }
    }
}

/// Signature, an IHDR declaring the size, an empty IDAT and IEND, with valid CRCs.
func forgedPNG(width: UInt32, height: UInt32) -> Data {
    var data = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    func chunk(_ type: String, _ body: [UInt8]) {
        var length = UInt32(body.count).bigEndian
        data.append(Data(bytes: &length, count: 4))
        let typed = Array(type.utf8) + body
        data.append(contentsOf: typed)
        var crc = CRC32.of(typed).bigEndian
        data.append(Data(bytes: &crc, count: 4))
    }
    var ihdr: [UInt8] = []
    for value in [width, height] { ihdr += [UInt8(value >> 24), UInt8(value >> 16 & 255), UInt8(value >> 8 & 255), UInt8(value & 255)] }
    ihdr += [8, 2, 0, 0, 0]
    chunk("IHDR", ihdr)
    chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
    chunk("IEND", [])
    return data
}

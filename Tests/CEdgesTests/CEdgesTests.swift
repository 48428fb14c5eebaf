// The C edges link and behave: OpenBLAS, Open MPI (handles through the shim), liblz4, libpng
// (errors come back as messages instead of a longjmp through Swift).

import CBLAS
import CLZ4
import CMPI
import CPNGShim
import Foundation
import XCTest

final class CEdgesTests: XCTestCase {
    /// samples/photos at the repository root, found from this file's path.
    static let samples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("samples").appendingPathComponent("photos")

    func testOpenBLASMultipliesRowMajor() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]   // (2,3)
        let b: [Float] = [1, 0, 0, 1, 1, 1]   // (3,2)
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, &c, 2)
        XCTAssertEqual(c, [4, 5, 10, 11])
    }

    func testMPIShimHandlesAndVersion() {
        var major: Int32 = 0, minor: Int32 = 0
        XCTAssertEqual(MPI_Get_version(&major, &minor), srmpi_success())
        XCTAssertGreaterThanOrEqual(major, 3)
        XCTAssertNotNil(srmpi_in_place())
        XCTAssertNotNil(srmpi_comm_world())
        XCTAssertNotEqual(UnsafeRawPointer(srmpi_float()), UnsafeRawPointer(srmpi_double()))
    }

    func testLZ4RoundTrip() {
        let source = [UInt8]((0..<10_000).map { UInt8(($0 / 7) % 251) })
        var compressed = [UInt8](repeating: 0, count: Int(LZ4_compressBound(Int32(source.count))))
        let written = source.withUnsafeBytes { src in
            compressed.withUnsafeMutableBytes { dst in
                LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     Int32(source.count), Int32(dst.count))
            }
        }
        XCTAssertGreaterThan(written, 0)
        XCTAssertLessThan(Int(written), source.count / 4)
        var restored = [UInt8](repeating: 0, count: source.count)
        let read = compressed.withUnsafeBytes { src in
            restored.withUnsafeMutableBytes { dst in
                LZ4_decompress_safe(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    written, Int32(dst.count))
            }
        }
        XCTAssertEqual(Int(read), source.count)
        XCTAssertEqual(restored, source)
        // A damaged block is reported (negative), never a crash.
        let damaged = compressed.withUnsafeBytes { src in
            restored.withUnsafeMutableBytes { dst in
                LZ4_decompress_safe(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    written / 2, Int32(dst.count))
            }
        }
        XCTAssertLessThan(damaged, 0)
    }

    private func read(_ path: String, maxPixels: UInt64 = 1 << 26) -> (srpng_image, Int32, String) {
        var image = srpng_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = srpng_read_rgb8(path, maxPixels, &image, &message, message.count)
        return (image, status, String(cString: message))
    }

    func testPNGDecodesRealPhotosToRGB8() {
        let (gray, status, message) = read(Self.samples.appendingPathComponent("camera.png").path)
        XCTAssertEqual(status, 0, message)
        defer { srpng_free(gray.pixels) }
        XCTAssertEqual(gray.width, 512)
        XCTAssertEqual(gray.height, 512)
        XCTAssertEqual(gray.source_color_type, 0)
        // Gray becomes three equal channels.
        let pixels = UnsafeBufferPointer(start: gray.pixels, count: 512 * 512 * 3)
        XCTAssertTrue(stride(from: 0, to: pixels.count, by: 3).allSatisfy {
            pixels[$0] == pixels[$0 + 1] && pixels[$0] == pixels[$0 + 2]
        })
        let (color, colorStatus, colorMessage) = read(Self.samples.appendingPathComponent("chelsea.png").path)
        XCTAssertEqual(colorStatus, 0, colorMessage)
        XCTAssertEqual(color.width, 451)
        XCTAssertEqual(color.height, 300)
        srpng_free(color.pixels)
    }

    func testPNGWriteThenReadIsLossless() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cedges-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.png").path
        let pixels = [UInt8]((0..<(5 * 3 * 3)).map { UInt8($0 * 5) })
        var message = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(srpng_write8(path, pixels, 5, 3, 3, &message, 256), 0, String(cString: message))
        let (image, status, readMessage) = read(path)
        XCTAssertEqual(status, 0, readMessage)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: image.pixels, count: pixels.count)), pixels)
        srpng_free(image.pixels)
    }

    func testPNGErrorsComeBackAsMessages() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cedges-bad-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try Data(contentsOf: Self.samples.appendingPathComponent("chelsea.png"))
        // Truncated in the middle of the image data: libpng's error longjmps back into the shim.
        let truncated = directory.appendingPathComponent("truncated.png")
        try original.prefix(original.count / 2).write(to: truncated)
        let (image, status, message) = read(truncated.path)
        XCTAssertEqual(status, -1)
        XCTAssertNil(image.pixels)
        XCTAssertFalse(message.isEmpty)
        // Not a PNG at all.
        let text = directory.appendingPathComponent("text.png")
        try Data("hello".utf8).write(to: text)
        XCTAssertEqual(read(text.path).2, "not a PNG file (bad signature)")
        // Too many pixels: refused before allocating.
        let (_, bigStatus, bigMessage) = read(Self.samples.appendingPathComponent("chelsea.png").path, maxPixels: 1000)
        XCTAssertEqual(bigStatus, -1)
        XCTAssertTrue(bigMessage.contains("451x300"), bigMessage)
        // Missing file.
        XCTAssertEqual(read(directory.appendingPathComponent("none.png").path).2, "cannot open file for reading")
    }
}

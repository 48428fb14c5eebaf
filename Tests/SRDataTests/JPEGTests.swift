import CJPEGShim
import Foundation
import SRData
import XCTest

let jpegFixtures = dataFixtures + "/jpeg"

/// Pillow's decoding of the fixtures (Fixtures/make_jpeg_fixtures.py).
struct PillowJPEG {
    let width: Int, height: Int, components: Int, progressive: Bool, orientation: Int
    let pixels: [UInt8]

    static let all: [String: PillowJPEG] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: dataFixtures + "/jpeg.json"))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        var out: [String: PillowJPEG] = [:]
        for (name, value) in root["files"] as! [String: [String: Any]] where value["refused"] == nil {
            out[name] = PillowJPEG(width: value["width"] as! Int, height: value["height"] as! Int,
                                   components: value["components"] as! Int, progressive: value["progressive"] as! Bool,
                                   orientation: value["orientation"] as! Int,
                                   pixels: [UInt8](Data(base64Encoded: value["rgb_base64"] as! String)!))
        }
        return out
    }()
}

/// docs/jpeg.md: the largest difference from Pillow allowed in any sample, and in the mean.
let jpegMaxDifference = 1
let jpegMeanDifference = 0.02

func differences(_ a: [UInt8], _ b: [UInt8]) -> (max: Int, mean: Double) {
    precondition(a.count == b.count)
    var largest = 0, total = 0
    for i in a.indices {
        let d = abs(Int(a[i]) - Int(b[i]))
        largest = max(largest, d)
        total += d
    }
    return (largest, Double(total) / Double(max(a.count, 1)))
}

/// `bytes` with the frame header's (SOF0/SOF2) height and width replaced.
func withDeclaredSize(_ bytes: [UInt8], width: Int, height: Int) -> [UInt8] {
    var out = bytes
    var i = 2
    while i + 9 < out.count {
        precondition(out[i] == 0xFF, "marker expected at \(i)")
        let marker = out[i + 1], length = Int(out[i + 2]) << 8 | Int(out[i + 3])
        if marker == 0xC0 || marker == 0xC2 {
            out[i + 5] = UInt8(height >> 8); out[i + 6] = UInt8(height & 255)
            out[i + 7] = UInt8(width >> 8); out[i + 8] = UInt8(width & 255)
            return out
        }
        i += 2 + length
    }
    preconditionFailure("no frame header")
}

final class JPEGTests: XCTestCase {
    func testDecodedPixelsMatchPillowWithinTheDocumentedTolerance() throws {
        XCTAssertEqual(PillowJPEG.all.count, 15)
        var worst = (max: 0, mean: 0.0)
        for (name, reference) in PillowJPEG.all.sorted(by: { $0.key < $1.key }) {
            let (image, header) = try JPEG.read(jpegFixtures + "/" + name)
            XCTAssertEqual([image.width, image.height], [reference.width, reference.height], name)
            XCTAssertEqual([header.width, header.height], [reference.width, reference.height], name)
            XCTAssertEqual(header.components, reference.components, name)
            XCTAssertEqual(header.progressive, reference.progressive, name)
            XCTAssertEqual(header.orientation, reference.orientation, name)
            let (largest, mean) = differences(image.pixels, reference.pixels)
            XCTAssertLessThanOrEqual(largest, jpegMaxDifference, name)
            XCTAssertLessThanOrEqual(mean, jpegMeanDifference, name)
            worst = (max(worst.max, largest), max(worst.mean, mean))
        }
        print("JPEG vs Pillow over \(PillowJPEG.all.count) files: largest sample difference \(worst.max), largest mean \(worst.mean)")
        // The flags are real: the fixtures hold both kinds.
        XCTAssertTrue(try JPEG.readHeader(jpegFixtures + "/progressive.jpg").progressive)
        XCTAssertFalse(try JPEG.readHeader(jpegFixtures + "/baseline.jpg").progressive)
        XCTAssertTrue(try JPEG.read(jpegFixtures + "/gray.jpg").0.isGray)
        XCTAssertFalse(try JPEG.read(jpegFixtures + "/baseline.jpg").0.isGray)
    }

    /// Every EXIF orientation turns the same stored pixels upright, checked against plain loops
    /// written from the EXIF definitions (not from the decoder's code).
    func testEXIFOrientationsTurnThePixelsUpright() throws {
        let (stored, _) = try JPEG.read(jpegFixtures + "/orientation-1.jpg")
        let w = stored.width, h = stored.height
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(stored.pixels[((y * w + x) * 3)..<((y * w + x) * 3 + 3)]) }
        for orientation in 2...8 {
            let (image, header) = try JPEG.read(jpegFixtures + "/orientation-\(orientation).jpg")
            XCTAssertEqual(header.orientation, orientation)
            let swapped = orientation >= 5
            XCTAssertEqual([image.width, image.height], swapped ? [h, w] : [w, h], "orientation \(orientation)")
            var expected: [UInt8] = []
            for y in 0..<image.height {
                for x in 0..<image.width {
                    switch orientation {
                    case 2: expected += pixel(w - 1 - x, y)              // the file is mirrored
                    case 3: expected += pixel(w - 1 - x, h - 1 - y)      // upside down
                    case 4: expected += pixel(x, h - 1 - y)              // mirrored vertically
                    case 5: expected += pixel(y, x)                      // mirrored along the diagonal
                    case 6: expected += pixel(y, h - 1 - x)              // to be turned 90 degrees clockwise
                    case 7: expected += pixel(w - 1 - y, h - 1 - x)      // mirrored along the other diagonal
                    default: expected += pixel(w - 1 - y, x)             // 8: to be turned 90 degrees anticlockwise
                    }
                }
            }
            XCTAssertEqual(image.pixels, expected, "orientation \(orientation)")
        }
    }

    func testCMYKIsRefusedWithAClearError() {
        for read in [{ _ = try JPEG.read(jpegFixtures + "/cmyk.jpg") }, { _ = try JPEG.readHeader(jpegFixtures + "/cmyk.jpg") }] {
            XCTAssertThrowsError(try read()) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("cmyk.jpg: CMYK JPEG"), text)
                XCTAssertTrue(text.contains("HINT: convert it to RGB"), text)
            }
        }
    }

    /// A few bytes declaring 30000 x 30000 pixels are refused from the header: nothing is allocated.
    func testPixelBombIsRefusedFromTheHeader() throws {
        let folder = try makeTemporaryDirectory("jpeg-bomb")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for source in ["baseline.jpg", "progressive.jpg"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: jpegFixtures + "/" + source)))
            let bomb = folder + "/bomb-" + source
            try Data(withDeclaredSize(bytes, width: 30000, height: 30000)).write(to: URL(fileURLWithPath: bomb))
            let header = try JPEG.readHeader(bomb)
            XCTAssertEqual([header.width, header.height], [30000, 30000])
            XCTAssertThrowsError(try JPEG.read(bomb)) { error in
                XCTAssertTrue("\(error)".contains("30000x30000 = 900000000 pixels, above the limit of 100000000 pixels"), "\(error)")
                XCTAssertTrue("\(error)".contains("HINT: raise the pixel limit"), "\(error)")
            }
            // Below the default limit but above a caller's.
            XCTAssertThrowsError(try JPEG.read(jpegFixtures + "/" + source, maxPixels: 1000)) { error in
                XCTAssertTrue("\(error)".contains("64x48 = 3072 pixels, above the limit of 1000"), "\(error)")
            }
        }
    }

    func testTruncatedAndDamagedFilesAreErrorsNotGrayPixels() throws {
        let folder = try makeTemporaryDirectory("jpeg-cut")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for source in ["baseline.jpg", "progressive.jpg", "gray.jpg"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: jpegFixtures + "/" + source))
            for fraction in [0.5, 0.8, 0.97] {
                let cut = folder + "/cut-\(fraction)-" + source
                try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: URL(fileURLWithPath: cut))
                XCTAssertThrowsError(try JPEG.read(cut), "\(source) at \(fraction)") { error in
                    XCTAssertTrue("\(error)".hasPrefix(cut + ": truncated JPEG"), "\(error)")
                    XCTAssertTrue("\(error)".contains("HINT:"), "\(error)")
                }
            }
        }
        let cases: [(String, [UInt8], String)] = [
            ("empty.jpg", [], "not a JPEG file (bad signature)"),
            ("soi-only.jpg", [0xFF, 0xD8, 0xFF], "JPEG"),
            ("garbage.jpg", [0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0x41, count: 300), "JPEG"),
        ]
        for (name, bytes, expected) in cases {
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
            XCTAssertThrowsError(try JPEG.read(folder + "/" + name), name) { error in
                XCTAssertTrue("\(error)".hasPrefix(folder + "/" + name + ": "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    /// The APP1 parser reads only what the segment holds: every cut, wrong count, wrong type or
    /// out-of-range offset gives 1 (no orientation), never a read outside the bytes.
    func testEXIFParserIsDefensive() {
        func segment(bigEndian: Bool, orientation: UInt16, type: UInt16 = 3, count: UInt32 = 1, ifdOffset: UInt32 = 8,
                     entries: UInt16 = 2) -> [UInt8] {
            func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 255)] : [UInt8(v & 255), UInt8(v >> 8)] }
            func u32(_ v: UInt32) -> [UInt8] { bigEndian ? u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) : u16(UInt16(v & 0xFFFF)) + u16(UInt16(v >> 16)) }
            var tiff = (bigEndian ? Array("MM".utf8) : Array("II".utf8)) + u16(42) + u32(ifdOffset) + u16(entries)
            tiff += u16(0x010F) + u16(2) + u32(4) + Array("cam\0".utf8)           // Make, before the orientation
            tiff += u16(0x0112) + u16(type) + u32(count) + u16(orientation) + u16(0)
            tiff += u32(0)
            return Array("Exif".utf8) + [0, 0] + tiff
        }
        func parse(_ bytes: [UInt8]) -> Int32 { bytes.withUnsafeBufferPointer { srjpeg_exif_orientation($0.baseAddress, $0.count) } }
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 6)), 6)
        XCTAssertEqual(parse(segment(bigEndian: true, orientation: 8)), 8)
        let whole = segment(bigEndian: true, orientation: 3)
        for length in 0..<whole.count {
            // A copy exactly `length` long, so a read past it would be caught by the sanitizer or the guard.
            let cut = Array(whole.prefix(length))
            let found = parse(cut)
            XCTAssertTrue(found == 1 || (found == 3 && length >= 6 + 8 + 2 + 24), "length \(length): \(found)")
        }
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 9)), 1)                  // not an orientation
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 0)), 1)
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 6, type: 4)), 1)         // LONG, not SHORT
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 6, count: 2)), 1)
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 6, ifdOffset: 0xFFFF_FFF0)), 1)
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 6, ifdOffset: 4)), 1)    // inside the TIFF header
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 6, entries: 0xFFFF)), 6) // found before the end
        XCTAssertEqual(parse(segment(bigEndian: false, orientation: 6, entries: 1)), 1)      // the entry is past the count
        XCTAssertEqual(parse(Array("Exif".utf8) + [0, 0] + Array("XX".utf8) + [42, 0, 8, 0, 0, 0, 0, 0]), 1)
        XCTAssertEqual(parse(Array("JFIF\0\0II*\0\u{8}\0\0\0\0\0".utf8)), 1)
    }

    /// The format comes from the bytes, not the name: a JPEG named .png is read as a JPEG.
    func testFormatIsToldByTheFirstBytes() throws {
        let folder = try makeTemporaryDirectory("jpeg-name")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: jpegFixtures + "/baseline.jpg", toPath: folder + "/really-a-jpeg.png")
        let (image, header) = try ImageFile.read(folder + "/really-a-jpeg.png")
        XCTAssertEqual(header.format, .jpeg)
        XCTAssertEqual(image, try JPEG.read(jpegFixtures + "/baseline.jpg").0)
        try Data("GIF89a....".utf8).write(to: URL(fileURLWithPath: folder + "/x.jpg"))
        XCTAssertThrowsError(try ImageFile.readHeader(folder + "/x.jpg")) { error in
            XCTAssertEqual("\(error)", folder + "/x.jpg: not a PNG or JPEG file (bad signature). HINT: convert it to PNG or JPEG, or remove it")
        }
        let planar = try ImageFile.readPlanar(jpegFixtures + "/gray.jpg")
        XCTAssertTrue(planar.isGray)
        XCTAssertEqual(planar.bitDepth, 8)
        XCTAssertEqual(planar.rgb8, try JPEG.read(jpegFixtures + "/gray.jpg").0)
    }
}

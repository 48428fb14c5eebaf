// validate and upscale through the release binary, on a tiny model trained for a few steps,
// real PNGs of every layout, and damaged inputs.

import CPNGShim
import Foundation
import XCTest

/// Writes a PNG of any layout libpng writes (8/16-bit; gray, RGB), samples row-major.
func writePNG(_ path: String, width: Int, height: Int, bitDepth: Int, gray: Bool, sample: (Int, Int, Int) -> Int) throws {
    let channels = gray ? 1 : 3
    var message = [CChar](repeating: 0, count: 256)
    var values: [Int] = []
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels { values.append(sample(x, y, c)) }
        }
    }
    let status: Int32 = bitDepth == 16
        ? values.map { UInt16($0) }.withUnsafeBytes {
            srpng_write_general(path, $0.baseAddress, UInt32(width), UInt32(height), 16, gray ? 0 : 2, 0, nil, 0, &message, message.count)
        }
        : values.map { UInt8($0) }.withUnsafeBytes {
            srpng_write_general(path, $0.baseAddress, UInt32(width), UInt32(height), 8, gray ? 0 : 2, 0, nil, 0, &message, message.count)
        }
    guard status == 0 else { throw NSError(domain: String(cString: message), code: 1) }
}

/// Width, height, bit depth and colour type from a PNG's IHDR.
func pngHeader(_ path: String) throws -> (width: Int, height: Int, bitDepth: Int, colorType: Int) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let be = { (offset: Int) in data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be(16), be(20), Int(data[24]), Int(data[25]))
}

/// Samples of a 16-bit RGB PNG written by srgan-dist, through the project's own reader (exact for 16-bit).
func read16(_ path: String) throws -> [Int] {
    var image = srpng_image()
    var message = [CChar](repeating: 0, count: 256)
    guard srpng_read_rgb16(path, 1 << 30, &image, &message, message.count) == 0 else { throw NSError(domain: String(cString: message), code: 1) }
    defer { srpng_free(image.pixels) }
    let count = Int(image.width * image.height) * 3
    return image.pixels.withMemoryRebound(to: UInt16.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)).map(Int.init) }
}

final class UseModelTests: XCTestCase {
    static var work = ""
    static var run: String { work + "/run" }

    override class func setUp() {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-use-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        let pack = try! runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                      "--output", work + "/packed", "--patch-size", "48", "--stride", "96", "--val-images", "2"])
        precondition(pack.status == 0, pack.error)
        let train = try! runSRGANDist(["train", "--preset", "tiny", "--data", work + "/packed", "--steps", "20", "--batch", "4",
                                       "--ema", "0.9", "--run", run])
        precondition(train.status == 0, train.error)
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    var fixtures: String { repository.appendingPathComponent("Tests/SRTrainTests/Fixtures").path }

    /// The bicubic numbers validate prints come from the reference computation (make_metrics_fixture.py).
    func testValidateJSONMatchesTheReferenceForBicubic() throws {
        let folder = Self.work + "/val-fixture"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixtures + "/metrics_hr.png", toPath: folder + "/metrics_hr.png")
        let result = try runSRGANDist(["validate", "--checkpoint", Self.run, "--images", folder, "--json", "--save", Self.work + "/panels"])
        XCTAssertEqual(result.status, 0, result.error)
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as! [String: Any]
        let mean = object["mean"] as! [String: Any]
        let reference = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixtures + "/metrics.json"))) as! [String: Any])["bicubic_x4_vs_hr_border4"] as! [String: Double]
        XCTAssertEqual(mean["psnr_bicubic"] as! Double, reference["psnr"]!, accuracy: 0.005)
        XCTAssertEqual(mean["ssim_bicubic"] as! Double, reference["ssim"]!, accuracy: 5e-5)
        for key in ["psnr", "ssim"] { XCTAssertNotNil(mean[key] as? Double, key) }
        let images = object["images"] as! [[String: Any]]
        XCTAssertEqual(images.count, 1)
        XCTAssertEqual(images[0]["name"] as? String, "metrics_hr.png")
        // The side-by-side image: four 100x84 panels (the HR cropped to a multiple of 4) and text.
        let panel = try pngHeader(Self.work + "/panels/metrics_hr.png")
        XCTAssertEqual(panel.width, 4 * 100 + 5 * 8)
        XCTAssertGreaterThan(panel.height, 84 + 16)
    }

    func testValidateTextAndEMAAndAPackedFolder() throws {
        let result = try runSRGANDist(["validate", "--checkpoint", Self.run + "/checkpoints", "--images", Self.work + "/packed", "--ema"])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(result.output.split(separator: "\n").filter { $0.contains(".png: PSNR") }.count, 2, result.output)
        XCTAssertTrue(result.output.contains("mean of 2 images: PSNR"), result.output)
    }

    /// Tiling changes nothing but float rounding: compared on 16-bit outputs.
    func testTiledAndUntiledUpscaleAgree() throws {
        let input = Self.work + "/rgb16.png"
        try writePNG(input, width: 70, height: 45, bitDepth: 16, gray: false) { x, y, c in
            Int(32768 + 20000 * sin(Double(x) / 6 + Double(c)) * cos(Double(y) / 5)) }
        let whole = try runSRGANDist(["upscale", "--checkpoint", Self.run, "--input", input, "--output", Self.work + "/whole.png", "--tile", "0"])
        XCTAssertEqual(whole.status, 0, whole.error)
        let tiled = try runSRGANDist(["upscale", "--checkpoint", Self.run, "--input", input, "--output", Self.work + "/tiled.png", "--tile", "16"])
        XCTAssertEqual(tiled.status, 0, tiled.error)
        XCTAssertTrue(tiled.output.contains("15 tile(s)"), tiled.output)
        let header = try pngHeader(Self.work + "/tiled.png")
        XCTAssertEqual([header.width, header.height, header.bitDepth, header.colorType], [280, 180, 16, 2])
        let a = try read16(Self.work + "/whole.png"), b = try read16(Self.work + "/tiled.png")
        XCTAssertEqual(a.count, b.count)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? -1
        XCTAssertLessThanOrEqual(worst, 2, "16-bit units")
        XCTAssertGreaterThan(Set(a).count, 1000, "a real image, not a constant")
    }

    func testGrayAndFoldersAndLargeInputs() throws {
        let folder = Self.work + "/mixed"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try writePNG(folder + "/gray8.png", width: 33, height: 21, bitDepth: 8, gray: true) { x, y, _ in (x * 7 + y * 3) % 256 }
        try writePNG(folder + "/large.png", width: 260, height: 200, bitDepth: 8, gray: false) { x, y, c in (x + 2 * y + 40 * c) % 256 }
        let result = try runSRGANDist(["upscale", "--checkpoint", Self.run, "--input", folder, "--output", Self.work + "/mixed-out", "--tile", "64"])
        XCTAssertEqual(result.status, 0, result.error)
        let gray = try pngHeader(Self.work + "/mixed-out/gray8.png")
        XCTAssertEqual([gray.width, gray.height, gray.bitDepth, gray.colorType], [132, 84, 8, 0])
        let large = try pngHeader(Self.work + "/mixed-out/large.png")
        XCTAssertEqual([large.width, large.height, large.colorType], [1040, 800, 2])
        XCTAssertTrue(result.output.contains("large.png: tile 20/20"), result.output)  // progress on large jobs
    }

    func testBadInputsGetOneClearLine() throws {
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: Self.work + "/fake.png"))
        let fake = try runSRGANDist(["upscale", "--checkpoint", Self.run, "--input", Self.work + "/fake.png", "--output", Self.work + "/x.png"])
        XCTAssertTrue(fake.error.contains("\(Self.work)/fake.png: not a PNG or JPEG file"), fake.error)
        try writePNG(Self.work + "/big.png", width: 400, height: 300, bitDepth: 8, gray: true) { _, _, _ in 0 }
        let big = try runSRGANDist(["upscale", "--checkpoint", Self.run, "--input", Self.work + "/big.png", "--output", Self.work + "/x.png",
                                    "--max-megapixels", "0.1"])
        XCTAssertTrue(big.error.contains("above the limit"), big.error)
        // A damaged generator file: named, with what to do.
        let damaged = Self.work + "/damaged.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.run + "/generator.safetensors"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: damaged))
        let model = try runSRGANDist(["validate", "--checkpoint", damaged, "--images", Self.work + "/packed"])
        XCTAssertTrue(model.error.hasPrefix("error: \(damaged):"), model.error)
        let missing = try runSRGANDist(["upscale", "--checkpoint", Self.work + "/nothing", "--input", Self.work + "/big.png", "--output", Self.work + "/x.png"])
        XCTAssertTrue(missing.error.contains("no such checkpoint"), missing.error)
        for result in [fake, big, model, missing] {
            XCTAssertNotEqual(result.status, 0)
            XCTAssertEqual(result.error.split(separator: "\n").filter { $0.hasPrefix("error:") }.count, 1, result.error)
            XCTAssertFalse(result.error.contains("Fatal error"), result.error)
        }
    }
}

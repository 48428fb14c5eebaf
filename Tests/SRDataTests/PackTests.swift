import Foundation
import SRData
import XCTest

/// The sample photos plus synthetic variants: 16-bit, palette, alpha, interlaced, tiny, non-PNG,
/// truncated.
func makeVariedInput() throws -> String {
    let input = try makeTemporaryDirectory("input")
    for name in try FileManager.default.contentsOfDirectory(atPath: samplePhotos) {
        try FileManager.default.copyItem(atPath: samplePhotos + "/" + name, toPath: input + "/" + name)
    }
    let w = 100, h = 80
    try writePNG(input + "/v-rgb16.png", width: w, height: h, bitDepth: 16, colorType: 2,
                 samples: (0..<(3 * w * h)).map { (i: Int) -> UInt16 in UInt16((i * 2654) % 65536) })
    let paletteIndices: [UInt16] = (0..<(70 * 70)).map { (i: Int) -> UInt16 in UInt16((i / 70 + i % 70) % 3) }
    try writePNG(input + "/v-palette.png", width: 70, height: 70, bitDepth: 8, colorType: 3,
                 samples: paletteIndices, palette: [200, 10, 10, 10, 200, 10, 10, 10, 200])
    try writePNG(input + "/v-rgba.png", width: 64, height: 96, bitDepth: 8, colorType: 6,
                 samples: (0..<(4 * 64 * 96)).map { (i: Int) -> UInt16 in UInt16((i * 7) % 256) })
    try writePNG(input + "/v-interlaced.png", width: 90, height: 90, bitDepth: 8, colorType: 0, interlaced: true,
                 samples: (0..<(90 * 90)).map { (i: Int) -> UInt16 in UInt16((i * 11) % 256) })
    try writePNG(input + "/v-tiny.png", width: 8, height: 8, bitDepth: 8, colorType: 2, samples: [UInt16](repeating: 9, count: 192))
    try Data("this is not a picture".utf8).write(to: URL(fileURLWithPath: input + "/v-notapng.png"))
    let chelsea = try Data(contentsOf: URL(fileURLWithPath: samplePhotos + "/chelsea.png"))
    try chelsea.prefix(chelsea.count / 3).write(to: URL(fileURLWithPath: input + "/v-truncated.png"))
    return input
}

func gridCount(_ width: Int, _ height: Int, patch: Int, stride: Int) -> Int {
    guard width >= patch, height >= patch else { return 0 }
    return ((width - patch) / stride + 1) * ((height - patch) / stride + 1)
}

final class PackTests: XCTestCase {
    func testPacksPhotosAndVariantsWithExactPixels() throws {
        let input = try makeVariedInput(), output = try makeTemporaryDirectory("out") + "/packed"
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output) }
        var options = PackOptions(input: input, output: output)
        options.patchSize = 32
        options.sampling = .grid(stride: 48)
        options.shardBytes = 1 << 20   // several shards
        options.patchesPerBlock = 8
        options.validationImages = 2
        var warnings: [String] = []
        let summary = try Packer(options).run(warn: { warnings.append($0) })
        let manifest = summary.manifest
        XCTAssertEqual(Set(manifest.skipped.map(\.file)), ["v-notapng.png", "v-truncated.png", "v-tiny.png"])
        XCTAssertEqual(warnings.count, 2, "\(warnings)")  // the tiny image gets a note, not a warning
        XCTAssertTrue(warnings.contains { $0.contains(input + "/v-notapng.png") && $0.contains("not a PNG") })
        XCTAssertTrue(summary.notes.contains { $0.contains("v-tiny.png") && $0.contains("smaller than a 32x32 patch") })
        XCTAssertEqual(manifest.validation.count, 2)
        XCTAssertGreaterThan(manifest.shards.count, 1)
        let training = manifest.sources.filter { $0.split == "train" }
        XCTAssertEqual(training.count, 12 + 4 - 2)
        for source in training {
            XCTAssertEqual(source.patches, gridCount(source.width, source.height, patch: 32, stride: 48), source.file)
        }
        XCTAssertEqual(manifest.totalPatches, training.reduce(0) { $0 + $1.patches })

        // Every packed patch equals the crop of the independently decoded source, in order.
        let dataset = try PackedDataset(directory: output)
        var next = 0
        var block: [UInt8] = []
        for source in training {
            let (image, _) = try PNG.read(input + "/" + source.file)
            for y in stride(from: 0, through: image.height - 32, by: 48) {
                for x in stride(from: 0, through: image.width - 32, by: 48) {
                    let packed = try dataset.patch(next, using: &block)
                    XCTAssertEqual(packed, image.crop(x: x, y: y, width: 32, height: 32).pixels, "\(source.file) (\(x),\(y))")
                    next += 1
                }
            }
        }
        XCTAssertEqual(next, dataset.patchCount)
        // Validation images are the decoded sources, whole.
        for file in manifest.validation {
            let source = manifest.sources.first { $0.split == "validation" && (file as NSString).lastPathComponent.hasPrefix(($0.file as NSString).deletingPathExtension) }!
            XCTAssertEqual(try PNG.read(output + "/" + file).0, try PNG.read(input + "/" + source.file).0)
        }
        try dataset.verify()
    }

    /// PNG and JPEG photos, 1, 2 and 3 threads: the same bytes.
    func testSameInputAndSeedGiveTheSameBytesWhateverTheThreads() throws {
        let input = try makeTemporaryDirectory("determinism-in"), base = try makeTemporaryDirectory("determinism")
        defer { try? FileManager.default.removeItem(atPath: base); try? FileManager.default.removeItem(atPath: input) }
        for name in try FileManager.default.contentsOfDirectory(atPath: samplePhotos) {
            try FileManager.default.copyItem(atPath: samplePhotos + "/" + name, toPath: input + "/" + name)
        }
        for name in ["baseline.jpg", "progressive.jpg", "gray.jpg"] {
            try FileManager.default.copyItem(atPath: jpegFixtures + "/" + name, toPath: input + "/" + name)
        }
        for sampling in [PackOptions.Sampling.grid(stride: 64), .random(cropsPerImage: 5)] {
            var outputs: [String] = []
            for threads in [1, 2, 3] {
                var options = PackOptions(input: input, output: base + "/t\(threads)-\(outputs.count)-\(sampling)")
                options.patchSize = 48
                options.sampling = sampling
                options.seed = 7
                options.threads = threads
                options.validationImages = 1
                _ = try Packer(options).run()
                outputs.append(options.output)
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: outputs[0]).sorted()
            for other in outputs.dropFirst() {
                XCTAssertEqual(files, try FileManager.default.contentsOfDirectory(atPath: other).sorted())
                for file in files where file != "val" {
                    XCTAssertEqual(FileManager.default.contents(atPath: outputs[0] + "/" + file),
                                   FileManager.default.contents(atPath: other + "/" + file), "\(sampling) \(file) \(other)")
                }
            }
        }
        // Another seed gives other random crops.
        var other = PackOptions(input: input, output: base + "/seed8")
        other.patchSize = 48
        other.sampling = .random(cropsPerImage: 5)
        other.seed = 8
        other.validationImages = 1
        _ = try Packer(other).run()
        let seed7 = try FileManager.default.contentsOfDirectory(atPath: base).first { $0.contains("random") }!
        XCTAssertNotEqual(FileManager.default.contents(atPath: base + "/" + seed7 + "/shard-00000.srs"),
                          FileManager.default.contents(atPath: base + "/seed8/shard-00000.srs"))
    }

    func testBadFoldersAreRefusedAndNothingIsOverwritten() throws {
        let base = try makeTemporaryDirectory("folders")
        defer { try? FileManager.default.removeItem(atPath: base) }
        func packError(_ input: String, _ output: String, patch: Int = 64) -> String {
            var options = PackOptions(input: input, output: output)
            options.patchSize = patch
            do {
                _ = try Packer(options).run()
                XCTFail("packed \(input) -> \(output)")
                return ""
            } catch {
                let text = String(describing: error)
                XCTAssertTrue(text.contains("HINT: "), text)
                return text
            }
        }
        XCTAssertTrue(packError(base + "/missing", base + "/o1").contains("input folder not found"))
        try FileManager.default.createDirectory(atPath: base + "/empty", withIntermediateDirectories: true)
        XCTAssertTrue(packError(base + "/empty", base + "/o2").contains("input folder is empty"))
        // A folder already holding another dataset: refused, its manifest untouched.
        var first = PackOptions(input: samplePhotos, output: base + "/packed")
        first.patchSize = 64
        _ = try Packer(first).run()
        let manifestBefore = FileManager.default.contents(atPath: base + "/packed/index.json")
        XCTAssertTrue(packError(samplePhotos, base + "/packed", patch: 32).contains("already holds a different packed dataset"))
        XCTAssertEqual(FileManager.default.contents(atPath: base + "/packed/index.json"), manifestBefore)
        // The same dataset again is fine (and identical).
        _ = try Packer(first).run()
        XCTAssertEqual(FileManager.default.contents(atPath: base + "/packed/index.json"), manifestBefore)
        // A folder of other files.
        try FileManager.default.createDirectory(atPath: base + "/documents", withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: base + "/documents/thesis.txt"))
        XCTAssertTrue(packError(samplePhotos, base + "/documents").contains("holds files that are not a packed dataset (thesis.txt)"))
        // Only images that are all too small.
        try FileManager.default.createDirectory(atPath: base + "/small", withIntermediateDirectories: true)
        try writePNG(base + "/small/a.png", width: 10, height: 10, bitDepth: 8, colorType: 0, samples: [UInt16](repeating: 1, count: 100))
        XCTAssertTrue(packError(base + "/small", base + "/o3").contains("no training patches"))
    }

    func testAbsurdImageIsRefusedAndThePackGoesOn() throws {
        let input = try makeTemporaryDirectory("absurd-in"), output = try makeTemporaryDirectory("absurd-out") + "/p"
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output) }
        try forgedPNG(width: 100_000, height: 100_000).write(to: URL(fileURLWithPath: input + "/huge.png"))
        try FileManager.default.copyItem(atPath: samplePhotos + "/camera.png", toPath: input + "/camera.png")
        var options = PackOptions(input: input, output: output)
        options.patchSize = 64
        let manifest = try Packer(options).run().manifest
        XCTAssertEqual(manifest.skipped.map(\.file), ["huge.png"])
        XCTAssertTrue(manifest.skipped[0].reason.contains("above the 100-megapixel limit (refused from its header)"))
        XCTAssertEqual(manifest.totalPatches, 64)
    }

    /// PNG and JPEG side by side: the JPEGs packed upright with Pillow's pixels (within the
    /// tolerance of docs/jpeg.md), CMYK, truncated and bomb JPEGs named and skipped.
    func testPacksAMixedFolderOfPNGAndJPEG() throws {
        let input = try makeTemporaryDirectory("mixed-in"), output = try makeTemporaryDirectory("mixed-out") + "/p"
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output) }
        for name in ["camera.png", "chelsea.png"] { try FileManager.default.copyItem(atPath: samplePhotos + "/" + name, toPath: input + "/" + name) }
        let jpegs = ["baseline.jpg", "progressive.jpg", "gray.jpg", "orientation-6.jpg", "odd-size.jpg", "cmyk.jpg"]
        for name in jpegs { try FileManager.default.copyItem(atPath: jpegFixtures + "/" + name, toPath: input + "/" + name) }
        let baseline = [UInt8](try Data(contentsOf: URL(fileURLWithPath: jpegFixtures + "/baseline.jpg")))
        try Data(baseline.prefix(baseline.count * 2 / 3)).write(to: URL(fileURLWithPath: input + "/cut.jpeg"))
        try Data(withDeclaredSize(baseline, width: 20000, height: 20000)).write(to: URL(fileURLWithPath: input + "/bomb.JPG"))
        var options = PackOptions(input: input, output: output)
        options.patchSize = 16
        options.patchesPerBlock = 4
        var warnings: [String] = []
        let manifest = try Packer(options).run(warn: { warnings.append($0) }).manifest
        XCTAssertEqual(manifest.skipped.map(\.file), ["bomb.JPG", "cmyk.jpg", "cut.jpeg"])
        XCTAssertTrue(manifest.skipped[0].reason.contains("20000x20000 is above the 100-megapixel limit (refused from its header)"))
        XCTAssertTrue(manifest.skipped[1].reason.contains("CMYK"))
        XCTAssertTrue(manifest.skipped[2].reason.contains("truncated JPEG"))
        XCTAssertEqual(warnings.count, 3, "\(warnings)")
        XCTAssertTrue(warnings.contains { $0.hasPrefix("warning: skipped \(input)/cut.jpeg: truncated JPEG") }, "\(warnings)")
        let rotated = try XCTUnwrap(manifest.sources.first { $0.file == "orientation-6.jpg" })
        XCTAssertEqual([rotated.width, rotated.height, rotated.bitDepth, rotated.colorType], [24, 40, 8, 2])
        XCTAssertEqual(rotated.format, .jpeg)
        XCTAssertEqual(manifest.sources.first { $0.file == "gray.jpg" }?.colorType, 0)
        XCTAssertEqual(manifest.sources.first { $0.file == "camera.png" }?.format, .png)

        let dataset = try PackedDataset(directory: output)
        var next = 0, block: [UInt8] = []
        for source in manifest.sources {
            let (image, _) = try ImageFile.read(input + "/" + source.file)
            let pillow = PillowJPEG.all[source.file].map { RGBImage(width: $0.width, height: $0.height, pixels: $0.pixels) }
            XCTAssertEqual(pillow == nil, source.format == .png, source.file)
            for y in stride(from: 0, through: image.height - 16, by: 16) {
                for x in stride(from: 0, through: image.width - 16, by: 16) {
                    let packed = try dataset.patch(next, using: &block)
                    XCTAssertEqual(packed, image.crop(x: x, y: y, width: 16, height: 16).pixels, "\(source.file) (\(x),\(y))")
                    if let pillow {
                        XCTAssertLessThanOrEqual(differences(packed, pillow.crop(x: x, y: y, width: 16, height: 16).pixels).max,
                                                 jpegMaxDifference, "\(source.file) (\(x),\(y)) vs Pillow")
                    }
                    next += 1
                }
            }
        }
        XCTAssertEqual(next, dataset.patchCount)
        try dataset.verify()
    }
}

// The colourising mode's data: CIE L*a*b* against the PyTorch fixture, whole-image packs (gray
// photos left out), old manifests still loading, and the stream's L* input.

import Foundation
import SRCore
import SRData
import XCTest

final class ColorizeDataTests: XCTestCase {
    func testLabMatchesThePyTorchFixture() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: dataFixtures + "/lab.json"))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: [Double]]
        let rgb = object["rgb"]!, lab = object["lab"]!
        XCTAssertEqual(rgb.count, 3 * 32)
        for i in 0..<(rgb.count / 3) {
            let (l, a, b) = Lab.fromSRGB(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2])
            XCTAssertEqual(l, lab[3 * i], accuracy: 1e-9, "L* of \(rgb[(3 * i)..<(3 * i + 3)])")
            XCTAssertEqual(a, lab[3 * i + 1], accuracy: 1e-9, "a* of \(rgb[(3 * i)..<(3 * i + 3)])")
            XCTAssertEqual(b, lab[3 * i + 2], accuracy: 1e-9, "b* of \(rgb[(3 * i)..<(3 * i + 3)])")
            XCTAssertEqual(Lab.lightness(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]), l, accuracy: 1e-9)
        }
    }

    func testNetworkInputIsLightnessScaledToMinusOneOne() {
        var image = RGBImage(width: 3, height: 1)
        image.pixels = [0, 0, 0, 255, 255, 255, 200, 30, 90]
        let input = Lab.networkInput(image)
        XCTAssertEqual(input[0], -1, accuracy: 1e-6)
        XCTAssertEqual(input[1], 1, accuracy: 1e-5)
        XCTAssertEqual(Double(input[2]), Lab.lightness(200.0 / 255, 30.0 / 255, 90.0 / 255) / 50 - 1, accuracy: 1e-6)
        let planar: [Float] = [0, 1, 200.0 / 255, 0, 1, 30.0 / 255, 0, 1, 90.0 / 255]
        var out = [Float](repeating: 0, count: 3)
        planar.withUnsafeBufferPointer { source in out.withUnsafeMutableBufferPointer { Lab.networkInput(source.baseAddress!, $0.baseAddress!, plane: 3) } }
        for i in 0..<3 { XCTAssertEqual(out[i], input[i], accuracy: 1e-5) }
    }

    func testWholeImageResizesTheShorterSideAndCropsTheCentre() throws {
        let (photo, _) = try PNG.read(samplePhotos + "/chelsea.png")   // 451 x 300
        let item = WholeImage.resized(photo, side: 64)
        XCTAssertEqual([item.width, item.height], [64, 64])
        // The same as resizing by 64/300 and cutting the middle 64 columns of the 97.
        let resizer = BicubicResizer(inHeight: 300, inWidth: 451, scale: 64.0 / 300)
        XCTAssertEqual(resizer.outHeight, 64)
        let full = PlanarImage(width: resizer.outWidth, height: 64, values: resizer.resize(PlanarImage(photo).values, channels: 3)).rgb8
        XCTAssertEqual(item, full.crop(x: (resizer.outWidth - 64) / 2, y: 0, width: 64, height: 64))
        // A side whose ratio rounds up in floating point still gives exactly `side`.
        for shorter in [300, 301, 333, 999, 1411] {
            var image = RGBImage(width: shorter + 7, height: shorter)
            image.pixels = (0..<image.pixels.count).map { UInt8($0 % 251) }
            XCTAssertEqual(WholeImage.resized(image, side: 48).width, 48, "\(shorter)")
        }
    }

    func testWholeImagePackSkipsGrayPhotosAndValidatesOnResizedSquares() throws {
        let output = try makeTemporaryDirectory("whole") + "/packed"
        defer { try? FileManager.default.removeItem(atPath: (output as NSString).deletingLastPathComponent) }
        var options = PackOptions(input: samplePhotos, output: output)
        options.patchSize = 64
        options.sampling = .whole
        options.skipGray = true
        options.validationImages = 2
        let summary = try Packer(options).run()
        let manifest = summary.manifest
        XCTAssertEqual(manifest.parameters.mode, "whole")
        XCTAssertTrue(manifest.parameters.skipGray)
        let gray = ["brick.png", "camera.png", "grass.png", "gravel.png"]
        XCTAssertEqual(manifest.skipped.map(\.file), gray)
        XCTAssertTrue(manifest.skipped.allSatisfy { $0.reason.contains("grayscale") })
        XCTAssertEqual(manifest.validation.count, 2)
        XCTAssertEqual(manifest.totalPatches, 8 - 2, "one item per colour photo not held out")
        let dataset = try PackedDataset(directory: output)
        XCTAssertEqual(dataset.patchSize, 64)
        var block: [UInt8] = []
        let trained = manifest.sources.filter { $0.split == "train" }.map(\.file)
        for (index, file) in trained.enumerated() {
            let (shard, b, within) = dataset.locate(index)
            try dataset.shards[shard].readBlock(b, into: &block)
            let (photo, _) = try PNG.read(samplePhotos + "/" + file)
            XCTAssertEqual(Array(block[(within * 64 * 64 * 3)..<((within + 1) * 64 * 64 * 3)]), WholeImage.resized(photo, side: 64).pixels, file)
        }
        for path in manifest.validation {
            let (image, _) = try PNG.read(output + "/" + path)
            XCTAssertEqual([image.width, image.height], [64, 64], path)
            XCTAssertFalse(image.isGray, path)
        }
    }

    func testManifestsWrittenBeforeSkipGrayStillLoad() throws {
        let old = #"{"crops_per_image":0,"max_megapixels":100,"mode":"grid","patch_size":96,"patches_per_block":16,"seed":0,"shard_bytes":67108864,"stride":96,"validation_images":0}"#
        let parameters = try JSONDecoder().decode(PackParameters.self, from: Data(old.utf8))
        XCTAssertFalse(parameters.skipGray)
        XCTAssertFalse(parameters.wholeImages)
        XCTAssertEqual(parameters.patchSize, 96)
    }

    func testLightnessStreamGivesOneChannelOfTheBicubicLR() throws {
        let output = try makeTemporaryDirectory("whole-stream") + "/packed"
        defer { try? FileManager.default.removeItem(atPath: (output as NSString).deletingLastPathComponent) }
        var options = PackOptions(input: samplePhotos, output: output)
        options.patchSize = 32
        options.sampling = .whole
        options.skipGray = true
        _ = try Packer(options).run()
        let dataset = try PackedDataset(directory: output)
        var streamOptions = StreamOptions(batchSize: 3, seed: 2, scale: 4)
        streamOptions.lightnessLR = true
        let colour = try BatchMaker(dataset: dataset, options: StreamOptions(batchSize: 3, seed: 2, scale: 4)).batch(at: StreamPosition(offset: 5))
        let gray = try BatchMaker(dataset: dataset, options: streamOptions).batch(at: StreamPosition(offset: 5))
        XCTAssertEqual(gray.lr.shape, [3, 1, 8, 8])
        XCTAssertEqual(gray.hr.toArray(), colour.hr.toArray(), "the colour target is unchanged")
        let plane = 64
        for i in 0..<3 {
            let rgb = Array(colour.lr.toArray()[(i * 3 * plane)..<((i + 1) * 3 * plane)])
            for k in 0..<plane {
                let l = Lab.lightness(Double(rgb[k]), Double(rgb[plane + k]), Double(rgb[2 * plane + k])) / 50 - 1
                XCTAssertEqual(Double(gray.lr[i * plane + k]), l, accuracy: 1e-6)
            }
        }
        XCTAssertGreaterThan(Set(gray.lr.toArray()).count, 20, "a real image, not a constant")
    }
}

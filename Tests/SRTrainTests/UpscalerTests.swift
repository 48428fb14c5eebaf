// Tiled super-resolution equals the untiled result up to float rounding.

import Foundation
import SRCore
import SRData
import SRModels
import SRTrain
import XCTest

final class UpscalerTests: XCTestCase {
    func model(globalSkip: Bool, batchNorm: Bool = true) throws -> TrainedModel {
        var config = try TrainConfig.preset("tiny", phase: .srresnet)
        config.generator = GeneratorConfig(channels: 8, residualBlocks: 2, scale: 4, batchNorm: batchNorm)
        config.globalSkip = globalSkip
        let generator = Generator(config.generator, seed: 3)
        // Running statistics away from 0/1, so inference-mode batch norm is a real affine map.
        generator.buffers.withValues { for i in $0.indices { $0[i] = 0.5 + 0.25 * Float(i % 7) / 7 } }
        return TrainedModel(SuperResolver(generator, globalSkip: config.globalSkip), file: "memory")
    }

    func image(width: Int, height: Int) -> PlanarImage {
        var rng = SeededRandom(seed: 9)
        // Smooth structure plus noise, like a photo.
        let values = (0..<(3 * width * height)).map { i -> Float in
            let x = Float(i % width), y = Float((i / width) % height)
            return 0.5 + 0.3 * sin(x / 5) * cos(y / 7) + 0.1 * Float(rng.next() % 1000) / 1000
        }
        return PlanarImage(width: width, height: height, values: values)
    }

    func maxDifference(_ a: PlanarImage, _ b: PlanarImage) -> Float {
        XCTAssertEqual([a.width, a.height], [b.width, b.height])
        return zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity
    }

    func testReceptiveRadiusOfThePaperGenerator() {
        XCTAssertEqual(Upscaler.receptiveRadius(GeneratorConfig()), 40)  // 4 + 32 + 1 + (1 + 1/2) + 1, rounded up
        XCTAssertEqual(Upscaler.receptiveRadius(GeneratorConfig(channels: 8, residualBlocks: 2, scale: 4)), 12)
    }

    func testTiledEqualsUntiledWithTheReceptiveRadiusAsOverlap() throws {
        for skip in [false, true] {
            let model = try model(globalSkip: skip)
            let lr = image(width: 53, height: 38)
            let whole = Upscaler(model: model, tile: 0).upscale(lr)
            var calls = 0
            let tiled = Upscaler(model: model, tile: 16).upscale(lr) { _, total in
                calls += 1
                XCTAssertEqual(total, 12)  // 4 x 3 tiles
            }
            XCTAssertEqual(calls, 12)
            XCTAssertEqual([tiled.width, tiled.height], [212, 152])
            XCTAssertLessThan(maxDifference(whole, tiled), 2e-5, "global skip \(skip)")
        }
    }

    func testTooLittleOverlapShowsAndTheBlendKeepsItSmall() throws {
        let model = try model(globalSkip: false, batchNorm: false)
        let lr = image(width: 40, height: 40)
        let whole = Upscaler(model: model, tile: 0).upscale(lr)
        let exact = Upscaler(model: model, tile: 10, overlap: 12).upscale(lr)
        let short = Upscaler(model: model, tile: 10, overlap: 1).upscale(lr)
        XCTAssertLessThan(maxDifference(whole, exact), 2e-5)
        // Without enough context the tiles differ from the whole image: the check can fail.
        XCTAssertGreaterThan(maxDifference(whole, short), 1e-4)
    }

    /// The streamed upscale (a band of tile rows at a time, issue 18 finding 3) equals the
    /// whole-image assembly bit for bit, for bands that do and do not divide the height, with and
    /// without the global skip, untiled too; and the bands arrive top to bottom, every row once.
    func testStreamedBandsEqualTheWholeImageBitForBit() throws {
        for (skip, tile, width, height) in [(false, 16, 53, 38), (true, 16, 53, 38), (true, 10, 31, 47), (false, 0, 21, 17), (true, 8, 20, 9)] {
            let upscaler = Upscaler(model: try model(globalSkip: skip), tile: tile)
            let lr = image(width: width, height: height)
            let whole = upscaler.upscaleWhole(lr)
            var streamed = [Float](repeating: .nan, count: whole.values.count)
            var row = 0, bands = 0
            let outWidth = width * 4, outPlane = outWidth * height * 4
            upscaler.upscaleInBands(lr) { band, rows in
                XCTAssertEqual(band.count, 3 * rows * outWidth)
                for c in 0..<3 {
                    for i in 0..<(rows * outWidth) { streamed[c * outPlane + row * outWidth + i] = band[c * rows * outWidth + i] }
                }
                row += rows
                bands += 1
            }
            XCTAssertEqual(row, height * 4)
            XCTAssertEqual(bands, tile == 0 ? 1 : (height + tile - 1) / tile)
            let same = zip(whole.values, streamed).allSatisfy { $0.bitPattern == $1.bitPattern }
            XCTAssertTrue(same, "skip \(skip), tile \(tile), \(width)x\(height): max difference \(zip(whole.values, streamed).map { abs($0 - $1) }.max()!)")
        }
    }

    /// The estimate counts the window, not the whole output: a 7000x7000 input at tile 192 is
    /// below 2.5 GB with this model, where the whole-image buffers alone took 12.5 GB.
    func testMemoryEstimateIsBoundedByTheWindow() throws {
        let upscaler = Upscaler(model: try model(globalSkip: false), tile: 192)
        let estimate = upscaler.memoryEstimate(width: 7000, height: 7000)
        XCTAssertEqual(estimate.parts.map(\.name), ["the decoded input", "tile activations", "the output window"])
        XCTAssertEqual(estimate.parts[0].bytes, 18 * 7000 * 7000)
        XCTAssertEqual(estimate.parts[2].bytes, (192 + 8) * 4 * 28000 * 40)
        XCTAssertLessThan(estimate.total, 2_500_000_000)
    }

    /// Validation runs an image above tile x tile LR pixels through the tiled Upscaler: the same
    /// SR pixels as the whole image up to one 8-bit level where float rounding straddles a half,
    /// so the metrics agree closely; an image within the tile stays whole, bit for bit.
    func testValidationTilesLargeImagesAndKeepsSmallOnesWhole() throws {
        for skip in [false, true] {
            let superResolver = try model(globalSkip: skip).superResolver
            let lr = image(width: 53, height: 38)
            let lrImage = Validation.image(lr.values, width: lr.width, height: lr.height)
            let whole = Validation.superResolve(superResolver, lrImage, tile: 0)
            let tiled = Validation.superResolve(superResolver, lrImage, tile: 16)   // 2014 LR pixels > 256: 4 x 3 tiles
            XCTAssertEqual([tiled.width, tiled.height], [212, 152])
            let levels = zip(whole.pixels, tiled.pixels).map { abs(Int($0) - Int($1)) }
            XCTAssertLessThanOrEqual(levels.max() ?? 99, 1, "global skip \(skip)")
            XCTAssertLessThan(Double(levels.filter { $0 != 0 }.count) / Double(levels.count), 0.01, "global skip \(skip)")
            XCTAssertEqual(Validation.superResolve(superResolver, lrImage, tile: 64), whole, "within the tile: whole")
            // metrics of a held-out image, tiled and whole
            let hr = Validation.image(image(width: 212, height: 152).values, width: 212, height: 152)
            let item = ValidationImage(name: "x.png", hr: hr)
            let a = try Validation.run(superResolver, images: [item], saveFolder: nil, saveCount: 0, tile: 0)
            let b = try Validation.run(superResolver, images: [item], saveFolder: nil, saveCount: 0, tile: 16)
            XCTAssertEqual(a.psnrBicubic, b.psnrBicubic)
            XCTAssertEqual(a.psnr, b.psnr, accuracy: 0.01, "global skip \(skip)")
            XCTAssertEqual(a.ssim, b.ssim, accuracy: 1e-4, "global skip \(skip)")
        }
    }
}

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
        for i in 0..<generator.buffers.count { generator.buffers.values[i] = 0.5 + 0.25 * Float(i % 7) / 7 }
        return TrainedModel(generator: generator, config: config, file: "memory")
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
}

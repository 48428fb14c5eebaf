// The generator's skip and output range (SRModels/SuperResolver.swift, GlobalSkip.swift): the
// whole-image call computes G(x) + 2 bicubic(x) - 1 mapped to [0,1] as the formula says, the
// untiled upscale gives the same bits, and a model file describes the model by itself.

import Foundation
import SRCore
import SRData
import SRModels
import SRTrain
import XCTest

final class SuperResolverTests: XCTestCase {
    func generator() -> Generator {
        let generator = Generator(GeneratorConfig(channels: 8, residualBlocks: 2, scale: 4, tailKernel: 3), seed: 5)
        generator.buffers.withValues { for i in $0.indices { $0[i] = 0.5 + 0.25 * Float(i % 7) / 7 } }
        return generator
    }

    func photo(width: Int, height: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for i in 0..<image.pixels.count { image.pixels[i] = UInt8((i * 37 + (i / 3) * 11) % 256) }
        return image
    }

    func testTheWholeImageCallIsTheSkipFormula() {
        let lr = photo(width: 13, height: 9)
        for skip in [false, true] {
            let model = SuperResolver(generator(), globalSkip: skip)
            let sr = model(lr)
            XCTAssertEqual(sr.shape, [1, 3, 36, 52])
            // By hand: G's output, plus 2 bicubic - 1 of the LR, then (x + 1) / 2.
            let planar = PlanarImage(lr).values
            let raw = model.generator.forward(Tensor(shape: [1, 3, 9, 13], values: planar), mode: .inference)
            let bicubic = BicubicResizer(inHeight: 9, inWidth: 13, scale: 4).resize(planar, channels: 3)
            var differing = 0
            for i in 0..<sr.count {
                var value = raw[i]
                if skip { value += 2 * bicubic[i] - 1 }
                if sr[i] != (value + 1) * 0.5 { differing += 1 }
            }
            XCTAssertEqual(differing, 0, "global skip \(skip)")
        }
    }

    func testTheUntiledUpscaleGivesTheWholeImageCallsBits() {
        let lr = photo(width: 21, height: 14)
        for skip in [false, true] {
            let model = SuperResolver(generator(), globalSkip: skip)
            let whole = model(lr)
            let upscaled = Upscaler(model: TrainedModel(model, file: "memory"), tile: 0).upscale(PlanarImage(lr))
            XCTAssertEqual(upscaled.values, whole.withUnsafePointer { Array(UnsafeBufferPointer(start: $0, count: whole.count)) },
                           "global skip \(skip)")
        }
    }

    func testAModelFileDescribesItsSkipWithoutTheRunConfig() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-superresolver-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lr = photo(width: 11, height: 10)
        for skip in [false, true] {
            let model = SuperResolver(generator(), globalSkip: skip)
            let file = folder + "/generator-\(skip).safetensors"
            try model.generator.save(to: file, metadata: model.metadata)   // no "config" entry
            let loaded = try TrainedModel.load(file)
            XCTAssertEqual(loaded.globalSkip, skip)
            XCTAssertEqual(loaded.generator.config, model.config)
            XCTAssertEqual(Validation.superResolve(loaded.superResolver, lr).pixels, Validation.superResolve(model, lr).pixels)
        }
        // Edited entries are one error each, with a hint.
        let model = SuperResolver(generator(), globalSkip: true)
        for (key, value, expected) in [("global_skip", "yes", "its 'global_skip' metadata is 'yes'"),
                                       ("generator", "{", "is not a generator configuration"),
                                       ("generator", model.metadata["generator"]!.replacingOccurrences(of: "\"tail_kernel\":3", with: "\"tail_kernel\":4"),
                                        "describes no valid generator: tail_kernel 4")] {
            let file = folder + "/edited.safetensors"
            try model.generator.save(to: file, metadata: model.metadata.merging([key: value]) { _, new in new })
            XCTAssertThrowsError(try TrainedModel.load(file)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
                XCTAssertTrue("\(error)".contains("HINT"), "\(error)")
            }
        }
    }
}

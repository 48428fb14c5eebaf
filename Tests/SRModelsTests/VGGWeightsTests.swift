import Foundation
import SRCore
import SRModels
import XCTest

final class VGGWeightsTests: XCTestCase {
    private func loadError(_ vgg: VGG19Features, _ path: String) -> String {
        do {
            try vgg.loadWeights(path: path)
            XCTFail("loaded \(path)")
            return ""
        } catch {
            let text = String(describing: error)
            XCTAssertTrue(text.contains("HINT: "), text)
            XCTAssertFalse(text.contains("\n"), text)
            return text
        }
    }

    func testLoadsTorchvisionNamedWeightsAndIgnoresLaterLayers() throws {
        // The phi5,4 file holds everything phi2,2 needs (and more): extra tensors are fine.
        let vgg = VGG19Features(layer: .phi22, widthDivisor: 16, seed: 5)
        try vgg.loadWeights(path: fixturePath("vgg54.safetensors"))
        let file = try SafetensorsFile(path: fixturePath("vgg54.safetensors"))
        XCTAssertEqual(vgg.parameters.value(vgg.parameters.slot(named: "features.7.bias")!).toArray(),
                       try file.floats("features.7.bias"))
    }

    func testMissingWrongAndForeignFilesAreRefusedClearly() throws {
        let vgg = VGG19Features(layer: .phi54, widthDivisor: 16)
        XCTAssertTrue(loadError(vgg, "/nonexistent/vgg19.safetensors").contains("VGG19 weights file not found"))
        XCTAssertTrue(loadError(vgg, "/tmp/vgg19-imagenet.pth").contains("a PyTorch pickle, not safetensors"))
        // Too few layers: the 12 convolutions past phi2,2 (weight and bias each) are missing.
        let missing = loadError(vgg, fixturePath("vgg22.safetensors"))
        XCTAssertTrue(missing.contains("24 missing (features.10.weight"), missing)
        // Wrong widths: shapes listed.
        let wider = VGG19Features(layer: .phi22, widthDivisor: 8)
        let shapes = loadError(wider, fixturePath("vgg22.safetensors"))
        XCTAssertTrue(shapes.contains("features.0.weight has shape [4, 3, 3, 3], expected [8, 3, 3, 3]"), shapes)
        // A generator file is not VGG19.
        XCTAssertTrue(loadError(vgg, fixturePath("generator.safetensors")).contains("missing (features.0.weight"))
    }
}

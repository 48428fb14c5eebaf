// The colourising mode end to end through the release binary, on tiny shapes: a whole-image
// pack of the sample photos (gray ones left out), the gan phase under mpirun -n 2 with exact
// resume and validation panels, and upscale --colorize on a gray and a colour photo.

import Foundation
import XCTest

final class ColorizeTests: XCTestCase {
    static var work = ""

    override class func setUp() {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-colorize-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        try! FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let photos = repository.appendingPathComponent("samples/photos").path
        let pack = try! runSRGANDist(["pack", "--input", photos, "--output", work + "/packed", "--whole-images", "64",
                                      "--skip-gray", "--val-images", "2"])
        precondition(pack.status == 0, pack.error)
        precondition(pack.error.contains("camera.png: grayscale"), pack.error)
        // Tiny networks: an 8-channel SRResNet with one block, a 4-channel U-Net, a 4-channel D.
        try! """
            generator: {channels: 8, residual_blocks: 1, colorizer: {base_channels: 4}}
            discriminator: {base_channels: 4, hidden: 16}
            """.write(toFile: work + "/tiny.yaml", atomically: true, encoding: .utf8)
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    var common: [String] {
        ["train", "--preset", "colorize", "--phase", "gan", "--config", Self.work + "/tiny.yaml", "--data", Self.work + "/packed",
         "--val", Self.work + "/packed", "--batch", "2", "--seed", "5", "--ema", "0.9", "--log-every", "1", "--validate-every", "2",
         "--watchdog", "120"]
    }

    func testTrainingRefusesAPackThatMayHoldGrayPhotos() throws {
        let photos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/photos").path
        let pack = try runSRGANDist(["pack", "--input", photos, "--output", Self.work + "/with-gray", "--whole-images", "32"])
        XCTAssertEqual(pack.status, 0, pack.error)
        XCTAssertTrue(pack.output.contains("packed 12 whole images of 32x32"), pack.output)
        let train = try runSRGANDist(["train", "--preset", "colorize", "--data", Self.work + "/with-gray", "--steps", "1",
                                      "--run", Self.work + "/refused"])
        XCTAssertNotEqual(train.status, 0)
        XCTAssertTrue(train.error.contains("\(Self.work)/with-gray: packed without --skip-gray"), train.error)
        XCTAssertTrue(train.error.contains("HINT:"), train.error)
        XCTAssertEqual(train.error.split(separator: "\n").count, 1, train.error)
    }

    func testTrainsUnderMPIResumesExactlyWritesPanelsAndUpscales() throws {
        let straight = Self.work + "/straight", split = Self.work + "/split"
        let whole = try runUnderMPI(ranks: 2, common + ["--steps", "4", "--checkpoint-every", "2", "--run", straight])
        XCTAssertEqual(whole.status, 0, whole.error)
        XCTAssertTrue(whole.output.contains("colorizing: U-Net depth 3, 4 channels, 3 out"), whole.output)
        XCTAssertTrue(whole.output.contains("[RGB vs colour-LR bicubic, 4-pixel border]; gray-LR bicubic"), whole.output)
        let first = try runUnderMPI(ranks: 2, common + ["--steps", "2", "--run", split])
        XCTAssertEqual(first.status, 0, first.error)
        let second = try runUnderMPI(ranks: 2, ["train", "--resume", "--run", split, "--steps", "4"])
        XCTAssertEqual(second.status, 0, second.error)
        XCTAssertTrue(second.output.contains("resuming from \(checkpointFolder(split, 2))"), second.output)
        for name in ["generator", "generator_ema", "discriminator", "training"] {
            let x = try tensorBytes("\(checkpointFolder(straight, 4))/\(name).safetensors")
            let y = try tensorBytes("\(checkpointFolder(split, 4))/\(name).safetensors")
            XCTAssertFalse(x.isEmpty, name)
            XCTAssertEqual(Set(x.keys), Set(y.keys), name)
            XCTAssertTrue(x.keys.contains { $0.hasPrefix("colorizer.") } || name != "generator", "the U-Net is in the checkpoint")
            for (key, bytes) in x where bytes != y[key] { XCTFail("\(name): \(key) differs after resume") }
        }
        XCTAssertEqual(try loggedLosses(straight), try loggedLosses(split))

        // Validation panels: the gray input, colour bicubic, the model and HR side by side.
        let samples = straight + "/samples/step-0000004"
        let panels = try FileManager.default.contentsOfDirectory(atPath: samples).filter { $0.hasSuffix(".panel.png") }
        XCTAssertEqual(panels.count, 2, "validation_samples of the preset")
        let panel = try pngHeader(samples + "/" + panels[0])
        XCTAssertEqual(panel.colorType, 2)
        XCTAssertGreaterThan(panel.width, 4 * 64)

        // upscale --colorize: a gray photo of a size the U-Net does not divide, and a colour one.
        let gray = Self.work + "/gray.png", colour = Self.work + "/colour.png"
        try writePNG(gray, width: 21, height: 13, bitDepth: 8, gray: true) { x, y, _ in (x * 11 + y * 7) % 256 }
        try writePNG(colour, width: 16, height: 16, bitDepth: 8, gray: false) { x, y, c in (x * 13 + y * 5 + c * 80) % 256 }
        for (input, size) in [(gray, (84, 52)), (colour, (64, 64))] {
            let out = input + ".x4.png"
            let result = try runSRGANDist(["upscale", "--checkpoint", straight, "--colorize", "--input", input, "--output", out])
            XCTAssertEqual(result.status, 0, result.error)
            let header = try pngHeader(out)
            XCTAssertEqual([header.width, header.height, header.colorType], [size.0, size.1, 2], input)
        }
        let validate = try runSRGANDist(["validate", "--checkpoint", straight, "--images", Self.work + "/packed", "--save", Self.work + "/panels"])
        XCTAssertEqual(validate.status, 0, validate.error)
        XCTAssertTrue(validate.output.contains("[RGB vs colour-LR bicubic, 4-pixel border]"), validate.output)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: Self.work + "/panels").count, 2)
        let missing = try runSRGANDist(["upscale", "--checkpoint", straight, "--input", gray, "--output", gray + ".no.png"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.error.contains("add --colorize"), missing.error)
    }
}

// Messages that misled (issue 18, finding 7), each checked on its text: the right option, the
// right cause, the file named, a line number for bad YAML. (upscale's --output messages are in
// HardeningUpscaleTests, serve's multipart answer in ServeTests.)

import Foundation
import XCTest

final class HardeningMessageTests: XCTestCase {
    var work: String { HardeningFixture.work }
    var photos: String { repository.appendingPathComponent("samples/photos").path }

    func folder(_ name: String) throws -> String {
        let path = work + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func testValidateNamesItsOwnPixelLimitOption() throws {
        let images = try folder("validate-big")
        try writePNG(images + "/big.png", width: 400, height: 300, bitDepth: 8, gray: false) { x, y, c in (x + y + c) % 256 }
        let result = try runSRGANDist(["validate", "--checkpoint", HardeningFixture.run, "--images", images, "--max-megapixels", "0.1"])
        let line = oneErrorLine(result)
        XCTAssertTrue(line.contains("\(images)/big.png: image is 400x300 = 120000 pixels, above the limit of 100000 pixels"), line)
        XCTAssertTrue(line.contains("HINT: raise --max-megapixels if the image is genuine"), line)
    }

    func testPackSaysWhyNothingIsLeftToTrainOn() throws {
        let count = try FileManager.default.contentsOfDirectory(atPath: photos).filter { $0.hasSuffix(".png") }.count
        let all = try runSRGANDist(["pack", "--input", photos, "--output", work + "/all-val", "--patch-size", "48", "--val-images", "\(count)"])
        let line = oneErrorLine(all)
        XCTAssertTrue(line.contains("no training images left: all \(count) usable image(s) were held out for validation (--val-images \(count))"), line)
        XCTAssertTrue(line.contains("HINT: lower --val-images below \(count)"), line)
        XCTAssertFalse(line.contains("smaller --patch-size"), line)
        // A 1x1 image alone in a folder: named, with its size.
        let tiny = try folder("tiny-photo")
        try writePNG(tiny + "/one.png", width: 1, height: 1, bitDepth: 8, gray: false) { _, _, _ in 7 }
        let alone = try runSRGANDist(["pack", "--input", tiny, "--output", work + "/tiny-packed", "--patch-size", "48"])
        let aloneLine = oneErrorLine(alone)
        XCTAssertTrue(aloneLine.contains("1 skipped (one.png: 1x1 is smaller than a 48x48 patch)"), aloneLine)
        let validate = try runSRGANDist(["validate", "--checkpoint", HardeningFixture.run, "--images", tiny])
        XCTAssertTrue(oneErrorLine(validate).contains("no usable PNG or JPEG images (one.png: 1x1 is smaller than 16x16 pixels)"), validate.error)
        // --input naming a file.
        let file = try runSRGANDist(["pack", "--input", tiny + "/one.png", "--output", work + "/file-packed"])
        let fileLine = oneErrorLine(file)
        XCTAssertTrue(fileLine.contains("\(tiny)/one.png: is a file, not a folder"), fileLine)
        XCTAssertFalse(fileLine.contains("not found"), fileLine)
    }

    func testTrainNamesTheRealCause() throws {
        let negative = try runSRGANDist(["train", "--preset", "tiny", "--data", HardeningFixture.packed, "--steps", "-5", "--run", work + "/neg"])
        let line = oneErrorLine(negative)
        XCTAssertTrue(line.contains("steps -5 is outside the valid range"), line)
        XCTAssertFalse(negative.error.contains("Missing value"), negative.error)
        let missing = try runSRGANDist(["train", "--preset", "tiny", "--data", work + "/no-such-data", "--run", work + "/nodata"])
        let missingLine = oneErrorLine(missing)
        XCTAssertTrue(missingLine.contains("\(work)/no-such-data: no such folder"), missingLine)
        XCTAssertFalse(missingLine.contains("interrupted"), missingLine)
        // Bad YAML: the line and column.
        try "steps: 5\nbatch: [2\nlr: 1e-4\n".write(toFile: work + "/bad.yaml", atomically: true, encoding: .utf8)
        let yaml = try runSRGANDist(["train", "--preset", "tiny", "--config", work + "/bad.yaml", "--data", HardeningFixture.packed, "--run", work + "/yaml"])
        let yamlLine = oneErrorLine(yaml)
        XCTAssertNotNil(yamlLine.range(of: "\(work)/bad.yaml:[0-9]+:[0-9]+: not valid YAML \\(", options: .regularExpression), yamlLine)
        XCTAssertTrue(yaml.error.contains("HINT: check the file's syntax there"), yaml.error)
    }

    /// A step-* folder without COMPLETE is named when it is skipped, not passed over in silence.
    func testACheckpointWithoutItsMarkerIsNamed() throws {
        let run = try HardeningFixture.copy(HardeningFixture.run, as: "no-marker")
        let newer = checkpointFolder(run, 9)
        try FileManager.default.copyItem(atPath: checkpointFolder(run, 6), toPath: newer)
        try FileManager.default.removeItem(atPath: newer + "/COMPLETE")
        let resume = try runSRGANDist(["train", "--resume", "--run", run, "--steps", "7"])
        XCTAssertEqual(resume.status, 0, resume.error)
        XCTAssertTrue(resume.error.contains("warning: skipping \(newer): no COMPLETE marker"), resume.error)
        XCTAssertTrue(resume.output.contains("resuming from \(checkpointFolder(run, 6)): step 6"), resume.output)
    }

    /// A truncated PNG: said to be truncated (not libpng's "Read Error"), and the counts agree.
    func testATruncatedPNGIsCalledTruncated() throws {
        let images = try folder("truncated")
        for name in try FileManager.default.contentsOfDirectory(atPath: photos) where name.hasSuffix(".png") {
            try FileManager.default.copyItem(atPath: photos + "/" + name, toPath: images + "/" + name)
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: images + "/brick.png"))
        try whole.prefix(20000).write(to: URL(fileURLWithPath: images + "/brick.png"))
        let pack = try runSRGANDist(["pack", "--input", images, "--output", work + "/truncated-packed", "--patch-size", "48"])
        XCTAssertEqual(pack.status, 0, pack.error)
        XCTAssertTrue(pack.error.contains("warning: skipped \(images)/brick.png: truncated: the file ends at byte 20000 before its image data does"), pack.error)
        XCTAssertFalse(pack.error.contains("Read Error"), pack.error)
        let usable = try FileManager.default.contentsOfDirectory(atPath: images).count - 1
        XCTAssertTrue(pack.output.contains("from \(usable) training images") && pack.output.contains("1 files skipped"), pack.output)
        // Every usable photo held out for validation besides: the counts name both.
        let all = try runSRGANDist(["pack", "--input", images, "--output", work + "/truncated-all", "--patch-size", "48", "--val-images", "\(usable)"])
        XCTAssertTrue(oneErrorLine(all).contains("all \(usable) usable image(s) were held out for validation (--val-images \(usable)); 1 skipped (brick.png: truncated"), all.error)
        let validate = try runSRGANDist(["validate", "--checkpoint", HardeningFixture.run, "--images", images])
        XCTAssertTrue(oneErrorLine(validate).contains("\(images)/brick.png: truncated: the file ends at byte 20000"), validate.error)
    }
}

// upscale never replaces its input by accident (issue 18, finding 1), and says what is wrong
// when --output is the wrong kind of path (finding 7).

import Foundation
import XCTest

final class HardeningUpscaleTests: XCTestCase {
    var run: String { HardeningFixture.run }

    func photo(_ path: String) throws -> Data {
        try writePNG(path, width: 20, height: 14, bitDepth: 8, gray: false) { x, y, c in (x * 11 + y * 5 + c * 70) % 256 }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    func testUpscaleRefusesToReplaceItsInput() throws {
        let folder = HardeningFixture.work + "/overwrite"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let original = try photo(folder + "/a.png")
        _ = try photo(folder + "/b.png")
        XCTAssertEqual(link(folder + "/a.png", folder + "/hard.png"), 0)
        try FileManager.default.createSymbolicLink(atPath: folder + "/soft.png", withDestinationPath: folder + "/a.png")
        // Same path, the same path spelled differently, a hard link, a symbolic link.
        for output in [folder + "/a.png", folder + "/./a.png", folder + "/../overwrite/a.png", folder + "/hard.png", folder + "/soft.png"] {
            let result = try runSRGANDist(["upscale", "--checkpoint", run, "--input", folder + "/a.png", "--output", output])
            let line = oneErrorLine(result)
            XCTAssertTrue(line.contains("\(output): would replace the input \(folder)/a.png"), line)
            XCTAssertTrue(result.error.contains("HINT: choose another --output, or add --overwrite-input"), result.error)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/a.png")), original, output)
        }
        // A relative input against an absolute output of the same file.
        let relative = try runProgramIn(folder, ["upscale", "--checkpoint", run, "--input", "a.png", "--output", folder + "/a.png"])
        XCTAssertTrue(oneErrorLine(relative).contains("would replace the input a.png"), relative.error)
        // Folder mode: the output folder is the input folder (a.png -> a.png), or holds a link to an input.
        let inPlace = try runSRGANDist(["upscale", "--checkpoint", run, "--input", folder, "--output", folder])
        XCTAssertTrue(oneErrorLine(inPlace).contains("would replace the input"), inPlace.error)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/a.png")), original)
        XCTAssertEqual(try pngHeader(folder + "/b.png").width, 20, "nothing in the folder was replaced")
        let other = HardeningFixture.work + "/overwrite-out"
        try? FileManager.default.removeItem(atPath: other)
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        XCTAssertEqual(link(folder + "/b.png", other + "/b.png"), 0)
        let linked = try runSRGANDist(["upscale", "--checkpoint", run, "--input", folder, "--output", other])
        XCTAssertTrue(oneErrorLine(linked).contains("\(other)/b.png: would replace the input \(folder)/b.png"), linked.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: other + "/a.png"), "refused before any image was written")
        // Asked for explicitly, it is done.
        let asked = try runSRGANDist(["upscale", "--checkpoint", run, "--input", folder + "/a.png", "--output", folder + "/a.png", "--overwrite-input"])
        XCTAssertEqual(asked.status, 0, asked.error)
        XCTAssertEqual(try pngHeader(folder + "/a.png").width, 80)
    }

    /// A file input with a folder as --output, a folder input with a file as --output.
    func testOutputOfTheWrongKindIsNamed() throws {
        let folder = HardeningFixture.work + "/kinds"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder + "/in", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/existing", withIntermediateDirectories: true)
        _ = try photo(folder + "/in/a.png")
        let toFolder = try runSRGANDist(["upscale", "--checkpoint", run, "--input", folder + "/in/a.png", "--output", folder + "/existing"])
        let line = oneErrorLine(toFolder)
        XCTAssertTrue(line.contains("\(folder)/existing: is a folder, but the input is one file"), line)
        XCTAssertTrue(line.contains("HINT: pass --output FOLDER/NAME.png"), line)
        XCTAssertFalse(line.contains("permissions"), line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/existing"), [], "no temporary left behind")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["existing", "in"])
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/file.png"))
        let toFile = try runSRGANDist(["upscale", "--checkpoint", run, "--input", folder + "/in", "--output", folder + "/file.png"])
        let fileLine = oneErrorLine(toFile)
        XCTAssertTrue(fileLine.contains("\(folder)/file.png: is a file, but the input is a folder"), fileLine)
        XCTAssertTrue(fileLine.contains("HINT: pass --output a new or existing folder"), fileLine)
        XCTAssertFalse(toFile.error.contains("NSCocoaErrorDomain"), toFile.error)
    }

    /// A 3000x3000 input under a memory limit: one error naming the size and what to lower, not an
    /// abort in the middle (issue 18, finding 3). Untiled it needs far more than any limit; tiled,
    /// the limit is set below what even the streamed upscale needs.
    func testTooLittleMemoryIsOneErrorNotAnAbort() throws {
        let big = HardeningFixture.work + "/big3000.png"
        if !FileManager.default.fileExists(atPath: big) {
            try writePNG(big, width: 3000, height: 3000, bitDepth: 8, gray: true) { x, y, _ in (x * 7 + y) % 256 }
        }
        for (tile, limitKB) in [("0", 4_000_000), ("192", Self.limitBelowTheTiledUpscaleKB)] {
            let output = HardeningFixture.work + "/big3000-x4.png"
            let result = try runProgram("/bin/sh", ["-c", "ulimit -v \(limitKB) && MALLOC_ARENA_MAX=2 OPENBLAS_NUM_THREADS=1 exec \"$0\" \"$@\"", srganDistBinary, "upscale",
                                                    "--checkpoint", run, "--input", big, "--output", output, "--tile", tile, "--threads", "1"])
            let line = oneErrorLine(result)
            XCTAssertTrue(line.contains("\(big): upscaling this 3000x3000 image needs about"), "tile \(tile): \(line)")
            XCTAssertTrue(line.contains("more memory than can be allocated. HINT: lower --tile (now \(tile)"), "tile \(tile): \(line)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        }
    }

    /// Enough for the process and the model (with malloc's per-thread arenas capped by
    /// MALLOC_ARENA_MAX below), not for the tiled upscale of a 3000x3000 image (about 1.8 GB).
    static let limitBelowTheTiledUpscaleKB = 1_300_000
}

/// srgan-dist run from `directory` (for relative paths).
func runProgramIn(_ directory: String, _ arguments: [String]) throws -> CommandResult {
    let previous = FileManager.default.currentDirectoryPath
    FileManager.default.changeCurrentDirectoryPath(directory)
    defer { FileManager.default.changeCurrentDirectoryPath(previous) }
    return try runSRGANDist(arguments)
}

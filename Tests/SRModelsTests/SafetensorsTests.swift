import Foundation
import SRCore
import SRModels
import XCTest

final class SafetensorsTests: XCTestCase {
    func testGeneratorRoundTripGivesIdenticalBytesAndValues() throws {
        let directory = try temporaryDirectory("roundtrip")
        defer { try? FileManager.default.removeItem(at: directory) }
        let generator = Generator(GeneratorConfig(channels: 8, residualBlocks: 2, scale: 4), seed: 3)
        generator.batchNorms[0].numBatchesTracked = 17
        let first = directory.appendingPathComponent("g1.safetensors").path
        try generator.save(to: first, metadata: ["network": "generator"])
        // For the PyTorch side of the check (Fixtures/check_load.py): keep a copy when asked.
        if let keep = ProcessInfo.processInfo.environment["SRGAN_DIST_INTEROP_DIR"] {
            try? FileManager.default.removeItem(atPath: keep + "/generator_from_swift.safetensors")
            try FileManager.default.copyItem(atPath: first, toPath: keep + "/generator_from_swift.safetensors")
        }
        let copy = Generator(GeneratorConfig(channels: 8, residualBlocks: 2, scale: 4), seed: 99)
        let file = try SafetensorsFile(path: first)
        XCTAssertEqual(file.metadata["network"], "generator")
        try copy.load(from: file)
        XCTAssertEqual(copy.batchNorms[0].numBatchesTracked, 17)
        XCTAssertEqual(copy.parameters.withValues { Array($0) }, generator.parameters.withValues { Array($0) })
        let second = directory.appendingPathComponent("g2.safetensors").path
        try copy.save(to: second, metadata: ["network": "generator"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first)), try Data(contentsOf: URL(fileURLWithPath: second)))
        // The buffer starts 8-byte aligned, as the reference writer arranges.
        let headerLength = try Data(contentsOf: URL(fileURLWithPath: first)).prefix(8).enumerated()
            .reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        XCTAssertEqual(headerLength % 8, 0)
    }

    func testReadsF16AndBF16() throws {
        // Hand-built file: F16 [1.5, -2] and BF16 [3.0] (bf16 0x4040), contiguous.
        var header = "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]}}"
        while (header.utf8.count % 8) != 0 { header += " " }
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        for half: UInt16 in [Float16(1.5).bitPattern, Float16(-2).bitPattern, 0x4040] {
            withUnsafeBytes(of: half.littleEndian) { data.append(contentsOf: $0) }
        }
        let directory = try temporaryDirectory("half")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("h.safetensors").path
        try data.write(to: URL(fileURLWithPath: path))
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(try file.floats("a"), [1.5, -2])
        XCTAssertEqual(try file.floats("b"), [3])
    }

    /// Writes `data` and returns the error reading it gives (failing if it reads fine).
    private func readError(_ data: Data, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws -> ModelFileError? {
        let directory = try temporaryDirectory(label)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("\(label).safetensors").path
        try data.write(to: URL(fileURLWithPath: path))
        do {
            _ = try SafetensorsFile(path: path)
            XCTFail("\(label): a broken file was accepted", file: file, line: line)
            return nil
        } catch let error as ModelFileError {
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description, file: file, line: line)
            XCTAssertTrue(error.description.contains("HINT: "), file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "one line", file: file, line: line)
            return error
        }
    }

    private func file(header: String, buffer: Int) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        data.append(Data(count: buffer))
        return data
    }

    func testBrokenFilesGetOneClearLine() throws {
        let good = try Data(contentsOf: URL(fileURLWithPath: fixturePath("generator.safetensors")))
        XCTAssertTrue(try readError(good.prefix(good.count - 100), "truncated")!.problem.contains("past the end"))
        XCTAssertTrue(try readError(good.prefix(5), "tiny")!.problem.contains("shorter than the 8-byte header length"))
        var longHeader = good
        longHeader.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(good.count).littleEndian) { Data($0) })
        XCTAssertTrue(try readError(longHeader, "header-length")!.problem.contains("runs past the end"))
        var hugeHeader = good
        hugeHeader.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64.max.littleEndian) { Data($0) })
        XCTAssertTrue(try readError(hugeHeader, "huge-header")!.problem.contains("beyond"))
        let overlap = file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", buffer: 12)
        XCTAssertTrue(try readError(overlap, "overlap")!.problem.contains("overlaps"))
        let wrongDtype = file(header: "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", buffer: 8)
        XCTAssertTrue(try readError(wrongDtype, "dtype")!.problem.contains("unknown dtype F33"))
        let sizeMismatch = file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", buffer: 8)
        XCTAssertTrue(try readError(sizeMismatch, "size")!.problem.contains("needs 12 bytes"))
        let hole = file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", buffer: 8)
        XCTAssertTrue(try readError(hole, "hole")!.problem.contains("belong to no tensor"))
        let notJSON = file(header: "{not json", buffer: 0)
        XCTAssertTrue(try readError(notJSON, "json")!.problem.contains("not a JSON object"))
        let badShape = file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", buffer: 4)
        XCTAssertTrue(try readError(badShape, "shape")!.problem.contains("shape"))
        XCTAssertTrue(try readError(Data("version https://git-lfs.github.com/spec/v1\noid sha256:abc\n".utf8), "lfs")!.problem.contains("git-lfs pointer"))
    }

    func testLoadingAnotherNetworkShapeListsWhatDiffers() throws {
        let file = try SafetensorsFile(path: fixturePath("generator.safetensors"))
        let wider = Generator(GeneratorConfig(channels: 32, residualBlocks: 3, scale: 4), seed: 1)
        XCTAssertThrowsError(try wider.load(from: file)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("head.weight has shape [16, 3, 9, 9], expected [32, 3, 9, 9]"), text)
            XCTAssertTrue(text.contains("missing (body.2.conv1.weight"), text)
            XCTAssertTrue(text.contains("37 with another shape"), text)  // 2 blocks x 11 + 8 + 6 + tail.weight
            XCTAssertTrue(text.contains("13 missing"), text)  // block 2: 7 parameters, 4 statistics, 2 counters
            XCTAssertTrue(text.contains("Generator(3 blocks, 32 channels, x4)"), text)
        }
        let discriminator = Discriminator(DiscriminatorConfig(patchSize: 32, baseChannels: 8, hidden: 32), seed: 1)
        XCTAssertThrowsError(try discriminator.load(from: file)) { error in
            XCTAssertTrue(String(describing: error).contains("unexpected (body.0.act.weight, body.0.bn1.bias"), String(describing: error))
        }
    }
}

import Foundation
import SRData
import XCTest

final class CorruptionTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("corrupt") + "/packed"
        var options = PackOptions(input: samplePhotos, output: directory)
        options.patchSize = 64
        options.patchesPerBlock = 8
        _ = try Packer(options).run()
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }

    private var shardPath: String { directory + "/shard-00000.srs" }

    private func error(_ body: () throws -> Void) -> String {
        do {
            try body()
            XCTFail("no error")
            return ""
        } catch {
            let text = String(describing: error)
            XCTAssertTrue(text.contains("HINT: "), text)
            XCTAssertFalse(text.contains("\n"), text)
            return text
        }
    }

    private func modifyShard(_ change: (inout Data) -> Void) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: shardPath))
        change(&data)
        try data.write(to: URL(fileURLWithPath: shardPath))
    }

    func testTruncatedShard() throws {
        try modifyShard { $0 = $0.prefix($0.count - 50) }
        let text = error { _ = try PackedDataset(directory: directory) }
        XCTAssertTrue(text.hasPrefix(shardPath), text)
        XCTAssertTrue(text.contains("but the manifest says"), text)
        // Even without the manifest's size check, the shard's own index catches it.
        XCTAssertTrue(error { _ = try ShardFile(path: shardPath, expected: nil, patchSize: nil) }.contains("truncated?"))
    }

    func testFlippedBitInABlockNamesTheBlockAndOffset() throws {
        let dataset = try PackedDataset(directory: directory)
        let block = dataset.shards[0].blocks[3]
        try modifyShard { $0[block.offset + 100] ^= 0x10 }
        let reopened = try PackedDataset(directory: directory)  // header and index are intact
        var bytes: [UInt8] = []
        let text = error { try reopened.shards[0].readBlock(3, into: &bytes) }
        XCTAssertTrue(text.contains("block 3 at byte offset \(block.offset): checksum mismatch"), text)
        XCTAssertTrue(error { try reopened.verify() }.contains("block 3 at byte offset \(block.offset)"))
        // The streaming reader hands the same error to training instead of wrong patches.
        var options = StreamOptions(batchSize: 8)
        options.augment = false
        let stream = PatchStream(dataset: reopened, options: options)
        var seen = 0
        let streamError = error { while true { _ = try stream.next(); seen += 1 } }
        XCTAssertTrue(streamError.contains("block 3 at byte offset"), streamError)
        XCTAssertLessThan(seen, reopened.stepsPerEpochForOneRank(batch: 8))
    }

    func testDamagedHeaderAndIndex() throws {
        try modifyShard { $0[13] ^= 1 }  // patch size byte
        XCTAssertTrue(error { _ = try PackedDataset(directory: directory) }.contains("header checksum mismatch"))
        try modifyShard { $0[13] ^= 1; $0[$0.count - 3] ^= 0x40 }  // restore, then hit the index
        XCTAssertTrue(error { _ = try PackedDataset(directory: directory) }.contains("block index checksum mismatch at byte offset"))
        try modifyShard { $0[0] = UInt8(ascii: "X") }
        XCTAssertTrue(error { _ = try PackedDataset(directory: directory) }.contains("bad magic at byte offset 0"))
    }

    func testManifestThatDisagreesWithItsShards() throws {
        let path = directory + "/index.json"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let patches = try PackedDataset(directory: directory).patchCount
        try original.replacingOccurrences(of: "\"patches\" : \(patches)", with: "\"patches\" : \(patches + 1)")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let text = error { _ = try PackedDataset(directory: directory) }
        XCTAssertTrue(text.contains("holds \(patches) patches") && text.contains("manifest says \(patches + 1)"), text)
        try FileManager.default.removeItem(atPath: path)
        XCTAssertTrue(error { _ = try PackedDataset(directory: directory) }.contains("no manifest"))
        try "{\"format\": 3".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertTrue(error { _ = try PackedDataset(directory: directory) }.contains("not a valid manifest"))
    }
}

extension PackedDataset {
    func stepsPerEpochForOneRank(batch: Int) -> Int { (patchCount + batch - 1) / batch }
}

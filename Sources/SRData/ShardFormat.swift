// The shard file format, version 1 (docs/shard-format.md is the specification). Little-endian.
//
//   0   8  magic "SRGSHARD"
//   8   4  format version (1)
//  12   4  patch size P (pixels per side)
//  16   4  channels C (3)
//  20   4  patches per block K (the last block may hold fewer)
//  24   8  patch count
//  32   8  block count
//  40   8  index offset (from the start of the file)
//  48   4  CRC-32 of the block index
//  52   4  CRC-32 of bytes 0..<52
//  56   8  reserved, zero
//  64      blocks, back to back: each the LZ4 block compression of its patches, P*P*C bytes per
//          patch, row-major interleaved RGB (as decoded from PNG)
//  index   one 24-byte entry per block: u64 offset, u32 compressed bytes, u32 patches,
//          u32 CRC-32 of the compressed bytes, u32 CRC-32 of the uncompressed bytes
// The file ends right after the index.

import Foundation

public enum ShardFormat {
    public static let magic: [UInt8] = Array("SRGSHARD".utf8)
    public static let version: UInt32 = 1
    public static let headerBytes = 64
    public static let indexEntryBytes = 24
    public static let fileExtension = "srs"
}

public struct ShardHeader: Equatable, Sendable {
    public var patchSize: Int
    public var channels: Int
    public var patchesPerBlock: Int
    public var patchCount: Int
    public var blockCount: Int
    public var indexOffset: Int
    public var indexCRC: UInt32

    public var patchBytes: Int { patchSize * patchSize * channels }

    public func encoded() -> [UInt8] {
        var bytes = ShardFormat.magic
        bytes.appendLE(ShardFormat.version)
        bytes.appendLE(UInt32(patchSize))
        bytes.appendLE(UInt32(channels))
        bytes.appendLE(UInt32(patchesPerBlock))
        bytes.appendLE(UInt64(patchCount))
        bytes.appendLE(UInt64(blockCount))
        bytes.appendLE(UInt64(indexOffset))
        bytes.appendLE(indexCRC)
        bytes.appendLE(CRC32.of(bytes))
        bytes += [UInt8](repeating: 0, count: ShardFormat.headerBytes - bytes.count)
        return bytes
    }

    /// Parses and checks a header; `problem` names what is wrong.
    public static func decode(_ bytes: [UInt8]) -> (ShardHeader?, String?) {
        guard bytes.count >= ShardFormat.headerBytes else {
            return (nil, "file is \(bytes.count) bytes, shorter than the \(ShardFormat.headerBytes)-byte header")
        }
        guard Array(bytes[0..<8]) == ShardFormat.magic else { return (nil, "bad magic at byte offset 0: not a srgan-dist shard") }
        let version = bytes.readLE(UInt32.self, at: 8)
        guard version == ShardFormat.version else {
            return (nil, "format version \(version) at byte offset 8; this build reads version \(ShardFormat.version)")
        }
        guard CRC32.of(Array(bytes[0..<52])) == bytes.readLE(UInt32.self, at: 52) else {
            return (nil, "header checksum mismatch (bytes 0..<52)")
        }
        // Every field is checked before it is used as a count or an offset (a header with a
        // recomputed checksum is still outside input).
        let limit = UInt64(1) << 48
        let fields: [(name: String, offset: Int, value: UInt64, range: ClosedRange<UInt64>)] = [
            ("patch size", 12, UInt64(bytes.readLE(UInt32.self, at: 12)), 1...65536),
            ("channels", 16, UInt64(bytes.readLE(UInt32.self, at: 16)), 1...4),
            ("patches per block", 20, UInt64(bytes.readLE(UInt32.self, at: 20)), 1...65536),
            ("patch count", 24, bytes.readLE(UInt64.self, at: 24), 0...limit),
            ("block count", 32, bytes.readLE(UInt64.self, at: 32), 0...limit),
            ("index offset", 40, bytes.readLE(UInt64.self, at: 40), 0...limit),
        ]
        if let bad = fields.first(where: { !$0.range.contains($0.value) }) {
            return (nil, "\(bad.name) \(bad.value) at byte offset \(bad.offset) is out of range (\(bad.range.lowerBound) to \(bad.range.upperBound))")
        }
        let header = ShardHeader(
            patchSize: Int(fields[0].value), channels: Int(fields[1].value), patchesPerBlock: Int(fields[2].value),
            patchCount: Int(fields[3].value), blockCount: Int(fields[4].value), indexOffset: Int(fields[5].value),
            indexCRC: bytes.readLE(UInt32.self, at: 48))
        return (header, nil)
    }
}

public struct ShardBlock: Equatable, Sendable {
    public var offset: Int
    public var compressedBytes: Int
    public var patches: Int
    public var compressedCRC: UInt32
    public var uncompressedCRC: UInt32

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLE(UInt64(offset))
        bytes.appendLE(UInt32(compressedBytes))
        bytes.appendLE(UInt32(patches))
        bytes.appendLE(compressedCRC)
        bytes.appendLE(uncompressedCRC)
        return bytes
    }

    static func decode(_ bytes: [UInt8], at start: Int) -> ShardBlock {
        ShardBlock(offset: Int(truncatingIfNeeded: bytes.readLE(UInt64.self, at: start)),  // checked against the layout by ShardFile
                   compressedBytes: Int(bytes.readLE(UInt32.self, at: start + 8)),
                   patches: Int(bytes.readLE(UInt32.self, at: start + 12)), compressedCRC: bytes.readLE(UInt32.self, at: start + 16),
                   uncompressedCRC: bytes.readLE(UInt32.self, at: start + 20))
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    func readLE<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(self[offset + i]) << (8 * i) }
        return value
    }
}

// CRC-32 (the zlib/PNG polynomial) through zlib: checksums of shard blocks, block indexes and
// whole shard files.

import CZlib

public enum CRC32 {
    public static func of(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return previous }
        var crc = UInt(previous)
        var offset = 0
        while offset < bytes.count {  // zlib takes a 32-bit length
            let length = min(bytes.count - offset, 1 << 30)
            crc = crc32(crc, base.assumingMemoryBound(to: UInt8.self) + offset, UInt32(length))
            offset += length
        }
        return UInt32(crc)
    }

    public static func of(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { of($0) } }

    /// The CRC-32 of A followed by B, from A's CRC, B's CRC and B's length (zlib's crc32_combine).
    public static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        UInt32(crc32_combine(UInt(first), UInt(second), off_t(secondLength)))
    }
}

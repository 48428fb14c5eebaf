import CZlib
import SRData
import XCTest

/// CRC32 (libdeflate) against zlib's crc32, the reference every shard written before
/// 2026-12-03 was checksummed with: the same values, so old shards and manifests still verify.
final class ChecksumTests: XCTestCase {
    private func zlibCRC(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
    }

    func testTheStandardCheckValue() {
        XCTAssertEqual(CRC32.of(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.of([UInt8]()), 0)
    }

    func testEqualsZlibOnEveryLengthAndAlignment() {
        var rng = SystemRandomNumberGenerator()
        let pool = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // Short lengths (the vector path's tails and its scalar fallback), then block-sized ones.
        let lengths = Array(0..<300) + [511, 512, 513, 4095, 4096, 4097, 27_648, 65_537]
        for length in lengths {
            for start in [0, 1, 7, 63] where start + length <= pool.count {
                let bytes = Array(pool[start..<(start + length)])
                XCTAssertEqual(CRC32.of(bytes), zlibCRC(bytes), "length \(length) at offset \(start)")
            }
        }
    }

    func testContinuingAndCombiningEqualOnePass() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        for split in [0, 1, 4_999, 10_000] {
            let first = Array(bytes[..<split]), second = Array(bytes[split...])
            let whole = zlibCRC(bytes)
            XCTAssertEqual(second.withUnsafeBytes { CRC32.of($0, continuing: CRC32.of(first)) }, whole, "split \(split)")
            XCTAssertEqual(CRC32.combine(CRC32.of(first), CRC32.of(second), secondLength: second.count), whole, "split \(split)")
        }
    }
}

import CPNGShim
import Foundation
import SRData
import XCTest

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let samplePhotos = repositoryRoot.appendingPathComponent("samples/photos").path
let dataFixtures = repositoryRoot.appendingPathComponent("Tests/SRDataTests/Fixtures").path

func makeTemporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("srdata-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes a PNG with libpng in any layout (see srpng_write_general).
func writePNG(_ path: String, width: Int, height: Int, bitDepth: Int, colorType: Int, interlaced: Bool = false,
              samples: [UInt16], palette: [UInt8] = []) throws {
    var message = [CChar](repeating: 0, count: 256)
    let status: Int32
    if bitDepth == 16 {
        status = samples.withUnsafeBytes { raw in
            palette.withUnsafeBufferPointer { srpng_write_general(path, raw.baseAddress, UInt32(width), UInt32(height), 16, Int32(colorType),
                                                                  interlaced ? 1 : 0, $0.baseAddress, Int32(palette.count / 3), &message, 256) }
        }
    } else {
        let bytes = samples.map { UInt8($0) }
        status = bytes.withUnsafeBytes { raw in
            palette.withUnsafeBufferPointer { srpng_write_general(path, raw.baseAddress, UInt32(width), UInt32(height), 8, Int32(colorType),
                                                                  interlaced ? 1 : 0, $0.baseAddress, Int32(palette.count / 3), &message, 256) }
        }
    }
    if status != 0 { throw DataError(path, String(cString: message), hint: "test PNG writer") }
}

/// libpng's png_set_scale_16: 16-bit to 8-bit with rounding.
func scale16(_ v: UInt16) -> UInt8 { UInt8((UInt32(v) * 255 + 32895) >> 16) }

extension PackedDataset {
    /// Patch `i` (P*P*3 bytes), read through `block` (a scratch buffer for its LZ4 block).
    func patch(_ i: Int, using block: inout [UInt8]) throws -> [UInt8] {
        let (shard, b, within) = locate(i)
        try shards[shard].readBlock(b, into: &block)
        let bytes = patchSize * patchSize * 3
        return Array(block[(within * bytes)..<((within + 1) * bytes)])
    }
}

// Reading a shard: the header and block index are read and checked when the file is opened,
// against the manifest's entry; blocks are read with pread (safe from several threads) and
// checked against both CRCs before their patches are used. Every problem names the shard, the
// block and the byte offset.

import CLZ4
import Foundation

public final class ShardFile {
    public let path: String
    public let header: ShardHeader
    public let blocks: [ShardBlock]
    /// Index of the first patch of each block, plus the total at the end.
    public let blockStarts: [Int]
    private let fd: Int32

    /// Opens and checks `path`; `expected` is the manifest's entry for it.
    public init(path: String, expected: ManifestShard?, patchSize: Int?) throws {
        self.path = path
        let hint = "the shard is damaged or incomplete: pack the dataset again (or restore the file from a copy)"
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw DataError(path, "cannot open shard: \(String(cString: strerror(errno)))", hint: "check that the packed folder is complete")
        }
        var closeOnFailure = true
        defer { if closeOnFailure { close(fd) } }
        var status = stat()
        fstat(fd, &status)
        let fileSize = Int(status.st_size)
        if let expected, expected.bytes != fileSize {
            throw DataError(path, "file is \(fileSize) bytes but the manifest says \(expected.bytes) (truncated or replaced?)", hint: hint)
        }
        let (decoded, problem) = ShardHeader.decode(try Self.pread(fd, path, offset: 0, count: min(fileSize, ShardFormat.headerBytes)))
        guard let header = decoded else { throw DataError(path, problem!, hint: hint) }
        let indexBytes = header.blockCount * ShardFormat.indexEntryBytes
        guard header.indexOffset >= ShardFormat.headerBytes, header.indexOffset + indexBytes == fileSize else {
            throw DataError(path, "index at byte offset \(header.indexOffset) with \(header.blockCount) blocks does not end at the file's end (\(fileSize) bytes): truncated?", hint: hint)
        }
        if let patchSize, header.patchSize != patchSize {
            throw DataError(path, "patch size \(header.patchSize), but the manifest says \(patchSize)", hint: hint)
        }
        let index = try Self.pread(fd, path, offset: header.indexOffset, count: indexBytes)
        guard CRC32.of(index) == header.indexCRC else {
            throw DataError(path, "block index checksum mismatch at byte offset \(header.indexOffset)", hint: hint)
        }
        var blocks: [ShardBlock] = [], starts = [0], position = ShardFormat.headerBytes
        for b in 0..<header.blockCount {
            let block = ShardBlock.decode(index, at: b * ShardFormat.indexEntryBytes)
            // LZ4 expands at most ~255x: a block claiming more patches than its bytes can hold is refused
            // before its buffer is allocated.
            guard block.offset == position, block.patches >= 1, block.patches <= header.patchesPerBlock,
                  block.offset + block.compressedBytes <= header.indexOffset,
                  block.patches * header.patchBytes <= 255 * block.compressedBytes + 64
            else {
                throw DataError(path, "block \(b) entry (offset \(block.offset), \(block.compressedBytes) bytes, \(block.patches) patches) is inconsistent", hint: hint)
            }
            blocks.append(block)
            position += block.compressedBytes
            starts.append(starts.last! + block.patches)
        }
        guard position == header.indexOffset, starts.last! == header.patchCount else {
            throw DataError(path, "blocks hold \(starts.last!) patches in \(position) bytes; the header says \(header.patchCount) patches with the index at \(header.indexOffset)", hint: hint)
        }
        if let expected, expected.patches != header.patchCount || expected.blocks != header.blockCount {
            throw DataError(path, "holds \(header.patchCount) patches in \(header.blockCount) blocks but the manifest says \(expected.patches) in \(expected.blocks)", hint: hint)
        }
        self.header = header
        self.blocks = blocks
        self.blockStarts = starts
        self.fd = fd
        closeOnFailure = false
    }

    deinit { close(fd) }

    public var patchCount: Int { header.patchCount }

    private static func pread(_ fd: Int32, _ path: String, offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw DataError(path, "read of \(count) bytes at byte offset \(offset) came up short (\(done) bytes)",
                                hint: "the shard is truncated: pack the dataset again")
            }
            done += got
        }
        return bytes
    }

    /// Decompresses block `b` into `into` (resized to patches x P*P*C bytes), checking both CRCs.
    public func readBlock(_ b: Int, into output: inout [UInt8]) throws {
        let block = blocks[b]
        let hint = "the shard is damaged: pack the dataset again (or restore the file from a copy)"
        let compressed = try Self.pread(fd, path, offset: block.offset, count: block.compressedBytes)
        guard CRC32.of(compressed) == block.compressedCRC else {
            throw DataError(path, "block \(b) at byte offset \(block.offset): checksum mismatch (flipped bits?)", hint: hint)
        }
        let size = block.patches * header.patchBytes
        if output.count != size { output = [UInt8](repeating: 0, count: size) }
        let got = compressed.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                LZ4_decompress_safe(source.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    target.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    Int32(source.count), Int32(target.count))
            }
        }
        guard Int(got) == size, CRC32.of(output) == block.uncompressedCRC else {
            throw DataError(path, "block \(b) at byte offset \(block.offset): does not decompress to its \(block.patches) patches", hint: hint)
        }
    }

    /// (block, index within block) of patch `i` of this shard.
    public func locate(_ i: Int) -> (block: Int, within: Int) {
        var low = 0, high = blocks.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if blockStarts[middle] <= i { low = middle } else { high = middle - 1 }
        }
        return (low, i - blockStarts[low])
    }
}

/// A packed folder: the manifest and its shards, checked against each other when opened.
public final class PackedDataset {
    public let directory: String
    public let manifest: Manifest
    public let shards: [ShardFile]
    /// Index of the first patch of each shard, plus the total at the end.
    public let shardStarts: [Int]

    public init(directory: String) throws {
        self.directory = directory
        let manifest = try Manifest.load(directory: directory)
        self.manifest = manifest
        shards = try manifest.shards.map {
            try ShardFile(path: (directory as NSString).appendingPathComponent($0.file), expected: $0,
                          patchSize: manifest.parameters.patchSize)
        }
        var starts = [0]
        for shard in shards { starts.append(starts.last! + shard.patchCount) }
        shardStarts = starts
        guard starts.last! == manifest.totalPatches else {
            throw DataError((directory as NSString).appendingPathComponent(Manifest.fileName),
                            "lists \(manifest.totalPatches) patches but its shards hold \(starts.last!)", hint: "pack the dataset again")
        }
    }

    public var patchCount: Int { manifest.totalPatches }
    public var patchSize: Int { manifest.parameters.patchSize }

    /// (shard, block, within) of global patch `i`.
    public func locate(_ i: Int) -> (shard: Int, block: Int, within: Int) {
        var low = 0, high = shards.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if shardStarts[middle] <= i { low = middle } else { high = middle - 1 }
        }
        let (block, within) = shards[low].locate(i - shardStarts[low])
        return (low, block, within)
    }

    /// Reads every block of every shard and the whole-file CRC-32s; throws at the first problem.
    public func verify(progress: ((Int, Int) -> Void)? = nil) throws {
        var buffer: [UInt8] = []
        for (s, shard) in shards.enumerated() {
            for b in 0..<shard.blocks.count { try shard.readBlock(b, into: &buffer) }
            let data = try Data(contentsOf: URL(fileURLWithPath: shard.path), options: .alwaysMapped)
            let crc = String(format: "%08x", data.withUnsafeBytes { CRC32.of($0) })
            guard crc == manifest.shards[s].crc32 else {
                throw DataError(shard.path, "file CRC-32 \(crc) differs from the manifest's \(manifest.shards[s].crc32)",
                                hint: "the shard was changed after packing: pack the dataset again")
            }
            progress?(s + 1, shards.count)
        }
    }
}

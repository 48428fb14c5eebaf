// Writes one shard: patches are appended, compressed a block at a time with LZ4, and the file is
// finished with its block index and header. It is written under a temporary name and renamed
// only when complete, so a crash never leaves a partial shard under a shard's name.

import CLZ4
import Foundation

public final class ShardWriter {
    public let path: String
    public let patchSize: Int, channels: Int, patchesPerBlock: Int
    private let temporaryPath: String
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private var pendingPatches = 0
    private(set) public var blocks: [ShardBlock] = []
    private(set) public var patchCount = 0
    private(set) public var bytesWritten = ShardFormat.headerBytes
    /// CRC-32 of everything after the header written so far (blocks, then the index), so the
    /// whole file's CRC needs no second pass over it.
    private var bodyCRC: UInt32 = 0

    public init(path: String, patchSize: Int, channels: Int = 3, patchesPerBlock: Int) throws {
        self.path = path
        self.patchSize = patchSize
        self.channels = channels
        self.patchesPerBlock = patchesPerBlock
        temporaryPath = "\(path).tmp-\(getpid())"
        // open(2) itself, not FileManager.createFile (which writes through a hidden temporary of
        // its own that a killed pack would leave behind); registered so SIGINT removes it.
        PackTemporaries.shared.add(temporaryPath)
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            PackTemporaries.shared.remove(temporaryPath)
            throw DataError(path, "cannot create the shard file: \(String(cString: strerror(errno)))", hint: "check that the output folder is writable")
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(count: ShardFormat.headerBytes))  // the header's place, written at the end
        } catch {
            abandon()
            throw DataError(path, "write failed: \(error.localizedDescription)", hint: "free disk space and pack again")
        }
    }

    private var patchBytes: Int { patchSize * patchSize * channels }

    /// Appends one patch (P*P*C bytes, row-major interleaved).
    public func append(_ patch: UnsafeBufferPointer<UInt8>) throws {
        precondition(patch.count == patchBytes, "patch of \(patch.count) bytes, expected \(patchBytes)")
        pending.append(contentsOf: patch)
        pendingPatches += 1
        patchCount += 1
        if pendingPatches == patchesPerBlock { try flushBlock() }
    }

    /// Compressed size the shard would have after the pending block, roughly (for shard sizing).
    public var approximateBytes: Int { bytesWritten + pending.count / 2 }

    /// Reused for every block's compressed bytes (LZ4_compressBound of a full block).
    private var compressed: [UInt8] = []

    private func flushBlock() throws {
        guard pendingPatches > 0 else { return }
        let bound = Int(LZ4_compressBound(Int32(pending.count)))
        if compressed.count < bound { compressed = [UInt8](repeating: 0, count: bound) }
        let size = pending.withUnsafeBytes { source in
            compressed.withUnsafeMutableBytes { target in
                Int(LZ4_compress_default(source.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         target.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         Int32(source.count), Int32(target.count)))
            }
        }
        guard size > 0 else { throw DataError(path, "LZ4 compression failed", hint: "this is a bug; please report it") }
        try compressed.withUnsafeBytes { all in
            let block = UnsafeRawBufferPointer(rebasing: all[..<size])
            let compressedCRC = CRC32.of(block)
            blocks.append(ShardBlock(offset: bytesWritten, compressedBytes: size, patches: pendingPatches,
                                     compressedCRC: compressedCRC, uncompressedCRC: CRC32.of(pending)))
            bodyCRC = CRC32.combine(bodyCRC, compressedCRC, secondLength: size)
            try write(block)
        }
        pending.removeAll(keepingCapacity: true)
        pendingPatches = 0
    }

    private func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// write(2) straight from the caller's buffer, resumed after short writes and EINTR.
    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(handle.fileDescriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw DataError(path, "write failed: \(String(cString: strerror(errno)))", hint: "free disk space and pack again")
            }
            done += n
        }
        bytesWritten += bytes.count
    }

    /// Writes the last block, the index and the header, syncs, and renames into place.
    /// Returns the finished file's size and CRC-32.
    @discardableResult
    public func finish() throws -> (bytes: Int, crc: UInt32) {
        try flushBlock()
        let indexOffset = bytesWritten
        let index = blocks.flatMap { $0.encoded() }
        bodyCRC = CRC32.combine(bodyCRC, CRC32.of(index), secondLength: index.count)
        try write(index)
        let header = ShardHeader(patchSize: patchSize, channels: channels, patchesPerBlock: patchesPerBlock,
                                 patchCount: patchCount, blockCount: blocks.count, indexOffset: indexOffset,
                                 indexCRC: CRC32.of(index))
        do {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: Data(header.encoded()))
            try handle.synchronize()
            try handle.close()
        } catch {
            throw DataError(path, "write failed: \(error.localizedDescription)", hint: "free disk space and pack again")
        }
        let crc = CRC32.combine(CRC32.of(header.encoded()), bodyCRC, secondLength: bytesWritten - ShardFormat.headerBytes)
        guard rename(temporaryPath, path) == 0 else {
            throw DataError(path, "cannot rename the finished shard into place", hint: "check the output folder's permissions")
        }
        PackTemporaries.shared.remove(temporaryPath)
        return (bytesWritten, crc)
    }

    /// Removes the temporary file of an abandoned shard.
    public func abandon() {
        try? handle.close()
        unlink(temporaryPath)
        PackTemporaries.shared.remove(temporaryPath)
    }
}

// Harnesses for the file formats srgan-dist reads: model files (safetensors), shards, a packed
// folder's manifest, a checkpoint's state, PNG and JPEG. Each writes the input where the real
// reader expects a file and calls the reader a user's command calls.

import Foundation
import SRData
import SRModels
import SRTrain

enum FileTargets {
    /// Pixel limit for the image harnesses: large enough for any seed, small enough that a
    /// header claiming a huge image is refused before allocation (as pack's limit does).
    static let maxPixels = 1 << 20

    static let safetensors = FuzzTarget(name: "safetensors", summary: "a generator .safetensors file: header, entries, tensors, metadata config") { bytes in
        let file = Scratch.write(bytes, to: "model.safetensors")
        do {
            let weights = try SafetensorsFile(path: file)
            for entry in weights.entries.prefix(64) {
                switch entry.dtype {
                case .I64, .I32, .I16, .I8, .U8, .BOOL: _ = try? weights.integers(entry.name)
                default: _ = try? weights.floats(entry.name)
                }
            }
            // The whole path of `upscale --checkpoint FILE`: metadata config, network, strict load.
            _ = try TrainedModel.load(file)
        } catch {
            return refused(error, "safetensors")
        }
        return nil
    }

    /// An odd first byte asks the harness to repair the header's and the block index's CRC-32s
    /// (and each block's compressed CRC) after the fuzzer's changes, so the fuzzer also reaches
    /// the code behind the checksums; an even one leaves the bytes as they are.
    static let shard = FuzzTarget(name: "shard", summary: "one .srs shard: header, block index, LZ4 blocks") { bytes in
        guard let first = bytes.first else { return "empty input" }
        var data = Array(bytes.dropFirst())
        if first & 1 == 1 { repairShardChecksums(&data) }
        let file = data.withUnsafeBufferPointer { Scratch.write($0, to: "shard-00000.srs") }
        do {
            let shard = try ShardFile(path: file, expected: nil, patchSize: nil)
            var buffer: [UInt8] = []
            for b in 0..<min(shard.blocks.count, 16) { try shard.readBlock(b, into: &buffer) }
            if shard.patchCount > 0 { _ = shard.locate(shard.patchCount - 1) }
        } catch {
            return refused(error, "shard")
        }
        return nil
    }

    static func repairShardChecksums(_ data: inout [UInt8]) {
        guard data.count >= ShardFormat.headerBytes else { return }
        func read64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[at + $1]) << (8 * UInt64($1)) } }
        func read32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[at + $1]) << (8 * UInt32($1)) } }
        func write32(_ value: UInt32, _ at: Int) { for i in 0..<4 { data[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) } }
        // Every value is the fuzzer's: compared with the file's size before any arithmetic.
        let size = UInt64(data.count)
        let blockCount = read64(32), indexOffset = read64(40)
        let entry = UInt64(ShardFormat.indexEntryBytes)
        if blockCount <= size / entry, indexOffset >= UInt64(ShardFormat.headerBytes), indexOffset <= size - blockCount * entry {
            let start = Int(indexOffset)
            for b in 0..<Int(blockCount) {
                let at = start + b * Int(entry)
                let offset = read64(at), length = UInt64(read32(at + 8))
                if offset <= size, length <= size - offset {
                    write32(CRC32.of(Array(data[Int(offset)..<Int(offset + length)])), at + 16)
                }
            }
            write32(CRC32.of(Array(data[start..<start + Int(blockCount * entry)])), 48)
        }
        write32(CRC32.of(Array(data[0..<52])), 52)
    }

    /// The fuzzed bytes are the manifest (index.json) of a folder that also holds one valid
    /// two-block shard, shard-00000.srs (the seeds' manifests describe it).
    static let dataset = FuzzTarget(name: "dataset", summary: "a packed folder's index.json, opened and verified against a real shard") { bytes in
        let folder = Scratch.path("dataset")
        if !FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("shard-00000.srs")) {
            _ = Scratch.emptyFolder("dataset")
            writeSampleShard(in: folder)
        }
        Scratch.write(bytes, to: "dataset/\(Manifest.fileName)")
        do {
            let dataset = try PackedDataset(directory: folder)
            try dataset.verify()
            if dataset.patchCount > 0 { _ = dataset.locate(dataset.patchCount - 1) }
        } catch {
            return refused(error, "dataset")
        }
        return nil
    }

    /// The shard the dataset seeds describe: 3 patches of 4x4 RGB in blocks of 2 (deterministic
    /// bytes, so its size and CRC-32 are the ones written in the seed manifests).
    static func writeSampleShard(in folder: String) {
        do {
            let writer = try ShardWriter(path: (folder as NSString).appendingPathComponent("shard-00000.srs"), patchSize: 4, patchesPerBlock: 2)
            for p in 0..<3 {
                let patch = (0..<48).map { UInt8(truncatingIfNeeded: $0 * 5 + p * 17) }
                try patch.withUnsafeBufferPointer { try writer.append($0) }
            }
            _ = try writer.finish()
        } catch {
            fatalError("dataset: cannot write the sample shard: \(error)")
        }
    }

    /// The fuzzed bytes are state.json of a checkpoint folder whose COMPLETE marker is rewritten
    /// to match them (so the checksums pass and the state itself is parsed), beside a valid
    /// generator file: `upscale --checkpoint FOLDER` (and resume) read it this way.
    static let checkpoint = FuzzTarget(name: "checkpoint", summary: "a checkpoint's state.json (and the config inside it) behind a matching COMPLETE marker") { bytes in
        let folder = Scratch.path("run/checkpoints/step-00000010")
        let generatorFile = (folder as NSString).appendingPathComponent("generator.safetensors")
        if !FileManager.default.fileExists(atPath: generatorFile) {
            _ = Scratch.emptyFolder("run/checkpoints/step-00000010")
            writeSmallGenerator(to: generatorFile)
        }
        let state = Array(bytes)
        Scratch.write(bytes, to: "run/checkpoints/step-00000010/\(Checkpoint.stateFile)")
        let generator = FileManager.default.contents(atPath: generatorFile) ?? Data()
        let marker = """
            {"format_version": 1, "files": {"\(Checkpoint.stateFile)": {"bytes": \(state.count), "crc32": \(CRC32.of(state))}, \
            "generator.safetensors": {"bytes": \(generator.count), "crc32": \(generator.withUnsafeBytes { CRC32.of($0) })}}}
            """
        Array(marker.utf8).withUnsafeBufferPointer { _ = Scratch.write($0, to: "run/checkpoints/step-00000010/\(Checkpoint.completionMarker)") }
        do {
            _ = try Checkpoint.locate(Scratch.path("run"), warn: { _ in })
            _ = try TrainedModel.load(folder)
        } catch {
            return refused(error, "checkpoint")
        }
        return nil
    }

    /// The smallest generator the tiny preset's settings describe (2 channels, 1 block), with
    /// the config in its metadata as `srgan-dist train` writes it (`described`: also the model's
    /// own `generator` and `global_skip` entries, as train writes them since 2026-12-02).
    static func writeSmallGenerator(to file: String, described: Bool = true) {
        do {
            var config = try TrainConfig.preset("tiny", phase: .srresnet)
            config.generator.channels = 2
            config.generator.residualBlocks = 1
            config.generator.tailKernel = 3
            let generator = Generator(config.generator, seed: 1)
            let own = described ? SuperResolver(generator, globalSkip: config.globalSkip).metadata : [:]
            try generator.save(to: file, metadata: ["srgan-dist": "generator", "config": config.yaml].merging(own) { old, _ in old })
        } catch {
            fatalError("checkpoint: cannot write the small generator: \(error)")
        }
    }

    static let png = FuzzTarget(name: "png", summary: "PNG through libpng and the C shim: header, 8- and 16-bit decodes") { bytes in
        let file = Scratch.write(bytes, to: "image.png")
        return readImage(file, "png")
    }

    static let jpeg = FuzzTarget(name: "jpeg", summary: "JPEG through libjpeg-turbo and the C shim: header, EXIF orientation, decode") { bytes in
        let file = Scratch.write(bytes, to: "image.jpg")
        return readImage(file, "jpeg")
    }

    /// The reads pack, validate, upscale and serve make: header, RGB8, planar.
    static func readImage(_ file: String, _ harness: String) -> String? {
        do {
            let header = try ImageFile.readHeader(file)
            if header.width * header.height > maxPixels { return "above the harness's pixel limit" }
            _ = try ImageFile.read(file, maxPixels: maxPixels)
            _ = try ImageFile.readPlanar(file, maxPixels: maxPixels)
        } catch {
            return refused(error, harness)
        }
        return nil
    }
}

// `srgan-dist pack`: a folder of PNG photos -> shards of HR patches + index.json.
// Images are decoded and cut on all cores a chunk at a time, then appended in file-name order, so
// the output is the same whatever the thread count. Shards are written under temporary names and
// renamed when complete; the manifest is written last.

import Foundation
import SRCore

public struct PackOptions: Sendable {
    public enum Sampling: Equatable, Sendable {
        /// A patch every `stride` pixels; 0 means the patch size (no overlap).
        case grid(stride: Int)
        case random(cropsPerImage: Int)
        /// One item per photo: shorter side resized to the patch size (MATLAB bicubic with
        /// antialiasing), then the centred square of that side.
        case whole
    }

    public var input: String
    public var output: String
    public var patchSize = 96
    public var sampling = Sampling.grid(stride: 0)
    public var seed: UInt64 = 0
    public var shardBytes = 64 << 20
    public var patchesPerBlock = 16
    public var validationImages = 0
    public var maxMegapixels = 100
    /// Leave out photos whose pixels are all gray (they give no colour targets).
    public var skipGray = false
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init(input: String, output: String) {
        self.input = input
        self.output = output
    }

    var parameters: PackParameters {
        let (mode, stride, crops): (String, Int, Int) = {
            switch sampling {
            case .grid(let stride): return ("grid", stride > 0 ? stride : patchSize, 0)
            case .random(let crops): return ("random", 0, crops)
            case .whole: return ("whole", 0, 0)
            }
        }()
        return PackParameters(mode: mode, patchSize: patchSize, stride: stride, cropsPerImage: crops, seed: seed,
                              shardBytes: shardBytes, patchesPerBlock: patchesPerBlock,
                              validationImages: validationImages, maxMegapixels: maxMegapixels, skipGray: skipGray)
    }
}

public struct PackProgress: Sendable {
    public var imagesDone = 0, imagesTotal = 0, patches = 0
    public var decodedBytes = 0
    public var seconds = 0.0
}

public struct PackSummary: Sendable {
    public var manifest: Manifest
    public var imagesPacked = 0
    public var notes: [String] = []
    public var decodedBytes = 0
    public var seconds = 0.0
}

public final class Packer {
    public let options: PackOptions

    public init(_ options: PackOptions) { self.options = options }

    private var outputPath: (String) -> String { { (self.options.output as NSString).appendingPathComponent($0) } }

    /// Runs the pack. `progress` is called after each chunk of images; `warn` for every skipped file.
    public func run(progress: (PackProgress) -> Void = { _ in }, warn: (String) -> Void = { _ in }) throws -> PackSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let files = try listInput()
        var skipped: [ManifestSkip] = []
        var notes: [String] = []
        func skip(_ file: String, _ reason: String) {
            skipped.append(ManifestSkip(file: file, reason: reason))
            warn("warning: skipped \((options.input as NSString).appendingPathComponent(file)): \(reason)")
        }

        // Headers first: cheap, and the absurd sizes are refused before any pixel is decoded.
        var headers: [(String, PNGHeader)] = []
        let maxPixels = options.maxMegapixels * 1_000_000
        for file in files {
            do {
                let header = try PNG.readHeader((options.input as NSString).appendingPathComponent(file))
                if header.width * header.height > maxPixels {
                    skip(file, "\(header.width)x\(header.height) is above the \(options.maxMegapixels)-megapixel limit (refused from its header)")
                } else {
                    headers.append((file, header))
                }
            } catch let error as DataError {
                skip(file, error.problem)
            }
        }
        try checkOutputFolder(inputFiles: files)

        var sources: [ManifestSource] = []
        var state = PackProgress(imagesTotal: headers.count)
        // Validation first: whole images, held out among those large enough to train on, in a
        // seeded order; one that fails to decode is skipped and the next candidate takes its place.
        var validation = Set<Int>(), failed = Set<Int>()
        var validationFiles: [String] = []
        if options.validationImages > 0 {
            var order = headers.indices.filter { headers[$0].1.width >= options.patchSize && headers[$0].1.height >= options.patchSize }
            var rng = SeededRandom(seed: options.seed ^ 0x7A11_DA7E)
            order.shuffle(using: &rng)
            let folder = outputPath(Manifest.validationFolder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for i in order where validation.count < options.validationImages {
                let (file, header) = headers[i]
                do {
                    let (image, _) = try PNG.read((options.input as NSString).appendingPathComponent(file), maxPixels: maxPixels)
                    if options.skipGray && image.isGray { throw DataError(file, Self.grayReason, hint: "") }
                    let name = ((file as NSString).deletingPathExtension as NSString).appendingPathExtension("png")!
                    // Whole-image packs validate on what they train on: the S x S resized square.
                    let stored = options.sampling == .whole ? WholeImage.resized(image, side: options.patchSize) : image
                    try PNG.write(stored, to: (folder as NSString).appendingPathComponent(name))
                    validation.insert(i)
                    validationFiles.append("\(Manifest.validationFolder)/\(name)")
                    sources.append(ManifestSource(file: file, width: header.width, height: header.height, bitDepth: header.bitDepth,
                                                  colorType: header.colorType, split: "validation", patches: 0))
                    state.decodedBytes += header.width * header.height * 3
                } catch let error as DataError {
                    failed.insert(i)
                    skip(file, error.problem)
                }
                state.imagesDone += 1
            }
            validationFiles.sort()
        }
        var training: [Int] = []
        for (i, (file, header)) in headers.enumerated() where !validation.contains(i) && !failed.contains(i) {
            if header.width < options.patchSize || header.height < options.patchSize {
                let reason = "\(header.width)x\(header.height) is smaller than a \(options.patchSize)x\(options.patchSize) patch"
                skipped.append(ManifestSkip(file: file, reason: reason))
                notes.append("note: \(file): \(reason); not used for training")
            } else {
                training.append(i)
            }
        }
        state.imagesTotal = validation.count + failed.count + training.count
        var shards: [ManifestShard] = []
        var writer: ShardWriter?
        func startShardIfNeeded() throws -> ShardWriter {
            if let writer { return writer }
            let name = String(format: "shard-%05d.%@", shards.count, ShardFormat.fileExtension)
            let fresh = try ShardWriter(path: outputPath(name), patchSize: options.patchSize, patchesPerBlock: options.patchesPerBlock)
            writer = fresh
            return fresh
        }
        func finishShard() throws {
            guard let current = writer else { return }
            let (bytes, crc) = try current.finish()
            shards.append(ManifestShard(file: (current.path as NSString).lastPathComponent, patches: current.patchCount,
                                        blocks: current.blocks.count, bytes: bytes, crc32: String(format: "%08x", crc)))
            writer = nil
        }

        do {
            let chunk = max(1, 2 * options.threads)
            for chunkStart in stride(from: 0, to: training.count, by: chunk) {
                let members = Array(training[chunkStart..<min(chunkStart + chunk, training.count)])
                let results = cutPatches(members.map { headers[$0] }, indices: members)
                for (member, result) in zip(members, results) {
                    let (file, header) = headers[member]
                    switch result {
                    case .failure(let error):
                        skip(file, (error as? DataError)?.problem ?? "\(error)")
                    case .success(let patches):
                        let patchBytes = options.patchSize * options.patchSize * 3
                        for p in 0..<(patches.count / patchBytes) {
                            let current = try startShardIfNeeded()
                            try patches.withUnsafeBufferPointer {
                                try current.append(UnsafeBufferPointer(rebasing: $0[(p * patchBytes)..<((p + 1) * patchBytes)]))
                            }
                            if current.patchCount % options.patchesPerBlock == 0 && current.bytesWritten >= options.shardBytes {
                                try finishShard()
                            }
                        }
                        state.patches += patches.count / patchBytes
                        state.decodedBytes += header.width * header.height * 3
                        sources.append(ManifestSource(file: file, width: header.width, height: header.height, bitDepth: header.bitDepth,
                                                      colorType: header.colorType, split: "train", patches: patches.count / patchBytes))
                    }
                }
                state.imagesDone += members.count
                state.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                progress(state)
            }
            try finishShard()
        } catch {
            writer?.abandon()
            throw error
        }

        sources.sort { $0.file < $1.file }
        skipped.sort { $0.file < $1.file }
        let manifest = Manifest(parameters: options.parameters, totalPatches: shards.reduce(0) { $0 + $1.patches },
                                shards: shards, sources: sources, skipped: skipped, validation: validationFiles)
        guard manifest.totalPatches > 0 else {
            throw DataError(options.input, "no training patches: \(training.count) usable images, \(skipped.count) skipped",
                            hint: "give a folder of PNG photos at least \(options.patchSize) pixels on each side, or a smaller --patch-size")
        }
        let manifestPath = outputPath(Manifest.fileName)
        do {
            let data = try manifest.encoded()
            try data.write(to: URL(fileURLWithPath: manifestPath + ".tmp"))
            guard rename(manifestPath + ".tmp", manifestPath) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            throw DataError(manifestPath, "cannot write the manifest: \(error.localizedDescription)", hint: "check the output folder and pack again")
        }
        return PackSummary(manifest: manifest, imagesPacked: sources.count, notes: notes, decodedBytes: state.decodedBytes,
                           seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    private func listInput() throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: options.input, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(options.input, "input folder not found", hint: "pass --input a folder of PNG photos")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: options.input).filter { name in
            var directory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: (options.input as NSString).appendingPathComponent(name), isDirectory: &directory)
            return !name.hasPrefix(".") && !directory.boolValue
        }.sorted()
        guard !names.isEmpty else {
            throw DataError(options.input, "input folder is empty", hint: "pass --input a folder of PNG photos")
        }
        return names
    }

    /// Refuses an output folder that holds anything but an earlier pack of this same dataset.
    private func checkOutputFolder(inputFiles: [String]) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: options.output, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw DataError(options.output, "output exists and is not a folder", hint: "choose another --output")
            }
            let entries = try FileManager.default.contentsOfDirectory(atPath: options.output)
            if entries.contains(Manifest.fileName) {
                let existing = try? Manifest.load(directory: options.output)
                let same = existing.map { sameDataset($0, inputFiles) } ?? false
                guard same else {
                    throw DataError(options.output, "already holds a different packed dataset (other photos or pack parameters)",
                                    hint: "choose another --output, or delete that folder first; nothing was overwritten")
                }
            }
            let foreign = entries.filter {
                !($0 == Manifest.fileName || $0 == Manifest.validationFolder || $0.contains(".tmp")
                  || ($0.hasPrefix("shard-") && $0.hasSuffix("." + ShardFormat.fileExtension)))
            }
            guard foreign.isEmpty else {
                throw DataError(options.output, "is not empty and holds files that are not a packed dataset (\(foreign.prefix(3).joined(separator: ", ")))",
                                hint: "choose an empty or new --output folder; nothing was overwritten")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: options.output, withIntermediateDirectories: true)
            } catch {
                throw DataError(options.output, "cannot create the output folder: \(error.localizedDescription)", hint: "check the path and permissions")
            }
        }
    }

    /// Same pack parameters and the same input files (packed or skipped).
    private func sameDataset(_ existing: Manifest, _ inputFiles: [String]) -> Bool {
        existing.parameters == options.parameters
            && Set(existing.sources.map(\.file) + existing.skipped.map(\.file)) == Set(inputFiles)
    }

    /// Decodes and cuts the given images on all cores; the results keep the input order.
    private func cutPatches(_ images: [(String, PNGHeader)], indices: [Int]) -> [Result<[UInt8], Error>] {
        var results = [Result<[UInt8], Error>](repeating: .success([]), count: images.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: images.count) { i in
            let result = Result { try self.cut(images[i].0, sourceIndex: indices[i]) }
            lock.lock()
            results[i] = result
            lock.unlock()
        }
        return results
    }

    private func cut(_ file: String, sourceIndex: Int) throws -> [UInt8] {
        let (image, _) = try PNG.read((options.input as NSString).appendingPathComponent(file),
                                      maxPixels: options.maxMegapixels * 1_000_000)
        if options.skipGray && image.isGray { throw DataError(file, Self.grayReason, hint: "") }
        let p = options.patchSize
        var corners: [(Int, Int)] = []
        switch options.sampling {
        case .whole:
            return WholeImage.resized(image, side: p).pixels
        case .grid:
            let stride = options.parameters.stride
            for y in Swift.stride(from: 0, through: image.height - p, by: stride) {
                for x in Swift.stride(from: 0, through: image.width - p, by: stride) { corners.append((x, y)) }
            }
        case .random(let crops):
            // Seeded by (seed, file name): the same crops whatever the thread count or file order.
            var rng = SeededRandom(seed: options.seed &+ Self.nameHash(file))
            for _ in 0..<crops {
                corners.append((Int(rng.next() % UInt64(image.width - p + 1)), Int(rng.next() % UInt64(image.height - p + 1))))
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(corners.count * p * p * 3)
        for (x, y) in corners { bytes += image.crop(x: x, y: y, width: p, height: p).pixels }
        return bytes
    }

    static let grayReason = "grayscale (all pixels R = G = B): no colour target, left out by --skip-gray"

    /// FNV-1a of the file name.
    static func nameHash(_ name: String) -> UInt64 {
        name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

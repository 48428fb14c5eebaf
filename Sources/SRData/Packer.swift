// `srgan-dist pack`: a folder of PNG and JPEG photos -> shards of HR patches + index.json.
// Images are decoded and cut on `threads` threads (OrderedPipeline), then appended in file-name
// order, so the output is the same whatever the thread count. Shards are written under temporary names and
// renamed when complete; the manifest is written last.
//
// Several processes (mpirun) pack one dataset together: every rank reads all headers and makes
// the same plan (skips, validation split, training order), then packs a contiguous share of the
// training images into its own shards (shard-rRRR-NNNNN.srs); rank 0 merges the ranks' parts in
// rank order into one manifest. The patches and their order are those of a one-process pack;
// only the shard boundaries differ (each rank's last shard is partial).
//
// After each finished shard a rank records how far it got (PackJournal); `resume` continues an
// interrupted pack from there, and the result is byte-identical to an uninterrupted pack.
//
// Memory: at most 2 x threads decoded images and their patches are in flight (the pipeline's window), plus one LZ4 block
// and the shard being finished (mapped once to checksum it); not the dataset.

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
    /// This process's place among `ranks` processes packing together (mpirun).
    public var rank = 0, ranks = 1
    /// Continue an interrupted pack of the same photos and parameters from its journal.
    public var resume = false

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

/// One rank's share of a pack: its shards in order and the training images it packed or skipped.
public struct PackPart: Codable, Equatable, Sendable {
    public var rank: Int
    public var shards: [ManifestShard] = []
    public var sources: [ManifestSource] = []
    public var skipped: [ManifestSkip] = []
    public var decodedBytes = 0
    public var seconds = 0.0
    /// Largest resident set of this process (getrusage), bytes.
    public var peakResidentBytes = 0
    /// Shards found complete from an interrupted pack and kept (`resume`).
    public var resumedShards = 0
}

public struct PackSummary: Sendable {
    public var manifest: Manifest
    public var imagesPacked = 0
    public var notes: [String] = []
    public var decodedBytes = 0
    public var seconds = 0.0
    /// Per rank, rank order.
    public var peakResidentBytes: [Int] = []
    public var resumedShards = 0
}

/// What every rank agrees on before packing: the usable images, the validation split, the
/// training order.
struct PackPlan {
    var inputFiles: [String]
    var headers: [(String, ImageHeader)]
    var skipped: [ManifestSkip] = []
    var notes: [String] = []
    var validationSources: [ManifestSource] = []
    var validationFiles: [String] = []
    var validationBytes = 0
    /// Indices into `headers`, file-name order.
    var training: [Int] = []
}

public final class Packer {
    public let options: PackOptions
    var plan: PackPlan?

    public init(_ options: PackOptions) { self.options = options }

    func outputPath(_ name: String) -> String { (options.output as NSString).appendingPathComponent(name) }
    func inputPath(_ name: String) -> String { (options.input as NSString).appendingPathComponent(name) }

    /// A one-process pack: plan, pack every training image, write the manifest.
    public func run(progress: (PackProgress) -> Void = { _ in }, warn: (String) -> Void = { _ in }) throws -> PackSummary {
        let part = try packShare(progress: progress, warn: warn)
        return try finish([part])
    }

    /// Plans and packs this rank's share. `warn` is called for every skipped file (plan-time skips
    /// only on rank 0, since every rank finds the same ones).
    public func packShare(progress: (PackProgress) -> Void = { _ in }, warn: (String) -> Void = { _ in }) throws -> PackPart {
        let started = DispatchTime.now().uptimeNanoseconds
        let plan = try makePlan(warn: options.rank == 0 ? warn : { _ in })
        self.plan = plan
        let share = Array(plan.training[shareRange(plan.training.count)])
        var journal = try PackJournal.start(self, plan: plan, warn: warn)
        var state = PackProgress(imagesDone: journal.nextImage, imagesTotal: share.count)
        var writer: ShardWriter?
        func finishShard() throws {
            guard let current = writer else { return }
            let (bytes, crc) = try current.finish()
            journal.part.shards.append(ManifestShard(file: (current.path as NSString).lastPathComponent, patches: current.patchCount,
                                                     blocks: current.blocks.count, bytes: bytes, crc32: String(format: "%08x", crc)))
            writer = nil
        }
        let patchBytes = options.patchSize * options.patchSize * 3
        do {
            // Decoded and cut on `threads` threads, at most 2 x threads images ahead; appended in order here.
            let firstPosition = journal.nextImage
            let files = (firstPosition..<share.count).map { plan.headers[share[$0]].0 }
            try OrderedPipeline.run(count: files.count, threads: options.threads, window: 2 * options.threads,
                                    work: { [self] i in Result { try cut(files[i]) } }) { i, result in
                let position = firstPosition + i
                let (file, header) = plan.headers[share[position]]
                switch result {
                case .failure(let error):
                    let reason = (error as? DataError)?.problem ?? "\(error)"
                    journal.part.skipped.append(ManifestSkip(file: file, reason: reason))
                    warn("warning: skipped \(inputPath(file)): \(reason)")
                case .success(let patches):
                    let count = patches.count / patchBytes
                    let first = position == firstPosition ? journal.patchesOfNextImage : 0
                    for p in first..<max(first, count) {
                        if writer == nil {
                            writer = try ShardWriter(path: outputPath(shardName(journal.part.shards.count)), patchSize: options.patchSize,
                                                     patchesPerBlock: options.patchesPerBlock)
                        }
                        let current = writer!
                        try patches.withUnsafeBufferPointer {
                            try current.append(UnsafeBufferPointer(rebasing: $0[(p * patchBytes)..<((p + 1) * patchBytes)]))
                        }
                        if current.patchCount % options.patchesPerBlock == 0 && current.bytesWritten >= options.shardBytes {
                            try finishShard()
                            try journal.record(nextImage: position, patchesOfNextImage: p + 1)
                        }
                    }
                    state.patches += count - first
                    state.decodedBytes += header.width * header.height * 3
                    journal.part.decodedBytes += header.width * header.height * 3
                    journal.part.sources.append(ManifestSource(file: file, width: header.width, height: header.height,
                                                               bitDepth: header.bitDepth, colorType: header.colorType,
                                                               split: "train", patches: count, format: header.format))
                }
                state.imagesDone += 1
                state.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                progress(state)
            }
            try finishShard()
            try journal.record(nextImage: share.count, patchesOfNextImage: 0)
        } catch {
            writer?.abandon()
            throw error
        }
        var part = journal.part
        part.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        part.peakResidentBytes = Self.peakResidentBytes()
        return part
    }

    /// Rank 0: merges the ranks' parts (rank order) with the plan into the manifest, writes it,
    /// and removes the journals and any shard file the manifest does not list.
    public func finish(_ parts: [PackPart]) throws -> PackSummary {
        guard let plan else { preconditionFailure("finish before packShare") }
        let ordered = parts.sorted { $0.rank < $1.rank }
        let shards = ordered.flatMap(\.shards)
        let sources = (plan.validationSources + ordered.flatMap(\.sources)).sorted { $0.file < $1.file }
        let skipped = (plan.skipped + ordered.flatMap(\.skipped)).sorted { $0.file < $1.file }
        let manifest = Manifest(parameters: options.parameters, totalPatches: shards.reduce(0) { $0 + $1.patches },
                                shards: shards, sources: sources, skipped: skipped, validation: plan.validationFiles)
        guard manifest.totalPatches > 0 else { throw noTrainingPatches(plan, skipped: skipped) }
        let manifestPath = outputPath(Manifest.fileName)
        do {
            let data = try manifest.encoded()
            PackTemporaries.shared.add(manifestPath + ".tmp")
            defer { PackTemporaries.shared.remove(manifestPath + ".tmp") }
            try data.write(to: URL(fileURLWithPath: manifestPath + ".tmp"))
            guard rename(manifestPath + ".tmp", manifestPath) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            throw DataError(manifestPath, "cannot write the manifest: \(error.localizedDescription)", hint: "check the output folder and pack again")
        }
        removeLeftovers(keeping: Set(shards.map(\.file)))
        return PackSummary(manifest: manifest, imagesPacked: sources.count, notes: plan.notes,
                           decodedBytes: plan.validationBytes + ordered.reduce(0) { $0 + $1.decodedBytes },
                           seconds: ordered.map(\.seconds).max() ?? 0, peakResidentBytes: ordered.map(\.peakResidentBytes),
                           resumedShards: ordered.reduce(0) { $0 + $1.resumedShards })
    }

    /// Why a pack has nothing to train on, with the files that were left out and why.
    func noTrainingPatches(_ plan: PackPlan, skipped: [ManifestSkip]) -> DataError {
        let named = skipped.prefix(3).map { "\($0.file): \($0.reason)" }.joined(separator: "; ") + (skipped.count > 3 ? "; ..." : "")
        if plan.training.isEmpty && !plan.validationFiles.isEmpty {
            return DataError(options.input, "no training images left: all \(plan.validationFiles.count) usable image(s) were held out for validation (--val-images \(options.validationImages))"
                             + (skipped.isEmpty ? "" : "; \(skipped.count) skipped (\(named))"),
                             hint: "lower --val-images below \(plan.validationFiles.count), or add photos")
        }
        let tooSmall = skipped.contains { $0.reason.contains("smaller than a") }
        return DataError(options.input, "no training patches: \(plan.training.count) usable image(s), \(skipped.count) skipped" + (skipped.isEmpty ? "" : " (\(named))"),
                         hint: tooSmall ? "give photos at least \(options.patchSize) pixels on each side, or a smaller --patch-size"
                             : "give a folder of PNG or JPEG photos at least \(options.patchSize) pixels on each side")
    }

    /// This rank's contiguous range of the training images.
    func shareRange(_ count: Int) -> Range<Int> {
        (options.rank * count / options.ranks)..<((options.rank + 1) * count / options.ranks)
    }

    /// shard-NNNNN.srs for a one-process pack, shard-rRRR-NNNNN.srs for rank RRR of several.
    func shardName(_ index: Int) -> String {
        options.ranks == 1 ? String(format: "shard-%05d.%@", index, ShardFormat.fileExtension)
            : String(format: "shard-r%03d-%05d.%@", options.rank, index, ShardFormat.fileExtension)
    }

    /// Whether `name` is one of this rank's shard files (finished or temporary).
    func isOwnShard(_ name: String) -> Bool {
        let prefix = options.ranks == 1 ? "shard-" : String(format: "shard-r%03d-", options.rank)
        return name.hasPrefix(prefix) && name.contains("." + ShardFormat.fileExtension)
    }

    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024  // Linux reports kilobytes
    }

    /// The patches of one photo, in order, as one byte array (count x P x P x 3), cut straight
    /// from the decoder's buffer.
    private func cut(_ file: String) throws -> [UInt8] {
        try ImageFile.withDecoded(inputPath(file), maxPixels: options.maxMegapixels * 1_000_000) { image, _ in
            if options.skipGray && image.isGray { throw DataError(file, Self.grayReason, hint: Self.grayHint) }
            let p = options.patchSize
            var corners: [(Int, Int)] = []
            switch options.sampling {
            case .whole:
                return WholeImage.resized(image.image, side: p).pixels
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
            let patchBytes = p * p * 3
            return [UInt8](unsafeUninitializedCapacity: corners.count * patchBytes) { buffer, initialized in
                for (k, (x, y)) in corners.enumerated() { image.copySquare(x: x, y: y, side: p, to: buffer.baseAddress! + k * patchBytes) }
                initialized = corners.count * patchBytes
            }
        }
    }

    static let grayReason = "grayscale (all pixels R = G = B): no colour target, left out by --skip-gray"
    static let grayHint = "pack without --skip-gray to keep gray photos (an SR run can use them)"

    /// FNV-1a of the file name.
    static func nameHash(_ name: String) -> UInt64 {
        name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

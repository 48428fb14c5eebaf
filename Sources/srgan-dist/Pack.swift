// `srgan-dist pack`: a folder of PNG and JPEG photos -> shards of HR patches (docs/shard-format.md).

import ArgumentParser
import Foundation
import SRData
import SRDistributed

struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut a folder of PNG and JPEG photos into HR patches and pack them into LZ4 shards.",
        discussion: """
            Writes OUTPUT/shard-NNNNN.srs, OUTPUT/index.json (last) and, with --val-images, OUTPUT/val/*.png. \
            Under mpirun -n N each rank packs a contiguous share of the photos into OUTPUT/shard-rRRR-NNNNN.srs \
            and rank 0 writes the one manifest (OUTPUT must be on a filesystem every rank sees). \
            Prints the peak resident memory at the end.
            """)

    @Option(help: "Folder of photos: PNG (8 or 16 bit; gray, palette, RGB, with or without alpha) and JPEG (8-bit gray or colour, baseline or progressive; EXIF orientation applied).")
    var input: String

    @Option(help: "Folder to write (created; refused if it holds a different dataset).")
    var output: String

    @Option(help: "Side of the square HR patches.")
    var patchSize = 96

    @Option(help: "Grid sampling: a patch every STRIDE pixels (default: the patch size, no overlap).")
    var stride: Int?

    @Option(help: "Random sampling instead of a grid: this many seeded random crops per image.")
    var randomCrops: Int?

    @Option(help: "Whole images instead of patches: each photo resized (shorter side to S, bicubic) and centre-cropped to S x S, one item per photo (the colourising mode's data).")
    var wholeImages: Int?

    @Flag(help: "Leave out photos whose pixels are all gray (R = G = B): they give no colour targets. Required by the colorize mode.")
    var skipGray = false

    @Option(help: "Seed of the random crops and of the validation split.")
    var seed: UInt64 = 0

    @Option(help: "Target shard size in MiB.")
    var shardMB = 64

    @Option(help: "Patches per LZ4 block (the unit of random access).")
    var patchesPerBlock = 16

    @Option(help: "Whole images held out for validation (written to OUTPUT/val as PNG).")
    var valImages = 0

    @Option(help: "Images whose header declares more megapixels are refused before decoding.")
    var maxMegapixels = 100

    @Option(help: "Decoding threads (default: all cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard patchSize >= 16, patchSize % 4 == 0 else { throw ValidationError("--patch-size must be a multiple of 4, at least 16") }
        if let stride, stride < 1 { throw ValidationError("--stride must be >= 1") }
        if let randomCrops, randomCrops < 1 { throw ValidationError("--random-crops must be >= 1") }
        if stride != nil && randomCrops != nil { throw ValidationError("choose --stride (grid) or --random-crops, not both") }
        if let wholeImages {
            guard wholeImages >= 16, wholeImages % 16 == 0 else { throw ValidationError("--whole-images must be a multiple of 16, at least 16 (e.g. 256)") }
            guard stride == nil && randomCrops == nil else { throw ValidationError("--whole-images stores one item per photo: leave out --stride and --random-crops") }
        }
        guard shardMB >= 1, patchesPerBlock >= 1, valImages >= 0, maxMegapixels >= 1, threads >= 1 else {
            throw ValidationError("--shard-mb, --patches-per-block, --max-megapixels and --threads must be >= 1; --val-images >= 0")
        }
    }

    @Flag(help: "Continue an interrupted pack into --output (same photos, options and mpirun -n) from where it stopped.")
    var resume = false

    func run() throws {
        var options = PackOptions(input: input, output: output)
        options.patchSize = wholeImages ?? patchSize
        options.sampling = wholeImages != nil ? .whole : randomCrops.map { .random(cropsPerImage: $0) } ?? .grid(stride: stride ?? patchSize)
        options.skipGray = skipGray
        options.seed = seed
        options.shardBytes = shardMB << 20
        options.patchesPerBlock = patchesPerBlock
        options.validationImages = valImages
        options.maxMegapixels = maxMegapixels
        options.threads = threads
        options.resume = resume
        let comm = try Launch.communicator()
        let stopWatch = PackStop.install(output: output, rank: comm.size > 1 ? comm.rank : nil)
        defer { withExtendedLifetime(stopWatch) {} }
        options.rank = comm.rank
        options.ranks = comm.size
        let terminal = isatty(STDERR_FILENO) != 0 && comm.isRoot
        let packer = Packer(options)
        let part = Result {
            try packer.packShare(
                progress: { state in
                    guard terminal else { return }
                    let rate = state.seconds > 0 ? Double(state.decodedBytes) / 1e6 / state.seconds : 0
                    FileHandle.standardError.write(Data(String(format: "\rpack: images %d/%d%@, patches %d, %.1f MB/s decoded   ",
                                                               state.imagesDone, state.imagesTotal, comm.size > 1 ? " (rank 0's share)" : "",
                                                               state.patches, rate).utf8))
                },
                warn: { FileHandle.standardError.write(Data(((terminal ? "\r" : "") + (comm.size > 1 ? "rank \(comm.rank): " : "") + $0 + "\n").utf8)) })
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let parts = try PackExchange.gather(part, comm)
        guard comm.isRoot else { return }
        let summary = try packer.finish(parts)
        for note in summary.notes { print(note) }
        let manifest = summary.manifest
        let bytes = manifest.shards.reduce(0) { $0 + $1.bytes }
        let side = options.patchSize
        let raw = manifest.totalPatches * side * side * 3
        print(String(format: "packed %d \(wholeImages == nil ? "patches" : "whole images") of %dx%d from %d training images into %d shard(s), %.1f MB (LZ4 %.2fx); "
                     + "%d validation images; %d files skipped; %.1f s, %.1f MB/s decoded -> %@",
                     manifest.totalPatches, side, side, manifest.sources.filter { $0.split == "train" }.count,
                     manifest.shards.count, Double(bytes) / 1e6, Double(raw) / Double(max(bytes, 1)),
                     manifest.validation.count, manifest.skipped.count, summary.seconds,
                     Double(summary.decodedBytes) / 1e6 / max(summary.seconds, 1e-9), output))
        let peaks = summary.peakResidentBytes.map { String(format: "%.0f MB", Double($0) / 1e6) }
        print("peak memory (resident): \(comm.size > 1 ? "per rank " + peaks.joined(separator: ", ") : peaks.joined())"
              + (summary.resumedShards > 0 ? "; resumed: \(summary.resumedShards) shard(s) kept from the interrupted pack" : ""))
    }
}

/// Every rank's part of a pack (or its error) to rank 0, by one broadcast per rank: a rank that
/// failed still takes part, so no rank waits forever; every rank then throws if any failed.
enum PackExchange {
    struct Outcome: Codable {
        var part: PackPart?
        var error: String?
    }

    static func gather(_ mine: Result<PackPart, Error>, _ comm: Communicator) throws -> [PackPart] {
        if comm.size == 1 { return [try mine.get()] }
        let encoded: String = {
            let outcome: Outcome
            switch mine {
            case .success(let part): outcome = Outcome(part: part)
            case .failure(let error): outcome = Outcome(error: "\(error)")
            }
            return String(decoding: (try? JSONEncoder().encode(outcome)) ?? Data(), as: UTF8.self)
        }()
        var parts: [PackPart] = [], failures: [String] = []
        for root in 0..<comm.size {
            let text = try comm.broadcast(string: root == comm.rank ? encoded : nil, root: root) ?? ""
            let outcome = try? JSONDecoder().decode(Outcome.self, from: Data(text.utf8))
            if let part = outcome?.part { parts.append(part) } else { failures.append("rank \(root): \(outcome?.error ?? "no answer")") }
        }
        if !failures.isEmpty {
            if comm.isRoot { for failure in failures { FileHandle.standardError.write(Data("error: \(failure)\n".utf8)) } }
            throw ExitCode(1)
        }
        return parts
    }
}

/// SIGINT or SIGTERM during a pack: the temporaries it holds are removed and it exits 130 or 143;
/// the finished shards and the journal stay, for --resume.
enum PackStop {
    static func install(output: String, rank: Int?) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                PackTemporaries.shared.removeAllAndExit(128 + number) { count in
                    "\n\(rank.map { "rank \($0): " } ?? "")pack stopped by \(number == SIGINT ? "SIGINT" : "SIGTERM"); \(count) temporary file(s) removed; "
                        + "continue with: srgan-dist pack ... --output \(output) --resume\n"
                }
            }
            source.resume()
            return source
        }
    }
}

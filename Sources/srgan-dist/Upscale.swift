// `srgan-dist upscale`: super-resolve images of any size with a trained generator, tiled so
// memory stays bounded (docs/using-models.md).

import ArgumentParser
import Foundation
import SRCore
import SRData
import SRTrain

struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Super-resolve a PNG or JPEG (or a folder of them) with a trained generator; results are PNG.",
        discussion: """
            Images of any size: the generator runs on tiles with enough overlap that the result equals \
            the untiled one up to float rounding (tiles are cross-faded). Gray images give gray results, \
            16-bit images 16-bit results. JPEGs are turned upright by their EXIF orientation first.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "A PNG or JPEG file, or a folder of them.")
    var input: String

    @Option(help: "The output PNG (for a folder input: an output folder, where IMAGE.jpg becomes IMAGE.png).")
    var output: String

    @Option(help: "LR tile size (0: the whole image at once).")
    var tile = 192

    @Option(help: "LR pixels of context around each tile (default: the generator's receptive radius, which makes tiling exact).")
    var overlap: Int?

    @Option(help: "Largest input accepted, in megapixels.")
    var maxMegapixels = 50.0

    @Flag(help: "Allow an output to replace one of the inputs (refused by default: the original photo would be lost).")
    var overwriteInput = false

    @Flag(help: "Grayscale to colour: with a model trained with generator.kind colorize, turn a gray photo (or a colour one, by its L* channel) into a x4 colour one.")
    var colorize = false

    func validate() throws {
        guard tile == 0 || tile >= 8 else { throw ValidationError("--tile must be 0 (whole images) or at least 8 LR pixels") }
        guard maxMegapixels > 0, maxMegapixels.isFinite else { throw ValidationError("--max-megapixels must be a positive number") }
    }

    /// Allocates (and frees) what upscaling `header`'s image needs, so that too little memory is
    /// one error naming the size and what to lower, not an abort in the middle.
    func reserveMemory(_ upscaler: Upscaler, _ source: String, _ header: ImageHeader) throws {
        let estimate = upscaler.memoryEstimate(width: header.width, height: header.height)
        // mmap itself, not malloc: the compiler may drop a malloc whose memory is never used.
        let probe = mmap(nil, estimate.total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let probe, probe != MAP_FAILED else {
            let gb = { (bytes: Int) in String(format: "%.2f GB", Double(bytes) / 1e9) }
            let parts = estimate.parts.map { "\($0.name) \(gb($0.bytes))" }.joined(separator: ", ")
            throw DataError(source, "upscaling this \(header.width)x\(header.height) image needs about \(gb(estimate.total)) (\(parts)), "
                            + "more memory than can be allocated",
                            hint: upscaler.tile == 0 || upscaler.tile > 64
                                ? "lower --tile (now \(upscaler.tile); the activations grow with its square), free memory, or shrink the image"
                                : "free memory or shrink the image (the decoded input alone takes \(gb(estimate.parts[0].bytes)))")
        }
        // Nothing is touched, so no page is committed: the point is that the address space exists.
        munmap(probe, estimate.total)
    }

    func run() throws {
        do {
            let model = try self.model.load()
            if colorize || model.generator.config.kind == .colorize {
                try runColorize(model)
                return
            }
            let upscaler = Upscaler(model: model, tile: tile, overlap: overlap)
            let jobs = try self.jobs()
            let tiling = upscaler.tile == 0 ? "whole images at once (memory grows with the image)"
                : String(format: "tiles of %d LR px with %d px of context: about %.0f MB of activations",
                         upscaler.tile, upscaler.overlap, Double(upscaler.peakBytesEstimate) / 1e6)
            print("\(model.generator.summary) (x\(model.scale)\(model.globalSkip ? ", global skip" : "")), \(tiling)")
            var failures = 0
            for (source, target) in jobs {
                do {
                    let started = Date()
                    let header = try ImageFile.readHeader(source)
                    if header.width * header.height <= Int(maxMegapixels * 1e6) { try reserveMemory(upscaler, source, header) }
                    let lr = try ImageFile.readPlanar(source, maxPixels: Int(maxMegapixels * 1e6))
                    let total = upscaler.tiles(width: lr.width, height: lr.height).count
                    // The result goes to the PNG a band of tile rows at a time: never whole in memory.
                    let writer = try PNGRowWriter(path: target, width: lr.width * model.scale, height: lr.height * model.scale,
                                                  bitDepth: lr.bitDepth, gray: lr.isGray)
                    try upscaler.upscaleInBands(lr, progress: { done, total in
                        if total >= 8 && (done % max(total / 10, 1) == 0 || done == total) {
                            print("  \(source): tile \(done)/\(total)")
                        }
                    }, emit: { band, rows in try writer.append(band, rows: rows) })
                    try writer.finish()
                    print(String(format: "%@ (%dx%d%@%@) -> %@ (%dx%d), %d tile(s), %.1f s", source, lr.width, lr.height,
                                 lr.isGray ? ", gray" : "", lr.bitDepth == 16 ? ", 16-bit" : "", target, writer.width, writer.height, total,
                                 Date().timeIntervalSince(started)))
                } catch where jobs.count > 1 {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))  // the other images go on
                    failures += 1
                }
            }
            if failures > 0 { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// (input, output) paths: the one file, or every PNG and JPEG of the input folder into the output
    /// folder (created), each as NAME.png. Refused before anything is written when an output would
    /// replace an input (same path or same file), unless --overwrite-input.
    func jobs() throws -> [(String, String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            throw DataError(input, "no such file or folder", hint: "pass a PNG or JPEG file, or a folder of them")
        }
        var outputIsDirectory: ObjCBool = false
        let outputExists = FileManager.default.fileExists(atPath: output, isDirectory: &outputIsDirectory)
        guard isDirectory.boolValue else {
            if outputExists && outputIsDirectory.boolValue {
                throw DataError(output, "is a folder, but the input is one file: --output names the PNG to write",
                                hint: "pass --output FOLDER/NAME.png, or pass --input a folder to upscale every image in it")
            }
            try refuseOverwrite([(input, output)])
            return [(input, output)]
        }
        if outputExists && !outputIsDirectory.boolValue {
            throw DataError(output, "is a file, but the input is a folder: --output names the folder to write the results into",
                            hint: "pass --output a new or existing folder")
        }
        var jobs: [(String, String)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: input).sorted() where ImageFile.hasImageName(name) {
            let target = ((name as NSString).deletingPathExtension as NSString).appendingPathExtension("png")!
            jobs.append(((input as NSString).appendingPathComponent(name), (output as NSString).appendingPathComponent(target)))
        }
        let targets = jobs.map(\.1)
        if let clash = targets.first(where: { target in targets.filter { $0 == target }.count > 1 }) {
            throw DataError(input, "two images would both be written to \(clash) (e.g. NAME.png and NAME.jpg)", hint: "rename one of them")
        }
        guard !jobs.isEmpty else { throw DataError(input, "no PNG or JPEG files in the folder", hint: "put PNG or JPEG images there") }
        try refuseOverwrite(jobs)
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw DataError(output, "cannot create the output folder (\(error.localizedDescription))", hint: "check the path and the parent folder's permissions")
        }
        return jobs
    }

    /// Throws when an output path names the same file as an input (the same path spelled
    /// differently, a hard link, a symbolic link), unless --overwrite-input.
    func refuseOverwrite(_ jobs: [(String, String)]) throws {
        guard !overwriteInput else { return }
        let inputs = Dictionary(jobs.compactMap { job in Self.fileIdentity(job.0).map { ($0, job.0) } }, uniquingKeysWith: { first, _ in first })
        for (_, target) in jobs {
            if let identity = Self.fileIdentity(target), let source = inputs[identity] {
                throw DataError(target, "would replace the input \(source) (the same file): the original would be lost",
                                hint: "choose another --output, or add --overwrite-input to replace the originals on purpose")
            }
        }
    }

    /// Device and inode of the file `path` names (links followed), nil if there is none.
    static func fileIdentity(_ path: String) -> [UInt64]? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return [UInt64(status.st_dev), UInt64(status.st_ino)]
    }
}

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

    @Flag(help: "Grayscale to colour: with a model trained with generator.kind colorize, turn a gray photo (or a colour one, by its L* channel) into a x4 colour one.")
    var colorize = false

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
                    let lr = try ImageFile.readPlanar(source, maxPixels: Int(maxMegapixels * 1e6))
                    let total = upscaler.tiles(width: lr.width, height: lr.height).count
                    let sr = upscaler.upscale(lr) { done, total in
                        if total >= 8 && (done % max(total / 10, 1) == 0 || done == total) {
                            print("  \(source): tile \(done)/\(total)")
                        }
                    }
                    try PNG.writePlanar(sr, to: target, bitDepth: lr.bitDepth, gray: lr.isGray)
                    print(String(format: "%@ (%dx%d%@%@) -> %@ (%dx%d), %d tile(s), %.1f s", source, lr.width, lr.height,
                                 lr.isGray ? ", gray" : "", lr.bitDepth == 16 ? ", 16-bit" : "", target, sr.width, sr.height, total,
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
    /// folder (created), each as NAME.png.
    func jobs() throws -> [(String, String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            throw DataError(input, "no such file or folder", hint: "pass a PNG or JPEG file, or a folder of them")
        }
        guard isDirectory.boolValue else { return [(input, output)] }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
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
        return jobs
    }
}

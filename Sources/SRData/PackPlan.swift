// The packer's plan, the same on every rank: the input listed in name order, every header read
// (cheap; absurd sizes refused before any pixel is decoded), the validation images chosen and
// decoded, the training images in order. And the output folder: refused when it holds anything
// but an earlier or interrupted pack of the same dataset.

import Foundation
import SRCore

extension Packer {
    func makePlan(warn: (String) -> Void) throws -> PackPlan {
        let files = try listInput()
        var plan = PackPlan(inputFiles: files, headers: [])
        func skip(_ file: String, _ reason: String) {
            plan.skipped.append(ManifestSkip(file: file, reason: reason))
            warn("warning: skipped \(inputPath(file)): \(reason)")
        }
        let maxPixels = options.maxMegapixels * 1_000_000
        for file in files {
            do {
                let header = try ImageFile.readHeader(inputPath(file))
                if header.width * header.height > maxPixels {
                    skip(file, "\(header.width)x\(header.height) is above the \(options.maxMegapixels)-megapixel limit (refused from its header)")
                } else {
                    plan.headers.append((file, header))
                }
            } catch let error as DataError {
                skip(file, error.problem)
            }
        }
        try checkOutputFolder(inputFiles: files)

        // Validation first: whole images, held out among those large enough to train on, in a
        // seeded order; one that fails to decode is skipped and the next candidate takes its place.
        // Every rank decodes the candidates (to agree on the failures); rank 0 writes them.
        var validation = Set<Int>(), failed = Set<Int>()
        if options.validationImages > 0 {
            var order = plan.headers.indices.filter { plan.headers[$0].1.width >= options.patchSize && plan.headers[$0].1.height >= options.patchSize }
            var rng = SeededRandom(seed: options.seed ^ 0x7A11_DA7E)
            order.shuffle(using: &rng)
            let folder = outputPath(Manifest.validationFolder)
            if options.rank == 0 { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            for i in order where validation.count < options.validationImages {
                let (file, header) = plan.headers[i]
                do {
                    let (image, _) = try ImageFile.read(inputPath(file), maxPixels: maxPixels)
                    if options.skipGray && image.isGray { throw DataError(file, Self.grayReason, hint: Self.grayHint) }
                    let name = ((file as NSString).deletingPathExtension as NSString).appendingPathExtension("png")!
                    if options.rank == 0 {
                        // Whole-image packs validate on what they train on: the S x S resized square.
                        let stored = options.sampling == .whole ? WholeImage.resized(image, side: options.patchSize) : image
                        // zlib level 1: these files are read back by the trainer only; level 6 made
                        // writing them most of a pack of large photos (22 of 33 s for 8 wallpapers).
                        try PNG.write(stored, to: (folder as NSString).appendingPathComponent(name), compressionLevel: 1)
                    }
                    validation.insert(i)
                    plan.validationFiles.append("\(Manifest.validationFolder)/\(name)")
                    plan.validationSources.append(ManifestSource(file: file, width: header.width, height: header.height, bitDepth: header.bitDepth,
                                                                 colorType: header.colorType, split: "validation", patches: 0, format: header.format))
                    plan.validationBytes += header.width * header.height * 3
                } catch let error as DataError {
                    failed.insert(i)
                    skip(file, error.problem)
                }
            }
            plan.validationFiles.sort()
        }
        for (i, (file, header)) in plan.headers.enumerated() where !validation.contains(i) && !failed.contains(i) {
            if header.width < options.patchSize || header.height < options.patchSize {
                let reason = "\(header.width)x\(header.height) is smaller than a \(options.patchSize)x\(options.patchSize) patch"
                plan.skipped.append(ManifestSkip(file: file, reason: reason))
                plan.notes.append("note: \(file): \(reason); not used for training")
            } else {
                plan.training.append(i)
            }
        }
        return plan
    }

    private func listInput() throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: options.input, isDirectory: &isDirectory) else {
            throw DataError(options.input, "input folder not found", hint: "pass --input a folder of PNG or JPEG photos")
        }
        guard isDirectory.boolValue else {
            throw DataError(options.input, "is a file, not a folder: pack reads every photo of a folder",
                            hint: "pass --input the folder that holds the photos (put a single photo in a folder of its own)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: options.input).filter { name in
            var directory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: inputPath(name), isDirectory: &directory)
            return !name.hasPrefix(".") && !directory.boolValue
        }.sorted()
        guard !names.isEmpty else {
            throw DataError(options.input, "input folder is empty", hint: "pass --input a folder of PNG or JPEG photos")
        }
        return names
    }

    /// Refuses an output folder that holds anything but an earlier pack of this same dataset
    /// (complete, or interrupted with its journals).
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
                !($0 == Manifest.fileName || $0 == Manifest.validationFolder || $0.contains(".tmp") || PackJournal.isJournal($0)
                  || $0.hasPrefix(Self.foundationTemporaryPrefix)
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

    /// What Foundation's Data.write leaves behind when a process is killed inside it (the manifest's write).
    static let foundationTemporaryPrefix = ".dat.nosync"

    /// After the manifest is written: journals, temporary files and shards it does not list.
    func removeLeftovers(keeping shards: Set<String>) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: options.output)) ?? [] {
            let shard = name.hasPrefix("shard-") && name.contains("." + ShardFormat.fileExtension)
            if PackJournal.isJournal(name) || (shard && !shards.contains(name)) || name.hasPrefix(Self.foundationTemporaryPrefix)
                || PackTemporaries.isPackTemporary(name).0 {
                unlink(outputPath(name))
            }
        }
    }
}

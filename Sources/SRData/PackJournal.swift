// How far one rank's pack has got: written (atomically) after each finished shard as
// OUTPUT/pack-journal-rRRR.json, removed when the manifest is written. `pack --resume` keeps the
// shards the journal lists, deletes the rank's other shard files (a shard being written when the
// pack stopped, under its temporary name, or finished after the last journal), and continues at
// the recorded image and patch. The patch sequence and the shard boundaries only depend on the
// plan, so the resumed pack is byte-identical to an uninterrupted one.

import Foundation

struct PackJournal: Codable {
    static let version = 1
    var version = PackJournal.version
    var parameters: PackParameters
    var inputFiles: [String]
    var rank: Int
    var ranks: Int
    /// Position in this rank's share of the first image not completely in finished shards.
    var nextImage = 0
    /// Patches of that image already in finished shards.
    var patchesOfNextImage = 0
    var part: PackPart

    enum CodingKeys: String, CodingKey {
        case version, parameters, rank, ranks, part
        case inputFiles = "input_files", nextImage = "next_image", patchesOfNextImage = "patches_of_next_image"
    }

    var path = ""

    static func isJournal(_ name: String) -> Bool { name.hasPrefix("pack-journal-") && name.hasSuffix(".json") }

    static func path(_ packer: Packer) -> String {
        packer.outputPath(String(format: "pack-journal-r%03d.json", packer.options.rank))
    }

    /// The journal to continue from (`resume`, when one matches this pack), or a fresh one. Either
    /// way this rank's shard files not listed in it are deleted first.
    static func start(_ packer: Packer, plan: PackPlan, warn: (String) -> Void) throws -> PackJournal {
        let options = packer.options
        let path = Self.path(packer)
        var journal = PackJournal(parameters: options.parameters, inputFiles: plan.inputFiles, rank: options.rank, ranks: options.ranks,
                                  part: PackPart(rank: options.rank))
        journal.path = path
        if let data = FileManager.default.contents(atPath: path) {
            if options.resume {
                let found: PackJournal
                do {
                    found = try JSONDecoder().decode(PackJournal.self, from: data)
                } catch {
                    throw DataError(path, "not a readable pack journal (\(error))",
                                    hint: "delete it and pack without --resume; the pack starts over")
                }
                guard found.version == version, found.parameters == options.parameters, found.inputFiles == plan.inputFiles,
                      found.ranks == options.ranks, found.rank == options.rank
                else {
                    throw DataError(path, "the interrupted pack here used other photos, pack parameters or rank count (\(found.ranks) ranks)",
                                    hint: "resume with the same --input, options and mpirun -n as the interrupted pack, or pack without --resume to start over")
                }
                journal = found
                journal.path = path
                journal.part.resumedShards = found.part.shards.count
            } else {
                if options.rank == 0 { warn("note: \(options.output) holds an interrupted pack; starting over (pass --resume to continue it)") }
                unlink(path)
            }
        }
        // A manifest of an earlier pack of the same dataset goes first: while shards are replaced
        // the folder is an interrupted pack, never a manifest over missing shards.
        if options.rank == 0 { unlink(packer.outputPath(Manifest.fileName)) }
        // This rank's shard files the journal does not list, and temporaries a killed pack left
        // (this rank's own names only, never another file).
        let keep = Set(journal.part.shards.map(\.file))
        let journalTemporary = (path as NSString).lastPathComponent + ".tmp"
        let removed = PackTemporaries.removeLeftovers(in: options.output) { name in
            name == journalTemporary || (options.rank == 0 && name == Manifest.fileName + ".tmp")
                || (packer.isOwnShard(name) && !keep.contains(name))
        }
        if !removed.isEmpty {
            warn("note: removed \(removed.count) temporary file(s) an interrupted pack left in \(options.output) (\(removed.prefix(3).joined(separator: ", ")))")
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: options.output)) ?? [] where packer.isOwnShard(name) && !keep.contains(name) {
            unlink(packer.outputPath(name))
        }
        for shard in journal.part.shards {
            let attributes = try? FileManager.default.attributesOfItem(atPath: packer.outputPath(shard.file))
            guard (attributes?[.size] as? Int) == shard.bytes else {
                throw DataError(packer.outputPath(shard.file), "listed in the pack journal but missing or of another size",
                                hint: "pack without --resume to start over")
            }
        }
        return journal
    }

    /// Records the position and the part so far (after a shard was finished).
    mutating func record(nextImage: Int, patchesOfNextImage: Int) throws {
        self.nextImage = nextImage
        self.patchesOfNextImage = patchesOfNextImage
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Plain write + rename (Foundation's Data.write would leave a hidden temporary file behind
        // when the process is killed in it).
        let bytes = [UInt8]((try? encoder.encode(self)) ?? Data())
        let temporary = path + ".tmp"
        PackTemporaries.shared.add(temporary)
        defer { PackTemporaries.shared.remove(temporary) }
        let written: Bool = {
            guard let file = fopen(temporary, "wb") else { return false }
            let complete = fwrite(bytes, 1, bytes.count, file) == bytes.count
            return fclose(file) == 0 && complete && rename(temporary, path) == 0
        }()
        guard !bytes.isEmpty, written else {
            unlink(temporary)
            throw DataError(path, "cannot write the pack journal", hint: "free disk space and pack again with --resume")
        }
    }
}

// Checkpoints: everything a run needs to continue exactly as if it had not stopped, written by
// rank 0 as one folder RUN_DIR/checkpoints/step-NNNNNNNN/ (docs/checkpoint-format.md):
//   generator.safetensors       state_dict names (loads into PyTorch), running statistics included
//   generator_ema.safetensors   with --ema
//   discriminator.safetensors   gan phase
//   optimizer.safetensors       Adam moments as flat F32 tensors (generator.exp_avg, ...exp_avg_sq,
//                               discriminator.*), in the networks' parameter-buffer order
//   state.json                  step, phase, learning rates, Adam step counts, stream position of
//                               every rank, skip counters, the config, the format version
//   COMPLETE                    written last: size and CRC-32 of every file above
// The folder is written as a hidden .partial folder, every file fsynced, COMPLETE fsynced, then
// renamed into place and the parent folder fsynced: a folder named step-* with a COMPLETE whose
// checksums match is whole; anything else is ignored on resume and removed by the next save.

import Foundation
import SRData
import SRModels
#if canImport(Glibc)
import Glibc
#endif

public struct CheckpointState: Codable, Equatable, Sendable {
    public static let currentFormatVersion = 1
    public var format = "srgan-dist checkpoint"
    public var formatVersion = CheckpointState.currentFormatVersion
    /// Steps completed.
    public var step: Int
    public var phase: Phase
    public var generatorLR: Double
    public var discriminatorLR: Double?
    public var generatorAdamSteps: Int
    public var discriminatorAdamSteps: Int?
    /// Where the next step's batches start in the shared patch stream (items of all ranks).
    public var streamOffset: Int
    /// Every rank's own reader position when the checkpoint was taken (all equal by design; kept
    /// as evidence). Augmentation is a pure function of (seed, stream item): no other RNG state.
    public var rankStreamOffsets: [Int]
    public var worldSize: Int
    public var batch: Int
    public var accumulate: Int
    public var patchSize: Int
    public var skippedSteps: Int
    public var consecutiveSkips: Int
    /// Validation PSNR at this step, when validation ran here (used to keep the best checkpoint).
    public var validationPSNR: Double?
    /// Why it was written: interval, end, signal, request.
    public var reason: String
    public var created: String
    /// The run's resolved config (YAML), as in RUN_DIR/config.yaml.
    public var config: String

    public init(step: Int, phase: Phase, generatorLR: Double, discriminatorLR: Double?, generatorAdamSteps: Int,
                discriminatorAdamSteps: Int?, streamOffset: Int, rankStreamOffsets: [Int], worldSize: Int, batch: Int,
                accumulate: Int, patchSize: Int, skippedSteps: Int, consecutiveSkips: Int, validationPSNR: Double?,
                reason: String, created: String, config: String) {
        self.step = step
        self.phase = phase
        self.generatorLR = generatorLR
        self.discriminatorLR = discriminatorLR
        self.generatorAdamSteps = generatorAdamSteps
        self.discriminatorAdamSteps = discriminatorAdamSteps
        self.streamOffset = streamOffset
        self.rankStreamOffsets = rankStreamOffsets
        self.worldSize = worldSize
        self.batch = batch
        self.accumulate = accumulate
        self.patchSize = patchSize
        self.skippedSteps = skippedSteps
        self.consecutiveSkips = consecutiveSkips
        self.validationPSNR = validationPSNR
        self.reason = reason
        self.created = created
        self.config = config
    }

    enum CodingKeys: String, CodingKey {
        case format, step, phase, worldSize = "world_size", batch, accumulate, reason, created, config
        case formatVersion = "format_version", generatorLR = "generator_lr", discriminatorLR = "discriminator_lr"
        case generatorAdamSteps = "generator_adam_steps", discriminatorAdamSteps = "discriminator_adam_steps"
        case streamOffset = "stream_offset", rankStreamOffsets = "rank_stream_offsets", patchSize = "patch_size"
        case skippedSteps = "skipped_steps", consecutiveSkips = "consecutive_skips", validationPSNR = "validation_psnr"
    }
}

/// COMPLETE: the size and CRC-32 of every file the checkpoint holds.
struct CheckpointManifest: Codable {
    struct Entry: Codable {
        var bytes: Int
        var crc32: UInt32
    }
    var formatVersion = CheckpointState.currentFormatVersion
    var files: [String: Entry]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", files
    }
}

public enum Checkpoint {
    public static let completionMarker = "COMPLETE"
    public static let stateFile = "state.json"
    public static let folderName = "checkpoints"

    public static func name(step: Int) -> String { String(format: "step-%08d", step) }

    static func step(ofFolder name: String) -> Int? {
        guard name.hasPrefix("step-") else { return nil }
        return Int(name.dropFirst(5))
    }

    /// Writes one checkpoint folder for `state.step` under `checkpoints` and returns its path.
    /// `pause` (tests only) waits between the data files and the completion marker, so a test can
    /// kill the writer in the middle.
    public static func write(files: [(name: String, data: Data)], state: CheckpointState, into checkpoints: String,
                             pause: Double = 0) throws -> String {
        let fm = FileManager.default
        let final = (checkpoints as NSString).appendingPathComponent(name(step: state.step))
        let partial = (checkpoints as NSString).appendingPathComponent(".\(name(step: state.step)).partial-\(getpid())")
        do {
            try fm.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
            try? fm.removeItem(atPath: partial)
            try fm.createDirectory(atPath: partial, withIntermediateDirectories: false)
        } catch {
            throw ModelFileError(file: checkpoints, problem: "cannot create the checkpoint folder (\(error.localizedDescription))",
                                 hint: "check that the run folder is writable")
        }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var manifest = CheckpointManifest(files: [:])
            for (fileName, data) in files + [(stateFile, try encoder.encode(state))] {
                try durableWrite(data, to: (partial as NSString).appendingPathComponent(fileName))
                manifest.files[fileName] = .init(bytes: data.count, crc32: data.withUnsafeBytes { CRC32.of($0) })
            }
            if pause > 0 { usleep(UInt32(pause * 1e6)) }
            try durableWrite(try encoder.encode(manifest), to: (partial as NSString).appendingPathComponent(completionMarker))
            syncFolder(partial)
            if fm.fileExists(atPath: final) {
                // The same step saved again (a resumed run that stopped where it started): the new
                // one replaces it only once it is whole.
                let old = (checkpoints as NSString).appendingPathComponent(".\(name(step: state.step)).old-\(getpid())")
                try fm.moveItem(atPath: final, toPath: old)
                try fm.moveItem(atPath: partial, toPath: final)
                try? fm.removeItem(atPath: old)
            } else {
                guard rename(partial, final) == 0 else {
                    throw ModelFileError(file: final, problem: "cannot rename the finished checkpoint into place: \(String(cString: strerror(errno)))",
                                         hint: "check the run folder's permissions")
                }
            }
            syncFolder(checkpoints)
            return final
        } catch {
            try? fm.removeItem(atPath: partial)  // frees the space a full disk needs back
            throw error
        }
    }

    /// The completed checkpoint folders under `checkpoints` (marker present, not yet verified), oldest first.
    public static func listed(in checkpoints: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard let step = step(ofFolder: name) else { return nil }
            let path = (checkpoints as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(completionMarker)) else { return nil }
            return (step, path)
        }.sorted { $0.0 < $1.0 }
    }

    /// Checks a checkpoint folder against its completion marker (every file present, sizes and
    /// CRC-32s equal) and returns its state.
    public static func verify(_ path: String) throws -> CheckpointState {
        let markerPath = (path as NSString).appendingPathComponent(completionMarker)
        guard let markerData = FileManager.default.contents(atPath: markerPath) else {
            throw ModelFileError(file: path, problem: "not a complete checkpoint (no \(completionMarker) marker: it was interrupted while being written)",
                                 hint: "use an earlier checkpoint, or the run folder to pick the newest complete one")
        }
        guard let manifest = try? JSONDecoder().decode(CheckpointManifest.self, from: markerData) else {
            throw ModelFileError(file: markerPath, problem: "the completion marker is damaged", hint: "use an earlier checkpoint")
        }
        guard manifest.formatVersion <= CheckpointState.currentFormatVersion else {
            throw ModelFileError(file: path, problem: "checkpoint format version \(manifest.formatVersion) is newer than this srgan-dist reads (\(CheckpointState.currentFormatVersion))",
                                 hint: "use a newer srgan-dist")
        }
        for (name, entry) in manifest.files.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, !name.contains("/"), name != "..", name != "." else {
                throw ModelFileError(file: markerPath, problem: "lists the file '\(name)', which is not a name inside the checkpoint folder",
                                     hint: "the marker was edited or damaged; use an earlier checkpoint")
            }
            let file = (path as NSString).appendingPathComponent(name)
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) else {
                throw ModelFileError(file: file, problem: "missing from the checkpoint", hint: "use an earlier checkpoint")
            }
            guard data.count == entry.bytes else {
                throw ModelFileError(file: file, problem: "\(data.count) bytes where the checkpoint recorded \(entry.bytes) (truncated or replaced)",
                                     hint: "use an earlier checkpoint")
            }
            let crc = data.withUnsafeBytes { CRC32.of($0) }
            guard crc == entry.crc32 else {
                throw ModelFileError(file: file, problem: "CRC-32 \(String(format: "%08x", crc)) where the checkpoint recorded \(String(format: "%08x", entry.crc32)) (the file is corrupted)",
                                     hint: "use an earlier checkpoint")
            }
        }
        let statePath = (path as NSString).appendingPathComponent(stateFile)
        let state: CheckpointState
        var stateData = Data()
        do {
            stateData = try Data(contentsOf: URL(fileURLWithPath: statePath))
            state = try JSONDecoder().decode(CheckpointState.self, from: stateData)
        } catch let error as DecodingError {
            let reason = JSONIntegerFields.firstNonInteger(in: stateData, keys: CheckpointState.integerKeys) ?? error.keyAndReason
            throw ModelFileError(file: statePath, problem: "unreadable training state: \(reason)", hint: "use an earlier checkpoint")
        } catch {
            throw ModelFileError(file: statePath, problem: "unreadable training state (\(error.localizedDescription))", hint: "use an earlier checkpoint")
        }
        if let problem = state.problem {
            throw ModelFileError(file: statePath, problem: "training state out of range: \(problem)",
                                 hint: "the file was edited or damaged; use an earlier checkpoint")
        }
        return state
    }

    /// A checkpoint folder from what a user passed: a checkpoint folder (verified), or a run
    /// folder or its checkpoints/ folder (the newest checkpoint that verifies; damaged newer ones
    /// are reported through `warn` and skipped). Returns nil for a run folder without checkpoints.
    public static func locate(_ path: String, warn: (String) -> Void) throws -> (path: String, state: CheckpointState)? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelFileError(file: path, problem: "no such checkpoint or run folder", hint: "pass a run folder or one of its checkpoints/step-* folders")
        }
        let name = (path as NSString).lastPathComponent
        if step(ofFolder: name) != nil || FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(completionMarker)) {
            return (path, try verify(path))
        }
        let folder = name == folderName ? path : (path as NSString).appendingPathComponent(folderName)
        // A visible step-* folder without its marker is not a write in progress (those are hidden
        // .partial folders): someone removed COMPLETE or copied the folder half-way. Say so.
        let complete = Set(listed(in: folder).map(\.path))
        for entry in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().reversed() where step(ofFolder: entry) != nil {
            let candidate = (folder as NSString).appendingPathComponent(entry)
            if !complete.contains(candidate) {
                warn("warning: skipping \(candidate): no \(completionMarker) marker, so not a complete checkpoint (interrupted while copied or written?)")
            }
        }
        for candidate in listed(in: folder).reversed() {
            do {
                return (candidate.path, try verify(candidate.path))
            } catch {
                warn("warning: skipping a damaged checkpoint: \(error)")
            }
        }
        return nil
    }

    /// Removes all but the newest `keep` complete checkpoints, never the one with the best
    /// validation PSNR nor `protected`; removes leftovers of interrupted writes.
    public static func prune(_ checkpoints: String, keep: Int, protected: String? = nil) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: checkpoints)) ?? [] where name.hasPrefix(".step-") {
            let pid = name.split(separator: "-").last.flatMap { Int32($0) }
            if pid == nil || pid == getpid() || kill(pid!, 0) != 0 {  // not a write in progress elsewhere
                try? fm.removeItem(atPath: (checkpoints as NSString).appendingPathComponent(name))
            }
        }
        let complete = listed(in: checkpoints)
        guard complete.count > keep else { return }
        var best: (psnr: Double, path: String)?
        for entry in complete {
            if let state = try? JSONDecoder().decode(CheckpointState.self, from: Data(contentsOf: URL(fileURLWithPath: (entry.path as NSString).appendingPathComponent(stateFile)))),
               let psnr = state.validationPSNR, psnr > (best?.psnr ?? -.infinity) {
                best = (psnr, entry.path)
            }
        }
        for entry in complete.dropLast(keep) where entry.path != best?.path && entry.path != protected {
            try? fm.removeItem(atPath: entry.path)
        }
    }

    /// write + fsync, with errors that name the file (a full disk says so).
    static func durableWrite(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw ModelFileError(file: path, problem: "cannot create: \(String(cString: strerror(errno)))", hint: "check that the run folder is writable")
        }
        defer { close(fd) }
        var failure = AtomicFile.writeFully(data, to: fd)
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if failure != 0 {
            let hint = failure == ENOSPC ? "the disk is full: free space (or move the run folder) and resume; the previous checkpoint is intact"
                : "check the disk; the previous checkpoint is intact"
            throw ModelFileError(file: path, problem: "write failed: \(String(cString: strerror(failure)))", hint: hint)
        }
    }

    static func syncFolder(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}

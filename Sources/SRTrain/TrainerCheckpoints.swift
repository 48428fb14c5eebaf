// The trainer's state in and out of checkpoints (format: Checkpoint.swift, docs/checkpoint-format.md).
//
// Batch-norm running statistics: without --sync-bn every rank's differ (each saw its own
// batches). Validation and the saved networks use their mean over ranks, computed into the
// networks only for that moment: each rank then puts its own back, so validating or
// checkpointing never changes the course of training. Each rank's own statistics are saved too
// (training.safetensors), so a resume with the same number of ranks continues bit for bit.

import Foundation
import SRCore
import SRData
import SRDistributed
import SRModels

/// What a resume restores besides weights and moments: the same on every rank.
struct Restored {
    var progress = Progress()
    /// Where the shared patch stream continues.
    var streamOffset = 0
    /// This rank's own running statistics per network, when the checkpoint has them for this
    /// number of ranks (nil: every rank keeps rank 0's averaged ones).
    var rankStatistics: [[Float]]?
}

extension TrainingNetworks {
    /// Every rank's running statistics, per network: [network][rank] (a collective).
    func gatherStatistics(comm: Communicator) throws -> [[[Float]]] {
        try all.map { network in
            let count = network.buffers.count
            var all = [Float](repeating: 0, count: comm.size * count)
            network.memory.withStatistics { own in all.replaceSubrange((comm.rank * count)..<((comm.rank + 1) * count), with: own) }
            if comm.size > 1 { try all.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: $0.count) } }
            return (0..<comm.size).map { Array(all[($0 * count)..<(($0 + 1) * count)]) }
        }
    }

    /// Runs `body` with the networks' running statistics set to their mean over ranks, then puts
    /// this rank's own back. `body` gets every rank's own statistics ([network][rank]).
    func withAveragedStatistics(comm: Communicator, syncBN: Bool, _ body: ([[[Float]]]) throws -> Void) throws {
        let perRank = try gatherStatistics(comm: comm)
        let own = all.map { StatisticsSnapshot($0) }
        if comm.size > 1 && !syncBN {
            let scale = 1 / Float(comm.size)
            for (network, rows) in zip(all, perRank) {
                network.memory.withStatistics { values in
                    for i in values.indices {
                        var sum: Float = 0
                        for row in rows { sum += row[i] }
                        values[i] = sum * scale
                    }
                }
            }
        }
        defer { for snapshot in own { snapshot.restore() } }
        try body(perRank)
    }

    /// --resume: rank 0 reads the checkpoint into the networks and optimizers and checks that it
    /// fits these settings; its state is broadcast here (weights, statistics and moments by
    /// `broadcast`, which follows).
    func restore(from path: String, config: TrainConfig, patchSize: Int, comm: Communicator) throws -> Restored {
        var stateText: String?
        var rankStatistics: [[Float]] = []   // rank 0: per network, every rank's, flat
        try comm.together {
            guard comm.isRoot else { return }
            let state = try Checkpoint.verify(path)
            let saved = try TrainConfig.fromSaved(yaml: state.config, source: (path as NSString).appendingPathComponent(Checkpoint.stateFile))
            if config.steps < state.step {
                throw ConfigurationError("\(path): the run is already at step \(state.step), past the target --steps \(config.steps)",
                                         hint: "resume with --steps above \(state.step) to train further, or use the run's generator as it is")
            }
            var differences = config.shapeDifferences(from: saved)
            if state.patchSize != patchSize { differences.append("patch size \(patchSize) here vs \(state.patchSize) in the checkpoint") }
            guard differences.isEmpty else {
                throw ConfigurationError("\(path): cannot resume with these settings: \(differences.joined(separator: "; "))",
                                         hint: "resume with the checkpoint's own settings (--resume without overrides of the networks or data), or start a new run from it with --init")
            }
            var changed: [String] = []
            if state.worldSize != comm.size { changed.append("ranks \(state.worldSize) -> \(comm.size)") }
            changed += config.resumeChanges(from: saved)
            if !changed.isEmpty { print("note: resuming with changed settings (\(changed.joined(separator: ", "))): the run goes on, but not exactly as it would have") }
            let file = { (name: String) in try SafetensorsFile(path: (path as NSString).appendingPathComponent(name)) }
            try generator.load(from: file("generator.safetensors"), strict: true)
            if let ema {
                if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("generator_ema.safetensors")) {
                    try ema.load(from: file("generator_ema.safetensors"), strict: true)
                } else {
                    print("note: the checkpoint has no EMA generator; the EMA starts from the generator")
                    ema.copyParameters(from: generator)
                }
            }
            if let discriminator { try discriminator.load(from: file("discriminator.safetensors"), strict: true) }
            let training = try file("training.safetensors")
            for (name, adam) in optimizers {
                let moments = try ["exp_avg", "exp_avg_sq"].map { suffix in
                    let values = try training.floats("\(name).\(suffix)")
                    guard values.count == adam.count else {
                        throw ModelFileError(file: training.path, problem: "\(name).\(suffix) has \(values.count) values for \(adam.count) parameters",
                                             hint: "the checkpoint does not belong to this network; use the matching settings")
                    }
                    return values
                }
                adam.memory.withMoments { first, second in
                    _ = first.update(fromContentsOf: moments[0])
                    _ = second.update(fromContentsOf: moments[1])
                }
            }
            if state.worldSize == comm.size {
                for name in ["generator", "discriminator"].prefix(all.count) {
                    rankStatistics.append(try (0..<comm.size).flatMap { try training.floats("rank\($0).\(name).running_statistics") })
                }
            }
            stateText = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
            print("resuming from \(path): step \(state.step) (\(state.reason) checkpoint), stream item \(state.streamOffset); training to step \(config.steps)")
        }
        // The checkpoint's state.json, as rank 0 read it, on every rank.
        guard let text = try comm.broadcast(string: stateText),
              let state = try? JSONDecoder().decode(CheckpointState.self, from: Data(text.utf8)) else {
            throw RankError(rank: comm.rank, ConfigurationError("the checkpoint state broadcast by rank 0 is unreadable", hint: "report this"))
        }
        step.generatorOptimizer.step = state.generatorAdamSteps
        step.discriminatorOptimizer?.step = state.discriminatorAdamSteps ?? 0
        var restored = Restored(progress: Progress(step: state.step, skipped: state.skippedSteps, consecutiveSkips: state.consecutiveSkips),
                                streamOffset: state.streamOffset)
        guard state.worldSize == comm.size else {
            if comm.isRoot {
                print("note: the checkpoint was written by \(state.worldSize) rank(s), this run has \(comm.size): every rank starts from the "
                      + "averaged batch-norm statistics and the shared patch stream continues at item \(state.streamOffset), re-partitioned over the ranks")
            }
            return restored
        }
        var own: [[Float]] = []
        for (index, network) in all.enumerated() {
            let count = network.buffers.count
            var every = comm.isRoot ? rankStatistics[index] : [Float](repeating: 0, count: comm.size * count)
            try every.withUnsafeMutableBufferPointer { try comm.broadcast($0.baseAddress!, count: $0.count) }
            own.append(Array(every[(comm.rank * count)..<((comm.rank + 1) * count)]))
        }
        restored.rankStatistics = own
        return restored
    }
}

extension Checkpoint {
    /// --resume: rank 0 finds the newest complete checkpoint of `target` (a run or checkpoint
    /// folder); every rank gets its path and its saved config.
    public static func locateForResume(_ target: String?, comm: Communicator) throws -> (path: String, config: String) {
        var found: (path: String, config: String)?
        try comm.together {
            guard comm.isRoot else { return }
            guard let target else {
                throw ConfigurationError("--resume needs --run RUN_DIR (or --resume-from CHECKPOINT)", hint: "name the run to continue")
            }
            guard let checkpoint = try locate(target, warn: { FileHandle.standardError.write(Data("\($0)\n".utf8)) }) else {
                throw ConfigurationError("\(target): no complete checkpoint to resume from",
                                         hint: "start the run without --resume (a run stopped before its first checkpoint starts over)")
            }
            found = (checkpoint.path, checkpoint.state.config)
        }
        guard let path = try comm.broadcast(string: found?.path), let config = try comm.broadcast(string: found?.config) else {
            throw RankError(rank: comm.rank, ConfigurationError("rank 0 found the checkpoint but did not send it", hint: "report this"))
        }
        return (path, config)
    }
}

extension TrainingRun {
    /// Writes a checkpoint (rank 0; every rank takes part). A failed write is reported and, unless
    /// stop_on_checkpoint_error, training goes on; the previous checkpoint is never touched.
    /// Returns whether the checkpoint was written.
    @discardableResult
    func saveCheckpoint(_ progress: Progress, reason: String, validationPSNR: Double?) throws -> Bool {
        let offsets = try comm.gather([Double(stream.position.offset)]).map { Int($0[0]) }
        var outcome: Result<String, Error> = .success("")
        try networks.withAveragedStatistics(comm: comm, syncBN: config.syncBN) { perRank in
            guard comm.isRoot else { return }
            outcome = Result { try writeCheckpoint(progress, reason: reason, validationPSNR: validationPSNR, perRank: perRank, offsets: offsets) }
        }
        try comm.barrier()  // no timeout: the disk may be slow
        var failed = [outcome.isFailure ? 1.0 : 0.0]
        try failed.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: 1) }
        switch outcome {
        case .success(let path):
            if comm.isRoot { print("checkpoint step \(progress.step) (\(reason)) -> \(path)") }
        case .failure(let error):
            let what = config.stopOnCheckpointError ? "error" : "warning"
            FileHandle.standardError.write(Data("\(what): checkpoint at step \(progress.step) not written: \(error)\n".utf8))
            log?.record("checkpoint_error", step: progress.step, [])
        }
        if failed[0] > 0 && config.stopOnCheckpointError {
            throw ConfigurationError("stopping: the checkpoint at step \(progress.step) could not be written (see above); the previous checkpoint is intact",
                                     hint: "free disk space or fix the disk, then restart with --resume")
        }
        return failed[0] == 0
    }

    private func writeCheckpoint(_ progress: Progress, reason: String, validationPSNR: Double?, perRank: [[[Float]]], offsets: [Int]) throws -> String {
        var files: [(name: String, data: Data)] = []
        let metadata = ["srgan-dist": "generator", "phase": config.phase.rawValue, "step": "\(progress.step)", "config": config.yaml]
            .merging(networks.model.metadata) { old, _ in old }
        files.append(("generator.safetensors", Self.stateDict(networks.generator, metadata: metadata)))
        if let ema = networks.emaWithStatistics() {
            files.append(("generator_ema.safetensors", Self.stateDict(ema, metadata: metadata)))
        }
        if let discriminator = networks.discriminator {
            files.append(("discriminator.safetensors", Self.stateDict(discriminator, metadata: ["srgan-dist": "discriminator", "step": "\(progress.step)"])))
        }
        var training = SafetensorsWriter(metadata: ["srgan-dist": "training state",
                                                    "contents": "Adam moments (exp_avg, exp_avg_sq) in parameter-buffer order; each rank's batch-norm running statistics"])
        for (name, adam) in networks.optimizers {
            adam.memory.withMoments { first, second in
                training.add("\(name).exp_avg", floats: UnsafeBufferPointer(first), shape: [adam.count])
                training.add("\(name).exp_avg_sq", floats: UnsafeBufferPointer(second), shape: [adam.count])
            }
        }
        for (index, name) in ["generator", "discriminator"].prefix(networks.all.count).enumerated() {
            for rank in 0..<comm.size {
                training.add("rank\(rank).\(name).running_statistics", floats: perRank[index][rank], shape: [perRank[index][rank].count])
            }
        }
        files.append(("training.safetensors", training.bytes()))
        let rates = config.exactLearningRates(at: progress.step)
        let step = networks.step
        let state = CheckpointState(step: progress.step, phase: config.phase, generatorLR: rates.generator,
                                    discriminatorLR: networks.discriminator == nil ? nil : rates.discriminator,
                                    generatorAdamSteps: step.generatorOptimizer.step, discriminatorAdamSteps: step.discriminatorOptimizer?.step,
                                    streamOffset: stream.position.offset, rankStreamOffsets: offsets, worldSize: comm.size,
                                    batch: config.batch, accumulate: config.accumulate, patchSize: patchSize,
                                    skippedSteps: progress.skipped, consecutiveSkips: progress.consecutiveSkips,
                                    validationPSNR: validationPSNR, reason: reason,
                                    created: ISO8601DateFormatter().string(from: Date()), config: config.yaml)
        let folder = (runDirectory as NSString).appendingPathComponent(Checkpoint.folderName)
        let path = try Checkpoint.write(files: files, state: state, into: folder, pause: options.checkpointPause.map { $0.step == progress.step ? $0.seconds : 0 } ?? 0)
        Checkpoint.prune(folder, keep: config.keepCheckpoints, protected: path)
        return path
    }

    static func stateDict(_ network: Network, metadata: [String: String]) -> Data {
        var writer = SafetensorsWriter(metadata: metadata)
        network.addStateDict(to: &writer)
        return writer.bytes()
    }

    /// The generator (EMA generator, discriminator) as plain safetensors in the run folder, with
    /// the running statistics averaged over ranks.
    func saveFinalModels(_ progress: Progress, to generatorPath: String) throws {
        var outcome: Result<Void, Error> = .success(())
        try networks.withAveragedStatistics(comm: comm, syncBN: config.syncBN) { _ in
            guard comm.isRoot else { return }
            outcome = Result {
                let metadata = ["srgan-dist": "generator", "phase": config.phase.rawValue, "steps": "\(progress.step)", "config": config.yaml]
                    .merging(networks.model.metadata) { old, _ in old }
                try networks.generator.save(to: generatorPath, metadata: metadata)
                if let ema = networks.emaWithStatistics() {
                    try ema.save(to: (runDirectory as NSString).appendingPathComponent("generator_ema.safetensors"), metadata: metadata)
                }
                if let discriminator = networks.discriminator {
                    try discriminator.save(to: (runDirectory as NSString).appendingPathComponent("discriminator.safetensors"),
                                           metadata: ["srgan-dist": "discriminator", "config": config.yaml])
                }
            }
        }
        try comm.barrier()
        try comm.together { try outcome.get() }
    }
}

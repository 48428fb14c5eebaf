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
import SRModels

extension Trainer {
    /// Every rank's running statistics, per network: [network][rank] (a collective).
    func gatherStatistics() throws -> [[[Float]]] {
        try networks.map { network in
            let count = network.buffers.count
            var all = [Float](repeating: 0, count: comm.size * count)
            all.withUnsafeMutableBufferPointer { ($0.baseAddress! + comm.rank * count).update(from: network.buffers.values, count: count) }
            if comm.size > 1 { try all.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: $0.count) } }
            return (0..<comm.size).map { Array(all[($0 * count)..<(($0 + 1) * count)]) }
        }
    }

    /// Runs `body` with the networks' running statistics set to their mean over ranks, then puts
    /// this rank's own back. `body` gets every rank's own statistics ([network][rank]).
    func withAveragedStatistics(_ body: ([[[Float]]]) throws -> Void) throws {
        let perRank = try gatherStatistics()
        let own = networks.map { Array(UnsafeBufferPointer(start: $0.buffers.values, count: $0.buffers.count)) }
        if comm.size > 1 && !config.syncBN {
            let scale = 1 / Float(comm.size)
            for (network, rows) in zip(networks, perRank) {
                let values = network.buffers.values
                for i in 0..<network.buffers.count {
                    var sum: Float = 0
                    for row in rows { sum += row[i] }
                    values[i] = sum * scale
                }
            }
        }
        defer {
            for (network, values) in zip(networks, own) { network.buffers.values.update(from: values, count: values.count) }
        }
        try body(perRank)
    }

    /// Writes a checkpoint (rank 0; every rank takes part). A failed write is reported and, unless
    /// stop_on_checkpoint_error, training goes on; the previous checkpoint is never touched.
    func saveCheckpoint(reason: String, validationPSNR: Double?) throws {
        let offsets = try comm.gather([Double(stream?.position.offset ?? 0)]).map { Int($0[0]) }
        var outcome: Result<String, Error> = .success("")
        try withAveragedStatistics { perRank in
            guard comm.isRoot else { return }
            outcome = Result { try writeCheckpoint(reason: reason, validationPSNR: validationPSNR, perRank: perRank, offsets: offsets) }
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
    }

    private func writeCheckpoint(reason: String, validationPSNR: Double?, perRank: [[[Float]]], offsets: [Int]) throws -> String {
        var files: [(name: String, data: Data)] = []
        let metadata = ["srgan-dist": "generator", "phase": config.phase.rawValue, "step": "\(progress.step)", "config": config.yaml]
        files.append(("generator.safetensors", Self.stateDict(generator, metadata: metadata)))
        if let ema {
            ema.buffers.values.update(from: generator.buffers.values, count: generator.buffers.count)
            files.append(("generator_ema.safetensors", Self.stateDict(ema, metadata: metadata)))
        }
        if let discriminator {
            files.append(("discriminator.safetensors", Self.stateDict(discriminator, metadata: ["srgan-dist": "discriminator", "step": "\(progress.step)"])))
        }
        var training = SafetensorsWriter(metadata: ["srgan-dist": "training state",
                                                    "contents": "Adam moments (exp_avg, exp_avg_sq) in parameter-buffer order; each rank's batch-norm running statistics"])
        let optimizers = [("generator", step.generatorOptimizer)] + (step.discriminatorOptimizer.map { [("discriminator", $0)] } ?? [])
        for (name, adam) in optimizers {
            training.add("\(name).exp_avg", floats: UnsafeBufferPointer(start: adam.firstMoment, count: adam.count), shape: [adam.count])
            training.add("\(name).exp_avg_sq", floats: UnsafeBufferPointer(start: adam.secondMoment, count: adam.count), shape: [adam.count])
        }
        for (index, name) in ["generator", "discriminator"].prefix(networks.count).enumerated() {
            for rank in 0..<comm.size {
                training.add("rank\(rank).\(name).running_statistics", floats: perRank[index][rank], shape: [perRank[index][rank].count])
            }
        }
        files.append(("training.safetensors", training.bytes()))
        let rates = config.exactLearningRates(at: progress.step)
        let state = CheckpointState(step: progress.step, phase: config.phase, generatorLR: rates.generator,
                                    discriminatorLR: discriminator == nil ? nil : rates.discriminator,
                                    generatorAdamSteps: step.generatorOptimizer.step, discriminatorAdamSteps: step.discriminatorOptimizer?.step,
                                    streamOffset: stream?.position.offset ?? 0, rankStreamOffsets: offsets, worldSize: comm.size,
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
    func saveFinalModels(to generatorPath: String) throws {
        var outcome: Result<Void, Error> = .success(())
        try withAveragedStatistics { _ in
            guard comm.isRoot else { return }
            outcome = Result {
                let metadata = ["srgan-dist": "generator", "phase": config.phase.rawValue, "steps": "\(progress.step)", "config": config.yaml]
                try generator.save(to: generatorPath, metadata: metadata)
                if let ema {
                    ema.buffers.values.update(from: generator.buffers.values, count: generator.buffers.count)
                    try ema.save(to: (runDirectory as NSString).appendingPathComponent("generator_ema.safetensors"), metadata: metadata)
                }
                if let discriminator {
                    try discriminator.save(to: (runDirectory as NSString).appendingPathComponent("discriminator.safetensors"),
                                           metadata: ["srgan-dist": "discriminator", "config": config.yaml])
                }
            }
        }
        try comm.barrier()
        try together { try outcome.get() }
    }

    /// --resume: rank 0 reads the checkpoint into its networks and optimizers and checks that it
    /// fits these settings; the scalars and moments are broadcast here (weights by run()).
    /// Returns this rank's own running statistics per network when the checkpoint has them for
    /// this number of ranks.
    func restore(from path: String, config: TrainConfig) throws -> [[Float]]? {
        var scalars = [Int64](repeating: 0, count: 7)
        var rankStatistics: [[Float]] = []   // rank 0: per network, every rank's, flat
        try together {
            guard comm.isRoot else { return }
            let state = try Checkpoint.verify(path)
            let saved = try TrainConfig.fromSaved(yaml: state.config, source: (path as NSString).appendingPathComponent(Checkpoint.stateFile))
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
                    ema.parameters.values.update(from: generator.parameters.values, count: generator.parameters.count)
                }
            }
            if let discriminator { try discriminator.load(from: file("discriminator.safetensors"), strict: true) }
            let training = try file("training.safetensors")
            let optimizers = [("generator", step.generatorOptimizer)] + (step.discriminatorOptimizer.map { [("discriminator", $0)] } ?? [])
            for (name, adam) in optimizers {
                for (suffix, target) in [("exp_avg", adam.firstMoment), ("exp_avg_sq", adam.secondMoment)] {
                    let values = try training.floats("\(name).\(suffix)")
                    guard values.count == adam.count else {
                        throw ModelFileError(file: training.path, problem: "\(name).\(suffix) has \(values.count) values for \(adam.count) parameters",
                                             hint: "the checkpoint does not belong to this network; use the matching settings")
                    }
                    target.update(from: values, count: values.count)
                }
            }
            if state.worldSize == comm.size {
                for name in ["generator", "discriminator"].prefix(networks.count) {
                    rankStatistics.append(try (0..<comm.size).flatMap { try training.floats("rank\($0).\(name).running_statistics") })
                }
            }
            scalars = [Int64(state.step), Int64(state.generatorAdamSteps), Int64(state.discriminatorAdamSteps ?? 0), Int64(state.streamOffset),
                       Int64(state.skippedSteps), Int64(state.consecutiveSkips), Int64(state.worldSize)]
            print("resuming from \(path): step \(state.step) (\(state.reason) checkpoint), stream item \(state.streamOffset); training to step \(config.steps)")
        }
        try scalars.withUnsafeMutableBytes { try comm.broadcast($0.baseAddress!, bytes: $0.count, root: 0) }
        progress = Progress(step: Int(scalars[0]), skipped: Int(scalars[4]), consecutiveSkips: Int(scalars[5]))
        step.generatorOptimizer.step = Int(scalars[1])
        step.discriminatorOptimizer?.step = Int(scalars[2])
        restoredStreamOffset = Int(scalars[3])
        for adam in [step.generatorOptimizer] + (step.discriminatorOptimizer.map { [$0] } ?? []) {
            try comm.broadcast(adam.firstMoment, count: adam.count)
            try comm.broadcast(adam.secondMoment, count: adam.count)
        }
        guard Int(scalars[6]) == comm.size else {
            say("note: the checkpoint was written by \(scalars[6]) rank(s), this run has \(comm.size): every rank starts from the "
                + "averaged batch-norm statistics and the shared patch stream continues at item \(scalars[3]), re-partitioned over the ranks")
            return nil
        }
        var own: [[Float]] = []
        for (index, network) in networks.enumerated() {
            let count = network.buffers.count
            var all = comm.isRoot ? rankStatistics[index] : [Float](repeating: 0, count: comm.size * count)
            try all.withUnsafeMutableBufferPointer { try comm.broadcast($0.baseAddress!, count: $0.count) }
            own.append(Array(all[(comm.rank * count)..<((comm.rank + 1) * count)]))
        }
        return own
    }

    /// Each rank's own running statistics, as saved.
    func restoreRankStatistics(_ own: [[Float]]) {
        for (network, values) in zip(networks, own) { network.buffers.values.update(from: values, count: values.count) }
    }
}

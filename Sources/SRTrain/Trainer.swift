// The training loop every rank runs: the same code on one process and under mpirun. Setup
// (TrainingRun.swift) builds the run's context once; then each step:
//   step:            micro-batches -> SRGANStep (gradients averaged over ranks, one all-reduce per
//                    network; a non-finite loss or gradient on any rank skips the step on every rank)
//   updateEMA:       the moving average of G's weights
//   log:             the progress line and metrics.jsonl
//   validateIfDue:   rank 0, every validate_every steps and at the end
//   agreeOnSignals:  one small all-reduce of the signal requests, so every rank stops or
//                    checkpoints at the same step
//   checkpointIfDue: rank 0, every checkpoint_every steps, on request, on SIGTERM/SIGINT, at the end
//   stopIfAsked
// At the end rank 0 also writes the generator (and EMA generator, discriminator) as safetensors
// beside the checkpoints, for --init and for use outside srgan-dist.

import Foundation
import SRCore
import SRData
import SRDistributed
import SRModels

public struct TrainSummary: Sendable {
    public var steps = 0
    public var seconds = 0.0
    public var lastValidation: ValidationResult?
    public var generatorPath = ""
    /// The run stopped early on a signal, before its last step (a checkpoint was written).
    public var stoppedBySignal = false
    /// Whether the checkpoint written when the run stopped on a signal failed.
    public var stopCheckpointFailed = false
}

/// How this invocation runs, beside the run's settings.
public struct TrainerOptions: Sendable {
    /// Continue from this checkpoint folder (read by rank 0; non-nil on every rank when resuming).
    public var resumeFrom: String?
    /// Tests only: a NaN put into `rank`'s gradient at `step` (1-based).
    public var injectNaN: (step: Int, rank: Int)?
    /// Tests only: seconds to wait inside the checkpoint write of `step`, before its completion marker.
    public var checkpointPause: (step: Int, seconds: Double)?
    /// Time every layer, the all-reduces, data, validation and checkpoints (`Trainer.profile`).
    public var profile = false

    public init() {}
}

public final class Trainer {
    public let config: TrainConfig
    public let comm: Communicator
    public let options: TrainerOptions
    /// With `options.profile`: where the training loop's time went, and the loop's wall time.
    public let profile = LayerProfiler()
    public private(set) var profiledSeconds = 0.0
    public private(set) var profiledSteps = 0

    public init(config: TrainConfig, comm: Communicator, options: TrainerOptions = TrainerOptions()) {
        self.config = config
        self.comm = comm
        self.options = options
    }

    public func run() throws -> TrainSummary {
        let run = try TrainingRun(config, comm: comm, options: options, profile: profile)
        defer { run.finish() }
        var loop = LoopState(progress: run.start)
        defer { (profiledSeconds, profiledSteps) = (loop.profiledSeconds, loop.profiledSteps) }
        return try LayerProfiler.profiling(options.profile ? profile : nil) {
            while loop.progress.step < run.config.steps {
                let result = try run.step(&loop)
                if !result.skipped { run.networks.updateEMA(decay: run.config.ema) }
                try run.log(result, loop)
                let validationPSNR = try run.validateIfDue(&loop)
                let signals = try run.agreeOnSignals()
                let saved = try run.checkpointIfDue(loop.progress, signals, validationPSNR: validationPSNR)
                if run.stopIfAsked(signals, &loop) {
                    loop.summary.stopCheckpointFailed = !saved
                    break
                }
            }
            return try run.end(&loop)
        }
    }
}

/// What the ranks agreed on after a step: some rank got a stop signal, or a checkpoint request.
struct AgreedSignals {
    var stop = false
    var checkpoint = false
}

extension TrainingRun {
    /// One training step over `accumulate` micro-batches; a skip is recorded (and too many in a row stop the run).
    func step(_ loop: inout LoopState) throws -> StepResult {
        let stepStart = DispatchTime.now().uptimeNanoseconds
        var batches: [(lr: Tensor, hr: Tensor)] = []
        for _ in 0..<config.accumulate {
            let batch = try outsideLayers("data (stream.next)") { try stream.next() }
            batches.append((batch.lr, batch.hr))
        }
        let index = loop.progress.step, done = index + 1
        if let fault = options.injectNaN {
            networks.step.injectFault = fault.step == done && fault.rank == comm.rank ? { store, network in
                if network == "generator" { store.withGradients { $0[0] = .nan } }
            } : nil
        }
        let rates = config.learningRates(at: index)
        let result = config.phase == .srresnet
            ? networks.step.srresnet(batches: batches, learningRate: rates.generator)
            : networks.step.gan(batches: batches, generatorLearningRate: rates.generator, discriminatorLearningRate: rates.discriminator)
        loop.progress.step = done
        if result.skipped { try recordSkip(result, &loop.progress) } else { loop.progress.consecutiveSkips = 0 }
        if config.checkReplicas { try checkReplicas(step: done) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - stepStart) / 1e9
        loop.stepSeconds.append(seconds)
        if options.profile {
            loop.profiledSeconds += seconds
            loop.profiledSteps += 1
        }
        return result
    }

    /// Every rank learns of a signal any rank received, at this same step.
    func agreeOnSignals() throws -> AgreedSignals {
        let requests = signals.take()
        let agreed = try comm.gather([requests.stop ? 1 : 0, requests.checkpoint ? 1 : 0]).reduce([0, 0]) { [$0[0] + $1[0], $0[1] + $1[1]] }
        return AgreedSignals(stop: agreed[0] > 0, checkpoint: agreed[1] > 0)
    }

    func validateIfDue(_ loop: inout LoopState) throws -> Double? {
        let done = loop.progress.step
        guard done % config.validateEvery == 0 || done == config.steps else { return nil }
        let result = try outsideLayers("validation") { try validate(step: done) }
        if let result { loop.summary.lastValidation = result }
        return result?.psnr
    }

    /// Returns false when a checkpoint was due and could not be written.
    func checkpointIfDue(_ progress: Progress, _ signals: AgreedSignals, validationPSNR: Double?) throws -> Bool {
        let done = progress.step
        guard done % config.checkpointEvery == 0 || done == config.steps || signals.stop || signals.checkpoint else { return true }
        let reason = signals.stop ? "signal" : done == config.steps ? "end" : signals.checkpoint ? "request" : "interval"
        return try outsideLayers("checkpoint") { try saveCheckpoint(progress, reason: reason, validationPSNR: validationPSNR) }
    }

    /// True (after saying how to go on) when a signal asked the run to stop.
    /// A signal during the last step changes nothing: the run is finished.
    func stopIfAsked(_ signals: AgreedSignals, _ loop: inout LoopState) -> Bool {
        guard signals.stop && loop.progress.step < config.steps else { return false }
        say("stopped by a signal after step \(loop.progress.step); continue with: srgan-dist train --resume --run \(runDirectory)")
        loop.summary.stoppedBySignal = true
        return true
    }

    /// The final models (unless stopped early) and the summary.
    func end(_ loop: inout LoopState) throws -> TrainSummary {
        var summary = loop.summary
        summary.generatorPath = (runDirectory as NSString).appendingPathComponent("generator.safetensors")
        if !summary.stoppedBySignal && loop.progress.step >= config.steps {
            try saveFinalModels(loop.progress, to: summary.generatorPath)
        }
        summary.steps = loop.progress.step
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if !summary.stoppedBySignal {
            say(String(format: "done: %ld steps in %@; generator -> %@", loop.progress.step, Trainer.duration(summary.seconds), summary.generatorPath))
        }
        return summary
    }

    /// Logs a skipped step with the ranks whose values were not finite; stops after too many in a row.
    private func recordSkip(_ result: StepResult, _ progress: inout Progress) throws {
        let done = progress.step
        progress.skipped += 1
        progress.consecutiveSkips += 1
        let flags = try comm.gather([result.localFault ? 1 : 0])
        let ranks = flags.indices.filter { flags[$0][0] > 0 }
        let who = ranks.isEmpty ? "the all-reduced sum overflowed" : "on rank \(ranks.map(String.init).joined(separator: ", "))"
        say("step \(done): skipped, a loss or the \(result.faultNetwork) gradient was not finite \(who); weights and optimizer state unchanged "
            + "(\(progress.consecutiveSkips) in a row, \(progress.skipped) in all)")
        log?.record("skip", step: done, [("rank", Double(ranks.first ?? -1)), ("consecutive", Double(progress.consecutiveSkips))])
        if progress.consecutiveSkips > config.maxConsecutiveSkips {
            log?.flush()
            guard comm.isRoot else { throw AlreadyReported() }
            let last = Checkpoint.listed(in: (runDirectory as NSString).appendingPathComponent(Checkpoint.folderName)).last?.path ?? "none yet"
            throw ConfigurationError("stopping: \(progress.consecutiveSkips) steps in a row had non-finite losses or gradients (last at step \(done), \(who)); "
                                     + "the last checkpoint (\(last)) is intact",
                                     hint: "lower the learning rate (--lr) or check the data, then restart with --resume")
        }
    }

    /// The progress line (every log_every steps, the first and the last) and its metrics record.
    func log(_ result: StepResult, _ loop: LoopState) throws {
        let done = loop.progress.step
        guard done % config.logEvery == 0 || done == config.steps || done == 1 else { return }
        let rates = config.learningRates(at: done - 1)
        let averaged = try comm.average([Double(result.contentLoss), Double(result.adversarialLoss),
                                         Double(result.discriminatorLoss), Double(result.dOfHR), Double(result.dOfSR),
                                         Double(result.totalVariation)])
        let recent = loop.stepSeconds.suffix(20)
        let perStep = recent.reduce(0, +) / Double(max(recent.count, 1))
        let samplesPerSecond = Double(globalBatch) / perStep
        let eta = perStep * Double(config.steps - done)
        var line = String(format: "%@ step %ld/%ld | content %.5f", config.phase.rawValue, done, config.steps, averaged[0])
        if config.tvWeight > 0 { line += String(format: " tv %.4g", averaged[5]) }
        if config.phase == .gan {
            line += String(format: " adv %.4f D %.4f | D(HR) %.3f D(SR) %.3f", averaged[1], averaged[2], averaged[3], averaged[4])
        }
        line += String(format: " | lr %.2g | %.2f samples/s | ETA %@", Double(rates.generator), samplesPerSecond, Trainer.duration(eta))
        if comm.isRoot {
            if terminal { print("\r" + line + "    ", terminator: done == config.steps ? "\n" : ""); fflush(stdout) } else { print(line) }
        }
        var values = [("content_loss", averaged[0]), ("lr", Double(rates.generator)), ("samples_per_s", samplesPerSecond)]
        if config.tvWeight > 0 { values.append(("tv_loss", averaged[5])) }
        if config.phase == .gan {
            values += [("adversarial_loss", averaged[1]), ("discriminator_loss", averaged[2]), ("d_hr", averaged[3]), ("d_sr", averaged[4])]
        }
        log?.record("train", step: done, values)
    }

    /// Rank 0 validates with the running statistics averaged over ranks; the others wait.
    private func validate(step done: Int) throws -> ValidationResult? {
        var outcome: Result<ValidationResult?, Error> = .success(nil)
        try networks.withAveragedStatistics(comm: comm, syncBN: config.syncBN) { _ in
            guard comm.isRoot && !validationImages.isEmpty else { return }
            outcome = Result { try validateRoot(step: done, ema: networks.emaModelWithStatistics()) }
        }
        try comm.barrier()   // the others wait for rank 0, without a timeout
        return try comm.together { try outcome.get() }
    }

    private func validateRoot(step done: Int, ema: SuperResolver?) throws -> ValidationResult {
        if terminal { print("") }
        TensorMemory.drain()   // whole images need other sizes than the training step's: free its buffers first
        defer { TensorMemory.drain() }
        let images = validationImages, scale = config.generator.scale
        let result = try Validation.run(networks.model, images: images,
                                        saveFolder: (runDirectory as NSString).appendingPathComponent(String(format: "samples/step-%07d", done)),
                                        saveCount: config.validationSamples)
        var values = [("psnr", result.psnr), ("ssim", result.ssim), ("psnr_bicubic", result.psnrBicubic), ("ssim_bicubic", result.ssimBicubic)]
        var text = String(format: "validation step %d: PSNR %.2f dB (bicubic %.2f, %+.2f), SSIM %.4f (bicubic %.4f) on %d images [%@, %d-pixel border]",
                          done, result.psnr, result.psnrBicubic, result.psnr - result.psnrBicubic, result.ssim,
                          result.ssimBicubic, result.images, config.generator.kind == .colorize ? "RGB vs colour-LR bicubic" : "Y", scale)
        if config.generator.kind == .colorize {
            values += [("psnr_gray_bicubic", result.psnrGrayBicubic), ("ssim_gray_bicubic", result.ssimGrayBicubic)]
            text += String(format: "; gray-LR bicubic %.2f dB, SSIM %.4f", result.psnrGrayBicubic, result.ssimGrayBicubic)
        }
        if let ema {
            let emaResult = try Validation.run(ema, images: images, saveFolder: nil, saveCount: 0)
            values += [("psnr_ema", emaResult.psnr), ("ssim_ema", emaResult.ssim)]
            text += String(format: "; EMA PSNR %.2f SSIM %.4f", emaResult.psnr, emaResult.ssim)
        }
        print(text)
        log?.record("validation", step: done, values)
        log?.flush()
        return result
    }

    /// Debug check: every rank's parameters (and with sync-BN, running statistics) hash to rank 0's.
    private func checkReplicas(step: Int) throws {
        try comm.together {
            var differing: [String] = []
            for network in networks.all {  // every rank takes part in every broadcast, then reports
                // The model range: values, then (equal on every rank only with sync-BN) statistics.
                let count = network.parameters.count + (config.syncBN ? network.buffers.count : 0)
                let hash = network.memory.withModel { Trainer.fnv1a($0.baseAddress!, count: count) }
                var root = hash
                try withUnsafeMutableBytes(of: &root) { try comm.broadcast($0.baseAddress!, bytes: 8, root: 0) }
                if root != hash { differing.append("\(network.summary) (hash \(String(hash, radix: 16)) vs \(String(root, radix: 16)))") }
            }
            guard differing.isEmpty else {
                throw RankError(rank: comm.rank, ConfigurationError("\(differing.joined(separator: ", ")) differs from rank 0's after step \(step)",
                                                                    hint: "replicas diverged: report this with the config"))
            }
        }
    }

    /// Runs `body` (data, validation, a checkpoint) with the layer profiler paused, recording its
    /// wall time under `label` when profiling.
    private func outsideLayers<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        guard options.profile else { return try body() }
        return try profile.time(label, scope: "loop") { try LayerProfiler.profiling(nil, body) }
    }
}

extension Trainer {
    /// --init: a generator safetensors file, a checkpoint folder, or a run folder (its newest
    /// complete checkpoint, else its generator.safetensors).
    static func loadGenerator(_ generator: Generator, from path: String, note: (String) -> Void) throws {
        var file = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let top = (path as NSString).appendingPathComponent("generator.safetensors")
            if FileManager.default.fileExists(atPath: top) {
                file = top
            } else if let checkpoint = try Checkpoint.locate(path, warn: note) {
                file = (checkpoint.path as NSString).appendingPathComponent("generator.safetensors")
            } else {
                throw ModelFileError(file: path, problem: "holds neither generator.safetensors nor a complete checkpoint",
                                     hint: "pass a generator .safetensors file, a checkpoint folder or a finished run folder")
            }
        }
        try generator.load(from: SafetensorsFile(path: file), strict: true)
    }

    static func fnv1a(_ values: UnsafePointer<Float>, count: Int) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in 0..<count {
            hash = (hash ^ UInt64(values[i].bitPattern)) &* 0x100_0000_01B3
        }
        return hash
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

// The training loop every rank runs: the same code on one process and under mpirun.
//   setup: settings checked, packed data opened, networks built from the seed (G from --init in
//          the GAN phase), or everything restored from a checkpoint (--resume) on rank 0; rank
//          0's weights and optimizer state broadcast; this rank's share of the stream opened
//   step:  micro-batches -> SRGANStep (gradients averaged over ranks, one all-reduce per network;
//          a non-finite loss or gradient on any rank skips the step on every rank)
//   after: one small all-reduce of the signal requests, so every rank stops or checkpoints at the
//          same step; validation (rank 0) every validate_every steps; checkpoints (rank 0) every
//          checkpoint_every steps, on request, on SIGTERM/SIGINT and at the end
//   end:   rank 0 also writes the generator (and EMA generator, discriminator) as safetensors
//          beside the checkpoints, for --init and for use outside srgan-dist

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
    /// The run stopped early on a signal (a checkpoint was written).
    public var stoppedBySignal = false
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
    public private(set) var config: TrainConfig
    public let comm: Communicator
    public let options: TrainerOptions
    // Under mpirun a rank's stdout may be a pty even when the job's is a file: plain lines there.
    var terminal: Bool { isatty(STDOUT_FILENO) != 0 && !Launch.underMPI }

    // Built by run().
    var generator: Generator!
    var discriminator: Discriminator?
    var ema: Generator?
    var step: SRGANStep!
    var stream: PatchStream?
    var log: MetricsLog?
    var patchSize = 0
    var progress = Progress()
    /// With `options.profile`: where the training loop's time went, and the loop's wall time.
    public let profile = LayerProfiler()
    public private(set) var profiledSeconds = 0.0
    public private(set) var profiledSteps = 0

    /// What a checkpoint restores besides weights and moments.
    struct Progress {
        var step = 0
        var skipped = 0
        var consecutiveSkips = 0
    }

    public init(config: TrainConfig, comm: Communicator, options: TrainerOptions = TrainerOptions()) {
        self.config = config
        self.comm = comm
        self.options = options
    }

    func say(_ text: String) {
        if comm.isRoot { print(text) }
    }

    var runDirectory: String { config.run }
    var networks: [Network] { [generator as Network] + (discriminator.map { [$0 as Network] } ?? []) }

    /// Runs `body` on every rank; if it fails on any rank, every rank stops (the failing one
    /// with its error, the others quietly), so nobody waits forever at a collective.
    func together<T>(_ body: () throws -> T) throws -> T {
        var result: Result<T, Error> = Result { try body() }
        var failures = [result.isFailure ? 1.0 : 0.0]
        try failures.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: 1) }
        if case .failure(let error) = result { throw error }
        if failures[0] > 0 {
            result = .failure(ConfigurationError("rank \(comm.rank): stopping because another rank failed (see its message)",
                                                 hint: "fix the problem that rank reports"))
        }
        return try result.get()
    }

    public func run() throws -> TrainSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        var config = self.config
        try config.validate()
        guard let dataPath = config.data else {
            throw ConfigurationError("no training data", hint: "pass --data a folder made by 'srgan-dist pack'")
        }
        let dataset = try together { try PackedDataset(directory: dataPath) }
        let scale = config.generator.scale
        guard dataset.patchSize % 16 == 0, dataset.patchSize % scale == 0 else {
            throw ConfigurationError("\(dataPath): patch size \(dataset.patchSize) is not a multiple of 16 and of the scale \(scale)",
                                     hint: "pack again with a --patch-size such as 96")
        }
        if config.generator.kind == .colorize { try Self.checkColorizeData(dataset, dataPath, config.generator) }
        patchSize = dataset.patchSize
        config = config.fitted(toPatchSize: dataset.patchSize)
        self.config = config
        let resuming = options.resumeFrom != nil
        let validationImages: [ValidationImage] = try together {
            guard comm.isRoot else { return [] }
            let configPath = (runDirectory as NSString).appendingPathComponent("config.yaml")
            if !resuming && FileManager.default.fileExists(atPath: configPath) {
                throw ConfigurationError("\(runDirectory): already holds a run",
                                         hint: "add --resume to continue it from its newest checkpoint, or choose another --run folder; nothing was overwritten")
            }
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
            if !resuming { try AtomicFile.write(Data(config.yaml.utf8), to: configPath) }  // resuming: once the checkpoint is accepted
            return try config.val.map {
                try Validation.loadImages($0, scale: scale, sideMultiple: config.generator.lrSideMultiple,
                                          colourOnly: config.generator.kind == .colorize, note: { say($0) })
            } ?? []
        }
        let globalBatch = config.batch * comm.size * config.accumulate
        say("srgan-dist train: resolved config (saved to \(runDirectory)/config.yaml)\n" + config.yaml)
        say("batch \(config.batch) per rank x \(comm.size) rank(s) x accumulate \(config.accumulate) = global batch \(globalBatch); "
            + "\(dataset.patchCount) patches of \(dataset.patchSize)x\(dataset.patchSize), "
            + "\(BatchMaker.stepsPerEpoch(patches: dataset.patchCount, itemsPerStep: globalBatch)) steps per epoch")

        // Networks, identical on every rank.
        generator = Generator(config.generator, seed: config.seed)
        discriminator = config.phase == .gan ? Discriminator(config.discriminator, seed: config.seed &+ 1) : nil
        say("networks: \(generator.summary), \(generator.parameters.count) parameters"
            + (discriminator.map { "; \($0.summary), \($0.parameters.count) parameters" } ?? ""))
        let content: ContentLoss = try together {
            let source: VGGWeightsSource? = config.vggWeights.map { .file($0) } ?? (config.allowRandomVGG ? .randomForTesting : nil)
            let loss = config.contentLoss == .combined
                ? try ContentLoss(pixel: config.pixelLoss, pixelWeight: Float(config.pixelWeight), vgg: config.vggLoss,
                                  vggWeight: Float(config.vggWeight), vggWeights: source)
                : try ContentLoss(config.contentLoss, vggWeights: source)
            loss.imagesInMinusOneToOne = true
            if let initFrom = config.initFrom, !resuming { try loadGenerator(generator, from: initFrom) }
            return loss
        }
        if config.phase == .gan && config.initFrom == nil && !resuming {
            say("note: the gan phase starts from a random generator; the paper starts it from a trained SRResNet (--init)")
        }
        step = SRGANStep(generator: generator, discriminator: discriminator, contentLoss: content,
                         adam: AdamSettings(beta1: config.adamBeta1, beta2: config.adamBeta2))
        step.adversarialWeight = Float(config.adversarialWeight)
        step.ganLoss = config.ganLoss
        step.totalVariationWeight = Float(config.tvWeight)
        step.averageGradients(over: comm)
        if config.globalSkip {
            step.skip = config.generator.kind == .colorize ? GraySkip(scale: scale).callAsFunction : BicubicSkip(scale: scale).callAsFunction
        }
        if config.ema > 0 { ema = Generator(config.generator, seed: config.seed) }

        // Rank 0's state (fresh or restored) on every rank.
        var rankStatistics: [[Float]]?
        if let checkpoint = options.resumeFrom {
            rankStatistics = try restore(from: checkpoint, config: config)
            try together {
                if comm.isRoot { try AtomicFile.write(Data(config.yaml.utf8), to: (runDirectory as NSString).appendingPathComponent("config.yaml")) }
            }
        }
        for network in networks {
            try comm.broadcast(network.parameters.values, count: network.parameters.count)
            try comm.broadcast(network.buffers.values, count: network.buffers.count)
            if config.syncBN {
                for bn in network.batchNorms {
                    bn.statisticsReducer = { [comm] buffer, count in
                        do { try comm.allReduceSum(buffer, count: count) } catch {
                            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                            comm.abort(code: 1)
                        }
                    }
                }
            }
        }
        if let rankStatistics { restoreRankStatistics(rankStatistics) }
        if let ema {
            if !resuming { ema.parameters.values.update(from: generator.parameters.values, count: generator.parameters.count) }
            try comm.broadcast(ema.parameters.values, count: ema.parameters.count)
        }

        var streamOptions = StreamOptions(rank: comm.rank, worldSize: comm.size, batchSize: config.batch, seed: config.seed, scale: scale)
        streamOptions.prefetch = 2 * config.accumulate + 1
        streamOptions.lightnessLR = config.generator.kind == .colorize
        let streamOffset = progress.step == 0 ? 0 : restoredStreamOffset
        let stream = PatchStream(dataset: dataset, options: streamOptions, position: StreamPosition(offset: streamOffset))
        self.stream = stream
        defer { stream.stop() }
        log = comm.isRoot ? try MetricsLog(runDirectory: runDirectory, resumingAfter: resuming ? progress.step : nil) : nil
        var summary = TrainSummary()
        var stepSeconds: [Double] = []
        let signals = StopSignals.shared
        signals.rank = comm.rank
        signals.install()
        comm.watchdogSeconds = config.watchdogSeconds
        defer { comm.watchdogSeconds = 0 }
        if progress.step >= config.steps {
            say("the checkpoint is at step \(progress.step), which is already --steps \(config.steps): nothing to train (raise --steps to go on)")
        }

        if options.profile { LayerProfiler.active = profile }
        defer { LayerProfiler.active = nil }
        for index in progress.step..<max(progress.step, config.steps) {
            let stepStart = DispatchTime.now().uptimeNanoseconds
            defer {
                if options.profile {
                    profiledSeconds += Double(DispatchTime.now().uptimeNanoseconds - stepStart) / 1e9
                    profiledSteps += 1
                }
            }
            var batches: [(lr: Tensor, hr: Tensor)] = []
            for _ in 0..<config.accumulate {
                let batch = try outsideLayers("data (stream.next)") { try stream.next() }
                batches.append((batch.lr, batch.hr))
            }
            let done = index + 1
            if let fault = options.injectNaN {
                step.injectFault = fault.step == done && fault.rank == comm.rank ? { store, network in
                    if network == "generator" { store.grads[0] = .nan }
                } : nil
            }
            let rates = config.learningRates(at: index)
            let result = config.phase == .srresnet
                ? step.srresnet(batches: batches, learningRate: rates.generator)
                : step.gan(batches: batches, generatorLearningRate: rates.generator, discriminatorLearningRate: rates.discriminator)
            progress.step = done
            if result.skipped {
                try recordSkip(result, step: done)
            } else {
                progress.consecutiveSkips = 0
                if let ema {
                    let decay = Float(config.ema), keep = 1 - Float(config.ema)
                    let e = ema.parameters.values, p = generator.parameters.values
                    for i in 0..<generator.parameters.count { e[i] = decay * e[i] + keep * p[i] }
                }
            }
            if config.checkReplicas { try checkReplicas(networks, step: done) }
            stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - stepStart) / 1e9)
            if done % config.logEvery == 0 || done == config.steps || done == 1 {
                try logProgress(result, step: done, rates: rates, stepSeconds: stepSeconds, globalBatch: globalBatch)
            }
            var validationPSNR: Double?
            if done % config.validateEvery == 0 || done == config.steps {
                let result = try outsideLayers("validation") { try validate(validationImages, step: done, scale: scale) }
                validationPSNR = result?.psnr
                if let result { summary.lastValidation = result }
            }
            // Every rank learns of a signal any rank received, at this same step.
            let requests = signals.take()
            let agreed = try comm.gather([requests.stop ? 1 : 0, requests.checkpoint ? 1 : 0]).reduce([0, 0]) { [$0[0] + $1[0], $0[1] + $1[1]] }
            let stop = agreed[0] > 0
            if done % config.checkpointEvery == 0 || done == config.steps || stop || agreed[1] > 0 {
                let reason = stop ? "signal" : done == config.steps ? "end" : agreed[1] > 0 ? "request" : "interval"
                try outsideLayers("checkpoint") { try saveCheckpoint(reason: reason, validationPSNR: validationPSNR) }
            }
            if stop {
                say("stopped by a signal after step \(done); continue with: srgan-dist train --resume --run \(runDirectory)")
                summary.stoppedBySignal = true
                break
            }
        }

        summary.generatorPath = (runDirectory as NSString).appendingPathComponent("generator.safetensors")
        if !summary.stoppedBySignal && progress.step >= config.steps {
            try saveFinalModels(to: summary.generatorPath)
        }
        summary.steps = progress.step
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if !summary.stoppedBySignal {
            say(String(format: "done: %d steps in %@; generator -> %@", progress.step, Self.duration(summary.seconds), summary.generatorPath))
        }
        return summary
    }

    /// Logs a skipped step with the ranks whose values were not finite; stops after too many in a row.
    private func recordSkip(_ result: StepResult, step done: Int) throws {
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

    private func logProgress(_ result: StepResult, step done: Int, rates: (generator: Float, discriminator: Float),
                             stepSeconds: [Double], globalBatch: Int) throws {
        let averaged = try comm.average([Double(result.contentLoss), Double(result.adversarialLoss),
                                         Double(result.discriminatorLoss), Double(result.dOfHR), Double(result.dOfSR),
                                         Double(result.totalVariation)])
        let recent = stepSeconds.suffix(20)
        let perStep = recent.reduce(0, +) / Double(max(recent.count, 1))
        let samplesPerSecond = Double(globalBatch) / perStep
        let eta = perStep * Double(config.steps - done)
        var line = String(format: "%@ step %d/%d | content %.5f", config.phase.rawValue, done, config.steps, averaged[0])
        if config.tvWeight > 0 { line += String(format: " tv %.4g", averaged[5]) }
        if config.phase == .gan {
            line += String(format: " adv %.4f D %.4f | D(HR) %.3f D(SR) %.3f", averaged[1], averaged[2], averaged[3], averaged[4])
        }
        line += String(format: " | lr %.2g | %.2f samples/s | ETA %@", Double(rates.generator), samplesPerSecond, Self.duration(eta))
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
    private func validate(_ images: [ValidationImage], step done: Int, scale: Int) throws -> ValidationResult? {
        var outcome: Result<ValidationResult?, Error> = .success(nil)
        try withAveragedStatistics { _ in
            guard comm.isRoot && !images.isEmpty else { return }
            if let ema { ema.buffers.values.update(from: generator.buffers.values, count: generator.buffers.count) }
            outcome = Result { try validateRoot(images, step: done, scale: scale, ema: ema) }
        }
        try comm.barrier()   // the others wait for rank 0, without a timeout
        return try together { try outcome.get() }
    }

    private func validateRoot(_ images: [ValidationImage], step done: Int, scale: Int, ema: Generator?) throws -> ValidationResult {
        if terminal { print("") }
        TensorMemory.drain()   // whole images need other sizes than the training step's: free its buffers first
        defer { TensorMemory.drain() }
        let result = try Validation.run(generator, images: images, globalSkip: config.globalSkip,
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
            let emaResult = try Validation.run(ema, images: images, globalSkip: config.globalSkip, saveFolder: nil, saveCount: 0)
            values += [("psnr_ema", emaResult.psnr), ("ssim_ema", emaResult.ssim)]
            text += String(format: "; EMA PSNR %.2f SSIM %.4f", emaResult.psnr, emaResult.ssim)
        }
        print(text)
        log?.record("validation", step: done, values)
        log?.flush()
        return result
    }

    /// --init: a generator safetensors file, a checkpoint folder, or a run folder (its newest
    /// complete checkpoint, else its generator.safetensors).
    private func loadGenerator(_ generator: Generator, from path: String) throws {
        var file = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let top = (path as NSString).appendingPathComponent("generator.safetensors")
            if FileManager.default.fileExists(atPath: top) {
                file = top
            } else if let checkpoint = try Checkpoint.locate(path, warn: { say($0) }) {
                file = (checkpoint.path as NSString).appendingPathComponent("generator.safetensors")
            } else {
                throw ModelFileError(file: path, problem: "holds neither generator.safetensors nor a complete checkpoint",
                                     hint: "pass a generator .safetensors file, a checkpoint folder or a finished run folder")
            }
        }
        try generator.load(from: SafetensorsFile(path: file), strict: true)
    }

    /// Debug check: every rank's parameters (and with sync-BN, running statistics) hash to rank 0's.
    private func checkReplicas(_ networks: [Network], step: Int) throws {
        try together {
            var differing: [String] = []
            for network in networks {  // every rank takes part in every broadcast, then reports
                var hash = Self.fnv1a(network.parameters.values, count: network.parameters.count)
                if config.syncBN { hash ^= Self.fnv1a(network.buffers.values, count: network.buffers.count) }
                var root = hash
                try withUnsafeMutableBytes(of: &root) { try comm.broadcast($0.baseAddress!, bytes: 8, root: 0) }
                if root != hash { differing.append("\(network.summary) (hash \(String(hash, radix: 16)) vs \(String(root, radix: 16)))") }
            }
            guard differing.isEmpty else {
                throw ConfigurationError("rank \(comm.rank): \(differing.joined(separator: ", ")) differs from rank 0's after step \(step)",
                                         hint: "replicas diverged: report this with the config")
            }
        }
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

    var restoredStreamOffset = 0

    /// Runs `body` (data, validation, a checkpoint) with the layer profiler paused, recording its
    /// wall time under `label` when profiling.
    private func outsideLayers<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        guard options.profile else { return try body() }
        LayerProfiler.active = nil
        defer { LayerProfiler.active = profile }
        return try profile.time(label, scope: "loop", body)
    }
}

extension SRGANStep {
    /// Gradients averaged over `comm`'s ranks before each update (timed as "all-reduce" while a
    /// LayerProfiler is active), and the relativistic loss's scalars summed over them; an
    /// all-reduce that fails ends the whole job after saying why.
    public func averageGradients(over comm: Communicator) {
        reduceScalars = { [comm] values in
            guard comm.size > 1 else { return }
            do {
                try values.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: $0.count) }
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                comm.abort(code: 1)
            }
        }
        reduceGradients = { [comm, generator] store in
            let network = store === generator.parameters ? "Generator" : "Discriminator"
            do {
                if let profiler = LayerProfiler.active {
                    try profiler.time("\(network) gradients, \(store.count) floats", scope: "all-reduce") {
                        try comm.allReduceAverage(store.grads, count: store.count)
                    }
                } else {
                    try comm.allReduceAverage(store.grads, count: store.count)
                }
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                comm.abort(code: 1)
            }
        }
    }
}

/// The bicubic-upsampled LR batch mapped to [-1,1], added to G's output with --global-skip.
public final class BicubicSkip {
    let scale: Int
    private var resizer: BicubicResizer?

    public init(scale: Int) { self.scale = scale }

    public func callAsFunction(_ lr: Tensor) -> Tensor {
        if resizer?.inHeight != lr.h || resizer?.inWidth != lr.w {
            resizer = BicubicResizer(inHeight: lr.h, inWidth: lr.w, scale: Double(scale))
        }
        let resizer = resizer!
        let out = Tensor(shape: [lr.n, lr.c, resizer.outHeight, resizer.outWidth])
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: resizer.outHeight * lr.w)
        defer { scratch.deallocate() }
        for n in 0..<lr.n {
            resizer.resize(lr.data + n * lr.c * lr.h * lr.w, out.data + n * lr.c * resizer.outHeight * resizer.outWidth,
                           channels: lr.c, scratch: scratch)
        }
        for i in 0..<out.count { out[i] = 2 * out[i] - 1 }
        return out
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}

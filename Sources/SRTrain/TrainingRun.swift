// Setup: everything a run needs, built once, the same way on every rank, then never replaced:
//   settings checked, packed data opened, run folder and config.yaml (rank 0), validation images
//   (rank 0); networks from the seed (G from --init in the gan phase) and the step that trains them;
//   or all of it restored from a checkpoint (--resume) on rank 0; rank 0's weights broadcast;
//   this rank's share of the patch stream opened at the restored position; the metrics log,
//   signals, watchdog and profiler.
// What changes while training (step counters, timings) is the loop's LoopState, not this.

import Foundation
import SRCore
import SRData
import SRDistributed
import SRModels

/// What a checkpoint restores besides weights and moments.
struct Progress {
    var step = 0
    var skipped = 0
    var consecutiveSkips = 0
}

/// The loop's own state: what it counts and times, step after step.
struct LoopState {
    var progress: Progress
    var stepSeconds: [Double] = []
    var summary = TrainSummary()
    var profiledSeconds = 0.0
    var profiledSteps = 0
}

/// The generator, the discriminator (gan phase), the EMA generator (ema > 0) and the step that
/// trains them: identical on every rank once setup has broadcast rank 0's.
final class TrainingNetworks {
    /// G with its global skip: what the step trains and validation runs.
    let model: SuperResolver
    let generator: Generator
    let discriminator: Discriminator?
    let ema: Generator?
    let step: SRGANStep
    /// G, then D: the order of checkpoints, broadcasts and statistics.
    let all: [Network]

    init(_ config: TrainConfig, contentLoss: ContentLoss, comm: Communicator) {
        generator = Generator(config.generator, seed: config.seed)
        discriminator = config.phase == .gan ? Discriminator(config.discriminator, seed: config.seed &+ 1) : nil
        ema = config.ema > 0 ? Generator(config.generator, seed: config.seed) : nil
        all = [generator as Network] + (discriminator.map { [$0 as Network] } ?? [])
        model = SuperResolver(generator, globalSkip: config.globalSkip)
        step = SRGANStep(model: model, discriminator: discriminator, contentLoss: contentLoss,
                         settings: StepSettings(adversarialWeight: Float(config.adversarialWeight), ganLoss: config.ganLoss,
                                                totalVariationWeight: Float(config.tvWeight),
                                                adam: AdamSettings(beta1: config.adamBeta1, beta2: config.adamBeta2)),
                         reduction: .averaged(over: comm, generator: generator.parameters))
    }

    var optimizers: [(name: String, adam: Adam)] {
        [("generator", step.generatorOptimizer)] + (step.discriminatorOptimizer.map { [("discriminator", $0)] } ?? [])
    }

    /// EMA <- decay x EMA + (1 - decay) x G, over the parameters.
    func updateEMA(decay: Double) {
        guard let ema else { return }
        let keep = Float(decay), take = 1 - Float(decay)
        ema.memory.withModel { e in generator.memory.withModel { p in
            for i in 0..<generator.parameters.count { e[i] = keep * e[i] + take * p[i] }
        } }
    }

    /// The EMA generator's running statistics are G's (it is validated and saved with them).
    func emaWithStatistics() -> Generator? {
        ema?.memory.withStatistics { e in generator.memory.withStatistics { g in _ = e.update(fromContentsOf: g) } }
        return ema
    }

    /// The EMA generator with G's statistics and G's global skip, to validate.
    func emaModelWithStatistics() -> SuperResolver? {
        emaWithStatistics().map { SuperResolver($0, globalSkip: model.globalSkip) }
    }
}

final class TrainingRun {
    let config: TrainConfig
    let comm: Communicator
    let options: TrainerOptions
    let networks: TrainingNetworks
    let stream: PatchStream
    let log: MetricsLog?
    /// Rank 0's validation images (empty on the others).
    let validationImages: [ValidationImage]
    let patchSize: Int
    let globalBatch: Int
    let profile: LayerProfiler
    /// Where the loop starts: step 0, or the checkpoint's.
    let start: Progress
    let started = DispatchTime.now().uptimeNanoseconds
    let signals = StopSignals.shared
    // Under mpirun a rank's stdout may be a pty even when the job's is a file: plain lines there.
    let terminal = isatty(STDOUT_FILENO) != 0 && !Launch.underMPI

    var runDirectory: String { config.run }
    func say(_ text: String) { if comm.isRoot { print(text) } }

    init(_ settings: TrainConfig, comm: Communicator, options: TrainerOptions, profile: LayerProfiler) throws {
        try settings.validate()
        guard let dataPath = settings.data else {
            throw ConfigurationError("no training data", hint: "pass --data a folder made by 'srgan-dist pack'")
        }
        let dataset = try comm.together { try PackedDataset(directory: dataPath) }
        let scale = settings.generator.scale
        guard dataset.patchSize % 16 == 0, dataset.patchSize % scale == 0 else {
            throw ConfigurationError("\(dataPath): patch size \(dataset.patchSize) is not a multiple of 16 and of the scale \(scale)",
                                     hint: "pack again with a --patch-size such as 96")
        }
        if settings.generator.kind == .colorize { try Trainer.checkColorizeData(dataset, dataPath, settings.generator) }
        let config = settings.fitted(toPatchSize: dataset.patchSize)
        let resuming = options.resumeFrom != nil
        let say = { (text: String) in if comm.isRoot { print(text) } }
        validationImages = try comm.together {
            guard comm.isRoot else { return [] }
            try Self.prepareRunFolder(config, resuming: resuming)
            return try config.val.map {
                try Validation.loadImages($0, scale: scale, sideMultiple: config.generator.lrSideMultiple,
                                          colourOnly: config.generator.kind == .colorize, note: say)
            } ?? []
        }
        globalBatch = config.batch * comm.size * config.accumulate
        say(PlatformSummary.lines(threads: BLASThreads.current).joined(separator: "\n"))
        say("srgan-dist train: resolved config (saved to \(config.run)/config.yaml)\n" + config.yaml)
        say("batch \(config.batch) per rank x \(comm.size) rank(s) x accumulate \(config.accumulate) = global batch \(globalBatch); "
            + "\(dataset.patchCount) patches of \(dataset.patchSize)x\(dataset.patchSize), "
            + "\(BatchMaker.stepsPerEpoch(patches: dataset.patchCount, itemsPerStep: globalBatch)) steps per epoch")

        let contentLoss: ContentLoss = try comm.together {
            let source: VGGWeightsSource? = config.vggWeights.map { .file($0) } ?? (config.allowRandomVGG ? .randomForTesting : nil)
            let loss = config.contentLoss == .combined
                ? try ContentLoss(pixel: config.pixelLoss, pixelWeight: Float(config.pixelWeight), vgg: config.vggLoss,
                                  vggWeight: Float(config.vggWeight), vggWeights: source)
                : try ContentLoss(config.contentLoss, vggWeights: source)
            loss.imagesInMinusOneToOne = true
            return loss
        }
        let networks = TrainingNetworks(config, contentLoss: contentLoss, comm: comm)
        try networks.computeProducts(in: config.precision, vgg: contentLoss.vgg, comm: comm)
        if config.precision == .bf16 { say("products: bf16 (inputs rounded to nearest even, fp32 sums; AVX512-BF16 VDPBF16PS)") }
        say("networks: \(networks.generator.summary), \(networks.generator.parameters.count) parameters"
            + (networks.discriminator.map { "; \($0.summary), \($0.parameters.count) parameters" } ?? ""))
        if let initFrom = config.initFrom, !resuming {
            try comm.together { try Trainer.loadGenerator(networks.generator, from: initFrom, note: say) }
        }
        if config.phase == .gan && config.initFrom == nil && !resuming {
            say("note: the gan phase starts from a random generator; the paper starts it from a trained SRResNet (--init)")
        }

        // Rank 0's state (fresh or restored) on every rank.
        var restored = Restored()
        if let checkpoint = options.resumeFrom {
            restored = try networks.restore(from: checkpoint, config: config, patchSize: dataset.patchSize, comm: comm)
            try comm.together {
                if comm.isRoot { try AtomicFile.write(Data(config.yaml.utf8), to: (config.run as NSString).appendingPathComponent("config.yaml")) }
            }
        }
        try networks.broadcast(comm: comm, restored: restored, syncBN: config.syncBN, resuming: resuming)

        var streamOptions = StreamOptions(rank: comm.rank, worldSize: comm.size, batchSize: config.batch, seed: config.seed, scale: scale)
        streamOptions.prefetch = 2 * config.accumulate + 1
        streamOptions.lightnessLR = config.generator.kind == .colorize
        log = comm.isRoot ? try MetricsLog(runDirectory: config.run, resumingAfter: resuming ? restored.progress.step : nil) : nil
        stream = PatchStream(dataset: dataset, options: streamOptions, position: StreamPosition(offset: restored.streamOffset))
        self.config = config
        self.comm = comm
        self.options = options
        self.networks = networks
        self.patchSize = dataset.patchSize
        self.profile = profile
        start = restored.progress
        signals.rank = comm.rank
        signals.install()
        comm.watchdogSeconds = config.watchdogSeconds
        if start.step >= config.steps {
            say("the checkpoint is at step \(start.step), which is already --steps \(config.steps): nothing to train (raise --steps to go on)")
        }
    }

    /// Undoes what setup started: the stream's reader, the watchdog.
    func finish() {
        stream.stop()
        comm.watchdogSeconds = 0
    }

    /// Rank 0: the run folder, with config.yaml unless resuming (then once the checkpoint is accepted).
    private static func prepareRunFolder(_ config: TrainConfig, resuming: Bool) throws {
        let configPath = (config.run as NSString).appendingPathComponent("config.yaml")
        if !resuming && FileManager.default.fileExists(atPath: configPath) {
            throw ConfigurationError("\(config.run): already holds a run",
                                     hint: "add --resume to continue it from its newest checkpoint, or choose another --run folder; nothing was overwritten")
        }
        try FileManager.default.createDirectory(atPath: config.run, withIntermediateDirectories: true)
        if !resuming { try AtomicFile.write(Data(config.yaml.utf8), to: configPath) }
    }
}

extension TrainingNetworks {
    /// The products of G, D, the EMA copy and VGG19 in `precision`, once every rank agrees: a rank
    /// given another precision, or one that cannot compute bf16 (no AVX512-BF16, or a narrower
    /// kernel path forced), stops the run before its first step with one error naming that rank.
    func computeProducts(in precision: ProductPrecision, vgg: VGG19Features?, comm: Communicator) throws {
        let code = Double(ProductPrecision.allCases.firstIndex(of: precision)!)
        let codes = try comm.gather([code]).map { ProductPrecision.allCases[Int($0[0])] }
        if let other = codes.indices.first(where: { codes[$0] != codes[0] }) {
            throw ConfigurationError("rank \(other) computes its products in \(codes[other].rawValue) and rank 0 in \(codes[0].rawValue): "
                                     + "every rank must use the same precision",
                                     hint: "give every rank the same --precision and config file (precision: in RUN/config.yaml)")
        }
        try comm.together {
            for network in all + (ema.map { [$0] } ?? []) { try network.setProductPrecision(precision) }
            try vgg?.setProductPrecision(precision)
        }
    }

    /// Rank 0's weights, running statistics and Adam moments on every rank (one collective per
    /// network: its live bank), then each rank's own restored statistics; with sync-BN the batch
    /// norms sum their statistics over the ranks.
    func broadcast(comm: Communicator, restored: Restored, syncBN: Bool, resuming: Bool) throws {
        for network in all {
            try network.memory.withLiveBank { try comm.broadcast($0.baseAddress!, count: $0.count) }
            guard syncBN else { continue }
            for bn in network.batchNorms {
                bn.statisticsReducer = { [comm] buffer, count in
                    do { try comm.allReduceSum(buffer, count: count) } catch {
                        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                        comm.abort(code: 1)
                    }
                }
            }
        }
        if let own = restored.rankStatistics {
            for (network, values) in zip(all, own) { network.memory.withStatistics { _ = $0.update(fromContentsOf: values) } }
        }
        if let ema {
            if !resuming { ema.copyParameters(from: generator) }
            try ema.memory.withLiveBank { try comm.broadcast($0.baseAddress!, count: $0.count) }
        }
    }
}

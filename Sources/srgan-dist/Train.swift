// `srgan-dist train`: the same command on one process and under `mpirun -n N`.

import ArgumentParser
import Foundation
import SRCore
import SRDistributed
import SRTrain

extension Phase: ExpressibleByArgument {}
extension ContentLossKind: ExpressibleByArgument {}
extension ProductPrecision: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train SRResNet or SRGAN, on one process or data-parallel under mpirun.",
        discussion: """
            Settings: the preset, then --config FILE (YAML) over it, then these options and --set KEY=VALUE over both \
            (every key of RUN/config.yaml; --list-settings lists them). \
            The resolved config is printed and saved as RUN/config.yaml. Presets: paper (Ledig et al. 2017), \
            tiny (minutes on 2 cores), combined and tiny-combined (MSE + adversarial + VGG + TV, docs/gan-variants.md). Example: mpirun -n 2 srgan-dist train --preset tiny --data packed --val packed --run runs/a

            Checkpoints go to RUN/checkpoints/ (every --checkpoint-every steps, at the end, on SIGTERM/SIGINT, \
            and on SIGUSR1). --resume continues the run in --run from its newest complete checkpoint with the \
            settings it was started with (options given now override them). Under mpirun, give the ranks time to \
            write the checkpoint on SIGTERM: mpirun --mca odls_base_sigkill_timeout 120 ... (launch/train-mpi.sh does), or stop with kill -USR2 <mpirun>
            """)

    @Option(help: "Preset: paper, tiny, combined, tiny-combined or colorize (default paper; with --resume, the run's own settings).")
    var preset: String?

    @Option(help: "YAML file of settings over the preset (keys as in RUN/config.yaml).")
    var config: String?

    @Option(help: "Packed training data (srgan-dist pack).")
    var data: String?

    @Option(help: "Validation images: a folder of PNGs or a packed folder with val/.")
    var val: String?

    @Option(name: .customLong("run"), help: "Run folder: everything the run writes goes here.")
    var runDirectory: String?

    @Option(help: "srresnet (G alone, pixel loss) or gan (G and D).")
    var phase: Phase?

    @Option(name: .customLong("init"), help: "Generator to start from (safetensors, or a run folder): the trained SRResNet for the gan phase.")
    var initFrom: String?

    @Option(parsing: .unconditional, help: "Training steps.")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Batch per rank (global batch = batch x ranks x accumulate).")
    var batch: Int?

    @Option(parsing: .unconditional, help: "Micro-batches accumulated per step.")
    var accumulate: Int?

    @Option(parsing: .unconditional, help: "Generator learning rate.")
    var lr: Double?

    @Option(parsing: .unconditional, help: "Discriminator learning rate (default: the generator's).")
    var discriminatorLR: Double?

    @Option(help: "Content loss: mse, l1, vgg22, vgg54, combined (pixel_loss and vgg_loss weighted, in the config file).")
    var contentLoss: ContentLossKind?

    @Option(help: "VGG19 weights (safetensors, torchvision names) for vgg22/vgg54.")
    var vggWeights: String?

    @Flag(help: "Tests only: allow a VGG content loss on random VGG19 weights.")
    var allowRandomVGG = false

    @Option(parsing: .unconditional, help: "Exponential moving average of the generator weights, e.g. 0.999 (0: off).")
    var ema: Double?

    @Option(help: "Add the bicubic-upsampled input to the generator's output: true or false.")
    var globalSkip: Bool?

    @Flag(help: "Synchronise batch-norm statistics across ranks.")
    var syncBN = false

    @Flag(help: "Debug: compare every rank's weights with rank 0's after each step.")
    var checkReplicas = false

    @Option(parsing: .unconditional, help: "Validate every N steps (and at the end).")
    var validateEvery: Int?

    @Option(parsing: .unconditional, help: "Log every N steps.")
    var logEvery: Int?

    @Option(parsing: .unconditional, help: "Seed of weights, data order and augmentation.")
    var seed: UInt64?

    @Option(help: "Products of the convolutions and dense layers: fp32, or bf16 (bfloat16 inputs, fp32 sums; needs AVX512-BF16).")
    var precision: ProductPrecision?

    @Option(parsing: .unconditional, help: "BLAS threads per rank (default: cores / ranks on this node).")
    var threads: Int?

    @Flag(help: "Continue the run in --run from its newest complete checkpoint.")
    var resume = false

    @Option(help: "Continue from this checkpoint folder (or run folder: its newest complete checkpoint).")
    var resumeFrom: String?

    @Option(parsing: .unconditional, help: "Write a checkpoint every N steps (and at the end and on signals).")
    var checkpointEvery: Int?

    @Option(parsing: .unconditional, help: "Complete checkpoints kept (the best by validation PSNR is kept besides).")
    var keepCheckpoints: Int?

    @Option(parsing: .unconditional, help: "Seconds a rank may wait in an all-reduce before the job ends, naming the rank that stopped responding (0: never).")
    var watchdog: Double?

    @Option(parsing: .unconditional, help: "Steps skipped in a row (non-finite loss or gradient) before the run stops.")
    var maxConsecutiveSkips: Int?

    @Flag(help: "Stop the run when a checkpoint cannot be written (default: report it and go on).")
    var stopOnCheckpointError = false

    @Flag(help: "At the end, print where a step's time went: per layer (forward, backward), all-reduce, data, validation, checkpoints; per rank under mpirun.")
    var profile = false

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Any setting of RUN/config.yaml, nested keys dotted: --set gan_loss=ragan --set discriminator.conditional=true "
            + "--set tv_weight=2e-8 --set lr_steps=[5600]; repeatable; over the config file and the options above "
            + "(--list-settings lists every key).", valueName: "key=value"))
    var settings: [String] = []

    @Flag(help: "List every setting (key, type, value for --preset and --phase, what a resume does when it changes) and exit.")
    var listSettings = false

    @Option(help: .hidden)
    var testInjectNan: String?

    @Option(help: .hidden)
    var testCheckpointPause: String?

    // Numbers are parsed .unconditional: `--steps -5` is the value -5 (refused by the settings
    // table, naming the key), not a missing value followed by an unknown option.

    /// The common flags as settings (keys of TrainConfig.settings), in the order they apply.
    var flagSettings: [(key: String, value: String)] {
        var given: [(key: String, value: String)] = []
        func add(_ key: String, _ value: CustomStringConvertible?) { if let value { given.append((key, value.description)) } }
        func add(_ key: String, flag: Bool) { if flag { given.append((key, "true")) } }
        add("data", data)
        add("val", val)
        add("run", runDirectory)
        add("init", initFrom)
        add("steps", steps)
        add("batch", batch)
        add("accumulate", accumulate)
        add("lr", lr)
        add("discriminator_lr", discriminatorLR)
        add("content_loss", contentLoss?.rawValue)
        add("vgg_weights", vggWeights)
        add("allow_random_vgg", flag: allowRandomVGG)
        add("ema", ema)
        add("global_skip", globalSkip)
        add("sync_bn", flag: syncBN)
        add("check_replicas", flag: checkReplicas)
        add("validate_every", validateEvery)
        add("log_every", logEvery)
        add("seed", seed)
        add("precision", precision?.rawValue)
        add("checkpoint_every", checkpointEvery)
        add("keep_checkpoints", keepCheckpoints)
        add("watchdog_seconds", watchdog)
        add("max_consecutive_skips", maxConsecutiveSkips)
        add("stop_on_checkpoint_error", flag: stopOnCheckpointError)
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1)
            given.append((String(parts[0]), parts.count > 1 ? String(parts[1]) : ""))
        }
        return given
    }

    func validate() throws {
        for setting in settings {
            guard let key = setting.split(separator: "=", maxSplits: 1).first, setting.contains("="),
                  TrainConfig.setting(String(key)) != nil else {
                throw ValidationError("--set \(setting): wants KEY=VALUE with a KEY of RUN/config.yaml "
                                      + "(train --list-settings lists them). HINT: e.g. --set gan_loss=ragan")
            }
        }
    }

    /// The table of settings, with the values of --preset (default paper) for --phase (default srresnet).
    func printSettings() throws {
        let config = try TrainConfig.preset(preset ?? "paper", phase: phase ?? .srresnet)
        print("settings of RUN/config.yaml; values of preset \(config.preset), \(config.phase.rawValue) phase; "
              + "set them with --config FILE or --set KEY=VALUE")
        for setting in TrainConfig.settings {
            let resume: String
            switch setting.onResume {
            case .mustMatch: resume = "; must match on resume (fixes the networks)"
            case .mustMatchInGANPhase: resume = "; must match on resume in the gan phase"
            case .noted: resume = "; a resume notes a change"
            case .free: resume = ""
            }
            print("\(setting.key) = \(setting.read(config).map(Setting.text) ?? "(unset)")  [\(setting.type)\(resume)]\n    \(setting.help)")
        }
    }

    /// The settings: the preset (or, resuming, the checkpoint's `saved` config), the config file
    /// over it, these options over both; checked.
    func resolved(saved: String? = nil) throws -> TrainConfig {
        var file: (path: String, text: String)?
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ValidationError("\(config): cannot read the config file")
            }
            file = (config, text)
        }
        let resolved = try TrainConfig.resolve(preset: preset, phase: phase, file: file, overrides: flagSettings, saved: saved)
        try resolved.validate()
        return resolved
    }

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)  // progress lines reach a log file or mpirun as they are printed
        if listSettings { return try printSettings() }
        let comm = try Launch.communicator()
        let environment = ProcessInfo.processInfo.environment
        let localRanks = Int(environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? comm.size
        BLASThreads.set(threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(localRanks, 1)))
        var stopped = false  // by a signal, with a checkpoint: its own exit status (TrainExitStatus)
        do {
            var options = TrainerOptions()
            var saved: String?
            if resume || resumeFrom != nil {
                let found = try Checkpoint.locateForResume(resumeFrom ?? runDirectory, comm: comm)
                options.resumeFrom = found.path
                saved = found.config
            }
            if let fault = testInjectNan {
                let parts = fault.split(separator: "@").compactMap { Int($0) }
                guard parts.count == 2 else { throw ValidationError("--test-inject-nan wants STEP@RANK") }
                options.injectNaN = (parts[0], parts[1])
            }
            if let pause = testCheckpointPause {
                let parts = pause.split(separator: ":").compactMap { Double($0) }
                guard parts.count == 2 else { throw ValidationError("--test-checkpoint-pause wants STEP:SECONDS") }
                options.checkpointPause = (Int(parts[0]), parts[1])
            }
            var config = try resolved(saved: saved)
            if options.resumeFrom != nil && runDirectory == nil, let path = options.resumeFrom {
                // --resume-from alone: the run folder is the one holding the checkpoint.
                let folder = (path as NSString).deletingLastPathComponent
                if (folder as NSString).lastPathComponent == Checkpoint.folderName { config.run = (folder as NSString).deletingLastPathComponent }
            }
            options.profile = profile
            let trainer = Trainer(config: config, comm: comm, options: options)
            let summary = try trainer.run()
            if summary.stopCheckpointFailed {
                throw ConfigurationError("stopped by a signal after step \(summary.steps), but its checkpoint could not be written (see above)",
                                         hint: "free disk space or fix the disk; --resume continues from the previous checkpoint")
            }
            if profile && trainer.profiledSteps > 0 && !summary.stoppedBySignal {
                try ProfileTable.show(trainer.profile, stepSeconds: trainer.profiledSeconds / Double(trainer.profiledSteps), comm: comm,
                                      title: "profile of training, \(config.phase.rawValue) phase, batch \(config.batch) per rank",
                                      perStep: trainer.profiledSteps)
            }
            if summary.stoppedBySignal { stopped = true }
        } catch is AlreadyReported {
            throw ExitCode(TrainExitStatus.failed)
        } catch {
            // Every rank meets the same setup errors: rank 0 reports them; others speak when it is theirs.
            if comm.reports(error) { FileHandle.standardError.write(Data("error: \(error)\n".utf8)) }
            throw ExitCode(TrainExitStatus.failed)
        }
        if stopped { throw ExitCode(TrainExitStatus.stoppedWithCheckpoint) }
    }
}

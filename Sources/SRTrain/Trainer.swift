// The training loop every rank runs: the same code on one process and under mpirun.
//   setup: settings checked, packed data opened, networks built from the seed (G from --init in
//          the GAN phase), rank 0's weights broadcast, this rank's share of the stream opened
//   step:  micro-batches -> SRGANStep (gradients averaged over ranks, one all-reduce per network)
//   every validate_every steps and at the end: running statistics averaged (unless sync-BN made
//          them equal), rank 0 validates and saves samples, the others wait
//   end:   rank 0 writes the generator (and EMA generator, discriminator) as safetensors

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
}

public final class Trainer {
    public let config: TrainConfig
    public let comm: Communicator
    // Under mpirun a rank's stdout may be a pty even when the job's is a file: plain lines there.
    private var terminal: Bool { isatty(STDOUT_FILENO) != 0 && !Launch.underMPI }

    public init(config: TrainConfig, comm: Communicator) {
        self.config = config
        self.comm = comm
    }

    private func say(_ text: String) {
        if comm.isRoot { print(text) }
    }

    /// Runs `body` on every rank; if it fails on any rank, every rank stops (the failing one
    /// with its error, the others quietly), so nobody waits forever at a collective.
    private func together<T>(_ body: () throws -> T) throws -> T {
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
        let problems = config.problems
        guard problems.isEmpty else {
            throw ConfigurationError("invalid settings: \(problems.joined(separator: "; "))", hint: "fix them in the config file or on the command line")
        }
        guard let dataPath = config.data else {
            throw ConfigurationError("no training data", hint: "pass --data a folder made by 'srgan-dist pack'")
        }
        let dataset = try together { try PackedDataset(directory: dataPath) }
        let scale = config.generator.scale
        guard dataset.patchSize % 16 == 0, dataset.patchSize % scale == 0 else {
            throw ConfigurationError("\(dataPath): patch size \(dataset.patchSize) is not a multiple of 16 and of the scale \(scale)",
                                     hint: "pack again with a --patch-size such as 96")
        }
        config.discriminator.patchSize = dataset.patchSize
        let runDirectory = config.run
        let validationImages: [ValidationImage] = try together {
            guard comm.isRoot else { return [] }
            if FileManager.default.fileExists(atPath: (runDirectory as NSString).appendingPathComponent("config.yaml")) {
                throw ConfigurationError("\(runDirectory): already holds a run", hint: "choose another --run folder; nothing was overwritten")
            }
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
            try config.yaml.write(toFile: (runDirectory as NSString).appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
            return try config.val.map { try Validation.loadImages($0, scale: scale) } ?? []
        }
        let globalBatch = config.batch * comm.size * config.accumulate
        say("srgan-dist train: resolved config (saved to \(runDirectory)/config.yaml)\n" + config.yaml)
        say("batch \(config.batch) per rank x \(comm.size) rank(s) x accumulate \(config.accumulate) = global batch \(globalBatch); "
            + "\(dataset.patchCount) patches of \(dataset.patchSize)x\(dataset.patchSize), "
            + "\(BatchMaker.stepsPerEpoch(patches: dataset.patchCount, itemsPerStep: globalBatch)) steps per epoch")

        // Networks, identical on every rank.
        let generator = Generator(config.generator, seed: config.seed)
        let discriminator = config.phase == .gan ? Discriminator(config.discriminator, seed: config.seed &+ 1) : nil
        let content: ContentLoss = try together {
            let source: VGGWeightsSource? = config.vggWeights.map { .file($0) } ?? (config.allowRandomVGG ? .randomForTesting : nil)
            let loss = try ContentLoss(config.contentLoss, vggWeights: source)
            loss.imagesInMinusOneToOne = true
            if let initFrom = config.initFrom { try loadGenerator(generator, from: initFrom) }
            return loss
        }
        if config.phase == .gan && config.initFrom == nil {
            say("note: the gan phase starts from a random generator; the paper starts it from a trained SRResNet (--init)")
        }
        for network in [generator as Network] + (discriminator.map { [$0 as Network] } ?? []) {
            try comm.broadcast(network.parameters.values, count: network.parameters.count)
            try comm.broadcast(network.buffers.values, count: network.buffers.count)
            if config.syncBN {
                for bn in network.batchNorms {
                    bn.statisticsReducer = { [comm] buffer, count in
                        do { try comm.allReduceSum(buffer, count: count) } catch {
                            FileHandle.standardError.write(Data("\(error)\n".utf8))
                            comm.abort(code: 1)
                        }
                    }
                }
            }
        }
        let step = SRGANStep(generator: generator, discriminator: discriminator, contentLoss: content,
                             adam: AdamSettings(beta1: config.adamBeta1, beta2: config.adamBeta2))
        step.adversarialWeight = Float(config.adversarialWeight)
        step.reduceGradients = { [comm] store in
            do { try comm.allReduceAverage(store.grads, count: store.count) } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                comm.abort(code: 1)
            }
        }
        if config.globalSkip { step.skip = BicubicSkip(scale: scale).callAsFunction }
        let ema = config.ema > 0 ? Generator(config.generator, seed: config.seed) : nil
        if let ema { ema.parameters.values.update(from: generator.parameters.values, count: generator.parameters.count) }

        var options = StreamOptions(rank: comm.rank, worldSize: comm.size, batchSize: config.batch, seed: config.seed, scale: scale)
        options.prefetch = 2 * config.accumulate + 1
        let stream = PatchStream(dataset: dataset, options: options)
        defer { stream.stop() }
        let log: MetricsLog? = comm.isRoot ? try MetricsLog(runDirectory: runDirectory) : nil
        var summary = TrainSummary()
        var stepSeconds: [Double] = []

        for index in 0..<config.steps {
            let stepStart = DispatchTime.now().uptimeNanoseconds
            var batches: [(lr: Tensor, hr: Tensor)] = []
            for _ in 0..<config.accumulate {
                let batch = try stream.next()
                batches.append((batch.lr, batch.hr))
            }
            let rates = config.learningRates(at: index)
            let result = config.phase == .srresnet
                ? step.srresnet(batches: batches, learningRate: rates.generator)
                : step.gan(batches: batches, generatorLearningRate: rates.generator, discriminatorLearningRate: rates.discriminator)
            if let ema {
                let decay = Float(config.ema), keep = 1 - Float(config.ema)
                let e = ema.parameters.values, p = generator.parameters.values
                for i in 0..<generator.parameters.count { e[i] = decay * e[i] + keep * p[i] }
            }
            if config.checkReplicas { try checkReplicas([generator] + (discriminator.map { [$0] } ?? []), step: index + 1) }
            stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - stepStart) / 1e9)
            let done = index + 1
            if done % config.logEvery == 0 || done == config.steps || done == 1 {
                let averaged = try comm.average([Double(result.contentLoss), Double(result.adversarialLoss),
                                                 Double(result.discriminatorLoss), Double(result.dOfHR), Double(result.dOfSR)])
                let recent = stepSeconds.suffix(20)
                let perStep = recent.reduce(0, +) / Double(recent.count)
                let samplesPerSecond = Double(globalBatch) / perStep
                let eta = perStep * Double(config.steps - done)
                var line = String(format: "%@ step %d/%d | content %.5f", config.phase.rawValue, done, config.steps, averaged[0])
                if config.phase == .gan {
                    line += String(format: " adv %.4f D %.4f | D(HR) %.3f D(SR) %.3f", averaged[1], averaged[2], averaged[3], averaged[4])
                }
                line += String(format: " | lr %.2g | %.2f samples/s | ETA %@", Double(rates.generator), samplesPerSecond, Self.duration(eta))
                if comm.isRoot {
                    if terminal { print("\r" + line + "    ", terminator: done == config.steps ? "\n" : "") ; fflush(stdout) } else { print(line) }
                }
                var values = [("content_loss", averaged[0]), ("lr", Double(rates.generator)), ("samples_per_s", samplesPerSecond)]
                if config.phase == .gan {
                    values += [("adversarial_loss", averaged[1]), ("discriminator_loss", averaged[2]),
                               ("d_hr", averaged[3]), ("d_sr", averaged[4])]
                }
                log?.record("train", step: done, values)
            }
            if done % config.validateEvery == 0 || done == config.steps {
                try averageRunningStatistics([generator] + (discriminator.map { [$0] } ?? []))
                if let ema { ema.buffers.values.update(from: generator.buffers.values, count: generator.buffers.count) }
                if comm.isRoot && !validationImages.isEmpty {
                    if terminal { print("") }
                    let result = try Validation.run(generator, images: validationImages, globalSkip: config.globalSkip,
                                                    saveFolder: (runDirectory as NSString).appendingPathComponent(String(format: "samples/step-%07d", done)),
                                                    saveCount: config.validationSamples)
                    var values = [("psnr", result.psnr), ("ssim", result.ssim), ("psnr_bicubic", result.psnrBicubic),
                                  ("ssim_bicubic", result.ssimBicubic)]
                    var text = String(format: "validation step %d: PSNR %.2f dB (bicubic %.2f, %+.2f), SSIM %.4f (bicubic %.4f) on %d images [Y, %d-pixel border]",
                                      done, result.psnr, result.psnrBicubic, result.psnr - result.psnrBicubic, result.ssim,
                                      result.ssimBicubic, result.images, scale)
                    if let ema {
                        let emaResult = try Validation.run(ema, images: validationImages, globalSkip: config.globalSkip, saveFolder: nil, saveCount: 0)
                        values += [("psnr_ema", emaResult.psnr), ("ssim_ema", emaResult.ssim)]
                        text += String(format: "; EMA PSNR %.2f SSIM %.4f", emaResult.psnr, emaResult.ssim)
                    }
                    print(text)
                    log?.record("validation", step: done, values)
                    log?.flush()
                    summary.lastValidation = result
                }
                try comm.barrier()   // the others wait for rank 0, without a timeout
            }
        }

        try averageRunningStatistics([generator] + (discriminator.map { [$0] } ?? []))
        summary.generatorPath = (runDirectory as NSString).appendingPathComponent("generator.safetensors")
        try together {
            guard comm.isRoot else { return }
            let metadata = ["srgan-dist": "generator", "phase": config.phase.rawValue, "steps": "\(config.steps)", "config": config.yaml]
            try generator.save(to: summary.generatorPath, metadata: metadata)
            if let ema {
                ema.buffers.values.update(from: generator.buffers.values, count: generator.buffers.count)
                try ema.save(to: (runDirectory as NSString).appendingPathComponent("generator_ema.safetensors"), metadata: metadata)
            }
            if let discriminator {
                try discriminator.save(to: (runDirectory as NSString).appendingPathComponent("discriminator.safetensors"),
                                       metadata: ["srgan-dist": "discriminator", "config": config.yaml])
            }
        }
        summary.steps = config.steps
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        say(String(format: "done: %d steps in %@; generator -> %@", config.steps, Self.duration(summary.seconds), summary.generatorPath))
        return summary
    }

    /// --init: a generator safetensors file, or a run folder holding generator.safetensors.
    private func loadGenerator(_ generator: Generator, from path: String) throws {
        var file = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            file = (path as NSString).appendingPathComponent("generator.safetensors")
        }
        try generator.load(from: SafetensorsFile(path: file), strict: true)
    }

    /// Without synchronised BN each rank's running statistics saw only its own batches: average
    /// them so validation and the saved model use the same statistics on every rank.
    private func averageRunningStatistics(_ networks: [Network]) throws {
        guard !config.syncBN, comm.size > 1 else { return }
        for network in networks { try comm.allReduceAverage(network.buffers.values, count: network.buffers.count) }
    }

    /// Debug check: every rank's parameters hash to rank 0's.
    private func checkReplicas(_ networks: [Network], step: Int) throws {
        for network in networks {
            let hash = Self.fnv1a(network.parameters.values, count: network.parameters.count)
                ^ Self.fnv1a(network.buffers.values, count: network.buffers.count)
            var root = hash
            try withUnsafeMutableBytes(of: &root) { try comm.broadcast($0.baseAddress!, bytes: 8, root: 0) }
            guard root == hash else {
                throw ConfigurationError("rank \(comm.rank): \(network.summary) differs from rank 0's after step \(step) (hash \(String(hash, radix: 16)) vs \(String(root, radix: 16)))",
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

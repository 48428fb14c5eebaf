// `srgan-dist train`: the same command on one process and under `mpirun -n N`.

import ArgumentParser
import Foundation
import SRCore
import SRDistributed
import SRTrain

extension Phase: ExpressibleByArgument {}
extension ContentLossKind: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train SRResNet or SRGAN, on one process or data-parallel under mpirun.",
        discussion: """
            Settings: the preset, then --config FILE (YAML) over it, then these options over both. \
            The resolved config is printed and saved as RUN/config.yaml. Presets: paper (Ledig et al. 2017), \
            tiny (minutes on 2 cores). Example: mpirun -n 2 srgan-dist train --preset tiny --data packed --val packed --run runs/a
            """)

    @Option(help: "Preset: paper or tiny.")
    var preset = "paper"

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

    @Option(help: "Training steps.")
    var steps: Int?

    @Option(help: "Batch per rank (global batch = batch x ranks x accumulate).")
    var batch: Int?

    @Option(help: "Micro-batches accumulated per step.")
    var accumulate: Int?

    @Option(help: "Generator learning rate.")
    var lr: Double?

    @Option(help: "Discriminator learning rate (default: the generator's).")
    var discriminatorLR: Double?

    @Option(help: "Content loss: mse, l1, vgg22, vgg54.")
    var contentLoss: ContentLossKind?

    @Option(help: "VGG19 weights (safetensors, torchvision names) for vgg22/vgg54.")
    var vggWeights: String?

    @Flag(help: "Tests only: allow a VGG content loss on random VGG19 weights.")
    var allowRandomVGG = false

    @Option(help: "Exponential moving average of the generator weights, e.g. 0.999 (0: off).")
    var ema: Double?

    @Option(help: "Add the bicubic-upsampled input to the generator's output: true or false.")
    var globalSkip: Bool?

    @Flag(help: "Synchronise batch-norm statistics across ranks.")
    var syncBN = false

    @Flag(help: "Debug: compare every rank's weights with rank 0's after each step.")
    var checkReplicas = false

    @Option(help: "Validate every N steps (and at the end).")
    var validateEvery: Int?

    @Option(help: "Log every N steps.")
    var logEvery: Int?

    @Option(help: "Seed of weights, data order and augmentation.")
    var seed: UInt64?

    @Option(help: "BLAS threads per rank (default: cores / ranks on this node).")
    var threads: Int?

    func resolved() throws -> TrainConfig {
        var yaml: String?
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ValidationError("\(config): cannot read the config file")
            }
            yaml = text
        }
        var phase = self.phase ?? .srresnet
        if self.phase == nil, let yaml, let loaded = try? TrainConfig.preset(preset, phase: .srresnet).overlaid(withYAML: yaml, file: config!) {
            phase = loaded.phase
        }
        var resolved = try TrainConfig.preset(preset, phase: phase)
        if let yaml { resolved = try resolved.overlaid(withYAML: yaml, file: config!) }
        resolved.phase = phase
        if let data { resolved.data = data }
        if let val { resolved.val = val }
        if let runDirectory { resolved.run = runDirectory }
        if let initFrom { resolved.initFrom = initFrom }
        if let steps { resolved.steps = steps }
        if let batch { resolved.batch = batch }
        if let accumulate { resolved.accumulate = accumulate }
        if let lr { resolved.lr = lr }
        if let discriminatorLR { resolved.discriminatorLR = discriminatorLR }
        if let contentLoss { resolved.contentLoss = contentLoss }
        if let vggWeights { resolved.vggWeights = vggWeights }
        if allowRandomVGG { resolved.allowRandomVGG = true }
        if let ema { resolved.ema = ema }
        if let globalSkip { resolved.globalSkip = globalSkip }
        if syncBN { resolved.syncBN = true }
        if checkReplicas { resolved.checkReplicas = true }
        if let validateEvery { resolved.validateEvery = validateEvery }
        if let logEvery { resolved.logEvery = logEvery }
        if let seed { resolved.seed = seed }
        return resolved
    }

    func run() throws {
        let comm = try Launch.communicator()
        let environment = ProcessInfo.processInfo.environment
        let localRanks = Int(environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? comm.size
        BLASThreads.set(threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(localRanks, 1)))
        do {
            _ = try Trainer(config: try resolved(), comm: comm).run()
        } catch {
            let text = "\(error)"
            // Every rank meets the same setup errors: rank 0 reports them; others speak when it is theirs.
            if comm.isRoot || text.contains("rank \(comm.rank)") {
                FileHandle.standardError.write(Data("error: \(text)\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}

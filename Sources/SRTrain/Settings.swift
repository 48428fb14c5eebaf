// THE table of training settings: every key of RUN/config.yaml, in the order it is written. The
// YAML file, `train --set key=value`, the common flags (each is one of these keys), the printed
// and saved config and the resume check all go through it. Adding a setting: a field in
// TrainConfig (its default is the paper's) and one row here; presets (Presets.swift) may then
// set it by key.

import SRCore
import SRModels

extension ContentLossKind: ChoiceSetting {}
extension PixelLossKind: ChoiceSetting {}
extension VGGLossKind: ChoiceSetting {}
extension GANLossKind: ChoiceSetting {}
extension Phase: ChoiceSetting {}
extension GeneratorKind: ChoiceSetting {}
extension ProductPrecision: ChoiceSetting {}

extension TrainConfig {
    public static let settings: [Setting] = [
        .value("preset", \.preset, type: "name", help: "the preset the settings started from (Presets.swift)"),
        .choice("phase", \.phase, onResume: .mustMatch, help: "srresnet: G alone on a pixel loss; gan: G and D"),
        // The generator (SRModels.GeneratorConfig).
        .int("generator.channels", \.generator.channels, atLeast: 1, onResume: .mustMatch, help: "feature channels of the residual body"),
        .int("generator.residual_blocks", \.generator.residualBlocks, atLeast: 1, onResume: .mustMatch,
             help: "residual blocks in all, or per group with residual_groups > 0"),
        .int("generator.residual_groups", \.generator.residualGroups, atLeast: 0, onResume: .mustMatch,
             help: "0: the paper's SRResNet; G > 0: G groups of residual_blocks, each with a skip"),
        .int("generator.scale", \.generator.scale, atLeast: 1, onResume: .mustMatch, help: "upscaling factor, a power of two"),
        .int("generator.input_channels", \.generator.inputChannels, atLeast: 1, onResume: .mustMatch, help: "channels of the LR input"),
        .int("generator.output_channels", \.generator.outputChannels, atLeast: 1, onResume: .mustMatch, help: "channels of the SR output"),
        .flag("generator.batch_norm", \.generator.batchNorm, onResume: .mustMatch,
              help: "batch norm in the residual blocks (false: a bias instead, as EDSR)"),
        .int("generator.tail_kernel", \.generator.tailKernel, atLeast: 1, onResume: .mustMatch, help: "side of the last convolution's kernel (paper 9)"),
        .choice("generator.kind", \.generator.kind, onResume: .mustMatch, help: "colorize: a U-Net on the gray L* input runs first (docs/colorize.md)"),
        .int("generator.colorizer.base_channels", \.generator.colorizer.baseChannels, atLeast: 1, onResume: .mustMatch,
             help: "the U-Net's channels at the LR resolution"),
        .int("generator.colorizer.depth", \.generator.colorizer.depth, atLeast: 1, onResume: .mustMatch, help: "the U-Net's scale steps (3...8)"),
        .int("generator.colorizer.output_channels", \.generator.colorizer.outputChannels, atLeast: 1, onResume: .mustMatch,
             help: "the U-Net's output channels, joined with the gray input"),
        // The discriminator (SRModels.DiscriminatorConfig). patch_size and scale are the data's and
        // G's: the trainer sets them (TrainConfig.networks); they are written for the model files.
        .int("discriminator.patch_size", \.discriminator.patchSize, atLeast: 16, help: "set from the packed data's patch size"),
        .int("discriminator.base_channels", \.discriminator.baseChannels, atLeast: 1, onResume: .mustMatchInGANPhase,
             help: "channels of D's first convolution (paper 64)"),
        .int("discriminator.hidden", \.discriminator.hidden, atLeast: 1, onResume: .mustMatchInGANPhase, help: "width of D's hidden dense layer (paper 1024)"),
        .int("discriminator.input_channels", \.discriminator.inputChannels, atLeast: 1, onResume: .mustMatchInGANPhase, help: "channels of D's image input"),
        .flag("discriminator.conditional", \.discriminator.conditional, onResume: .mustMatchInGANPhase,
              help: "D also sees the LR image, joined at the LR resolution"),
        .int("discriminator.lr_channels", \.discriminator.lrChannels, atLeast: 1, onResume: .mustMatchInGANPhase,
             help: "channels of the LR condition (G's input channels)"),
        .int("discriminator.scale", \.discriminator.scale, atLeast: 1, help: "set to generator.scale"),
        .flag("global_skip", \.globalSkip, onResume: .mustMatch, help: "add the bicubic-upsampled input to G's output (G learns the residual)"),
        // Optimisation.
        .int("steps", \.steps, atLeast: 1, help: "training steps"),
        .int("batch", \.batch, atLeast: 1, onResume: .noted, help: "batch per rank (global batch = batch x ranks x accumulate)"),
        .int("accumulate", \.accumulate, atLeast: 1, onResume: .noted, help: "micro-batches accumulated per step"),
        .float("lr", \.lr, .positive, onResume: .noted, help: "the generator's learning rate"),
        .optional("discriminator_lr", \.discriminatorLR, type: "float", valid: { $0 > 0 }, range: "> 0", onResume: .noted,
                  help: "the discriminator's learning rate (null: the generator's)"),
        .value("lr_steps", \.lrSteps, type: "list of steps", valid: { $0.allSatisfy { $0 >= 0 } }, range: ">= 0", onResume: .noted,
               help: "steps at which both learning rates are multiplied by lr_gamma"),
        .float("lr_gamma", \.lrGamma, .positive, help: "the learning rates' factor at each of lr_steps"),
        .float("adam_beta1", \.adamBeta1, .unitInterval, help: "Adam's beta1"),
        .float("adam_beta2", \.adamBeta2, .unitInterval, help: "Adam's beta2"),
        .choice("content_loss", \.contentLoss, onResume: .noted,
                help: "G's content loss; combined: pixel_loss x pixel_weight + vgg_loss x vgg_weight"),
        .float("adversarial_weight", \.adversarialWeight, .nonNegative, help: "weight of the adversarial term in G's loss"),
        .choice("gan_loss", \.ganLoss, onResume: .noted, help: "standard: BCE on D's logits; ragan: relativistic average GAN"),
        .choice("pixel_loss", \.pixelLoss, help: "the pixel term of content_loss combined"),
        .float("pixel_weight", \.pixelWeight, .nonNegative, help: "its weight"),
        .choice("vgg_loss", \.vggLoss, help: "the VGG term of content_loss combined"),
        .float("vgg_weight", \.vggWeight, .nonNegative, help: "its weight"),
        .float("tv_weight", \.tvWeight, .nonNegative, onResume: .noted, help: "weight of the total-variation loss on SR (0: off)"),
        .float("ema", \.ema, .unitInterval, help: "decay of the moving average of G's weights (0: off)"),
        .flag("sync_bn", \.syncBN, onResume: .noted, help: "batch-norm statistics over all ranks' batches"),
        .value("seed", \.seed, type: "int", onResume: .noted, help: "seed of the weights, the data order and augmentation"),
        .choice("precision", \.precision, onResume: .noted,
                help: "bf16: convolution and dense products on bfloat16 inputs with fp32 sums (needs AVX512-BF16); "
                    + "weights, Adam, batch norm, losses, all-reduce and checkpoints stay fp32"),
        // Inputs and outputs.
        .optional("data", \.data, type: "path", help: "packed training data (srgan-dist pack)"),
        .optional("val", \.val, type: "path", help: "validation images: a folder of PNGs or a packed folder with val/"),
        .value("run", \.run, type: "path", help: "the run folder: everything the run writes goes here"),
        .optional("init", \.initFrom, type: "path", help: "generator to start from (safetensors, checkpoint or run folder)"),
        .optional("vgg_weights", \.vggWeights, type: "path", help: "VGG19 weights (safetensors, torchvision names) for the VGG losses"),
        .flag("allow_random_vgg", \.allowRandomVGG, help: "tests only: a VGG loss on random VGG19 weights"),
        .int("validate_every", \.validateEvery, atLeast: 1, help: "validate every N steps (and at the end)"),
        .int("validation_samples", \.validationSamples, atLeast: 0, help: "validation images whose SR result is saved as PNG"),
        .int("log_every", \.logEvery, atLeast: 1, help: "log every N steps"),
        .flag("check_replicas", \.checkReplicas, help: "debug: compare every rank's weights with rank 0's after each step"),
        // Checkpoints and faults.
        .int("checkpoint_every", \.checkpointEvery, atLeast: 1, help: "write a checkpoint every N steps (and at the end and on signals)"),
        .int("keep_checkpoints", \.keepCheckpoints, atLeast: 1, help: "complete checkpoints kept (the best by validation PSNR besides)"),
        .int("max_consecutive_skips", \.maxConsecutiveSkips, atLeast: 0, help: "steps skipped in a row (non-finite values) before the run stops"),
        .float("watchdog_seconds", \.watchdogSeconds, .nonNegative,
               help: "seconds a rank may wait in a collective before the job ends, naming the silent rank (0: never)"),
        .flag("stop_on_checkpoint_error", \.stopOnCheckpointError, help: "stop when a checkpoint cannot be written (default: report and go on)"),
    ]

    /// The row of `key` (dotted for nested settings).
    public static func setting(_ key: String) -> Setting? { settingsByKey[key] }

    private static let settingsByKey = Dictionary(uniqueKeysWithValues: settings.map { ($0.key, $0) })

    /// Keys that name a group of settings in YAML (`generator:` holds `channels:` ...).
    static let groups: Set<String> = Set(settings.flatMap { setting in
        let parts = setting.key.split(separator: ".")
        return (1..<max(parts.count, 1)).map { parts.prefix($0).joined(separator: ".") }
    })
}

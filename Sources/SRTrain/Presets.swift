// The presets, as data: each is a list of settings (keys of the table in Settings.swift, values
// as written in a YAML file) over its base preset, and over the paper's defaults (the
// TrainConfig field initialisers) at the bottom.

struct Preset: Sendable {
    let name: String
    /// Applied first (nil: the paper's defaults).
    let base: String?
    /// For both phases, then for the phase being trained.
    let both: [(key: String, value: String)]
    let srresnet: [(key: String, value: String)]
    let gan: [(key: String, value: String)]

    init(_ name: String, base: String? = nil, both: [(String, String)] = [], srresnet: [(String, String)] = [],
         gan: [(String, String)] = []) {
        self.name = name
        self.base = base
        self.both = both.map { (key: $0.0, value: $0.1) }
        self.srresnet = srresnet.map { (key: $0.0, value: $0.1) }
        self.gan = gan.map { (key: $0.0, value: $0.1) }
    }
}

extension TrainConfig {
    public static var presetNames: [String] { presets.map(\.name) }

    static let presets: [Preset] = [
        // Ledig et al. 2017 exactly (SRResNet: 10^6 updates at 1e-4, MSE; SRGAN: 10^5 at 1e-4 then
        // 10^5 at 1e-5, VGG54, batch 16, 96x96 patches, Adam beta1 0.9).
        Preset("paper",
               srresnet: [("steps", "1000000"), ("lr_steps", "[]"), ("content_loss", "mse")],
               gan: [("steps", "200000"), ("lr_steps", "[100000]"), ("content_loss", "vgg54")]),
        // B=4, C=32, a 3x3 tail, the global skip, L1 in the SRResNet phase, a quarter-width
        // discriminator, Adam 1e-3: learns in minutes on 2 cores (tests and the demo).
        // Measured on the sample photos (docs/benchmarks.md): with 48x48 patches (pack
        // --patch-size 48) 7000 steps take about 5 minutes on 2 cores under mpirun -n 2 and
        // reach +1.02 dB over bicubic on the 3 held-out photos. The 3x3 tail (EDSR's; the
        // paper's is 9x9) costs a ninth of the 9x9 at the output resolution and learned as
        // well (+1.02 vs +1.01 dB after 6000 steps), so the time buys steps instead.
        // L1 for the SRResNet phase: +0.98 dB over bicubic against MSE's +0.89 in the same
        // time (docs/benchmarks.md); the GAN phase keeps the paper's SRGAN-MSE content loss, at
        // Adam 1e-4 (the paper's GAN rate): at the SRResNet phase's 1e-3 its validation once fell
        // to 4.5 dB below bicubic at step 200 of the demo; at 1e-4 it read +0.78, +0.35, +0.52 dB
        // at steps 100/200/300 (AMD EPYC Zen 2, 2026-12-01). On that machine the SRResNet phase
        // takes 5m50s under mpirun -n 2 and reaches +1.00 dB (256 crops per photo) or +1.03 dB
        // (1024 crops, as the demo packs); without batch norm it ran 10% faster but reached +0.91.
        Preset("tiny",
               both: [("generator.channels", "32"), ("generator.residual_blocks", "4"), ("generator.tail_kernel", "3"),
                      ("discriminator.patch_size", "48"), ("discriminator.base_channels", "16"), ("discriminator.hidden", "256"),
                      ("global_skip", "true"), ("lr", "1e-3"), ("validation_samples", "2")],
               srresnet: [("steps", "7000"), ("lr_steps", "[5600]"), ("content_loss", "l1"),
                          ("validate_every", "3500"), ("checkpoint_every", "3500")],
               gan: [("steps", "300"), ("lr", "1e-4"), ("lr_steps", "[]"), ("content_loss", "mse"), ("validate_every", "100"),
                     ("checkpoint_every", "100")]),
        // `paper`'s networks and schedule; its gan phase trains G on MSE + 1e-3 adversarial +
        // 6e-3 VGG54 + 2e-8 TV with G at 1e-4 and D at a tenth of that (docs/gan-variants.md).
        Preset("combined", base: "paper", gan: combinedLoss + [("discriminator_lr", "1e-5")]),
        // The same losses and learning-rate ratio on `tiny`'s networks (tests).
        Preset("tiny-combined", base: "tiny", gan: combinedLoss + [("lr", "1e-3"), ("discriminator_lr", "1e-4")]),
        // Grayscale LR -> colour x4 SR on whole images (docs/colorize.md): pack with
        // --whole-images 256 --skip-gray. A small U-Net + the tiny SRResNet, with the gray image as
        // the skip's base (G learns colour and detail on top); the discriminator at quarter width
        // with a 256-wide dense layer: at 256x256 its first dense layer is 128 x 16 x 16 x 256 =
        // 8.4M weights (the paper's D would have 512 x 16 x 16 x 1024 = 134M). Batch 2 per rank and
        // Adam 5e-4: 1e-3 diverged after 300 steps without the gray skip (docs/benchmarks.md,
        // "Colorize mode").
        Preset("colorize",
               both: [("generator.channels", "32"), ("generator.residual_blocks", "4"), ("generator.tail_kernel", "3"),
                      ("generator.kind", "colorize"), ("generator.colorizer.base_channels", "32"), ("generator.colorizer.depth", "3"),
                      ("generator.colorizer.output_channels", "3"), ("global_skip", "true"),
                      ("discriminator.patch_size", "256"), ("discriminator.base_channels", "16"), ("discriminator.hidden", "256"),
                      ("batch", "2"), ("lr", "5e-4"), ("validation_samples", "2")],
               srresnet: [("steps", "3000"), ("lr_steps", "[2400]"), ("content_loss", "l1"),
                          ("validate_every", "1000"), ("checkpoint_every", "1000")],
               gan: [("steps", "300"), ("lr_steps", "[]"), ("content_loss", "mse"), ("validate_every", "100"), ("checkpoint_every", "100")]),
    ]

    /// The combined generator loss MSE + 1e-3 adv + 6e-3 VGG54 + 2e-8 TV.
    private static let combinedLoss: [(String, String)] = [
        ("content_loss", "combined"), ("pixel_loss", "mse"), ("pixel_weight", "1"), ("vgg_loss", "vgg54"),
        ("vgg_weight", "6e-3"), ("adversarial_weight", "1e-3"), ("tv_weight", "2e-8"),
    ]

    /// The settings of preset `name` for `phase`; its run folder is runs/NAME-PHASE.
    public static func preset(_ name: String, phase: Phase) throws -> TrainConfig {
        guard let preset = presets.first(where: { $0.name == name }) else {
            throw ConfigurationError("unknown preset '\(name)'", hint: "choose one of: \(presetNames.joined(separator: ", "))")
        }
        var config = try preset.base.map { try self.preset($0, phase: phase) } ?? TrainConfig()
        for (key, value) in preset.both + (phase == .srresnet ? preset.srresnet : preset.gan) {
            // The presets are checked by the tests (PresetTests): a bad entry is a bug here.
            do { try config.set(key, to: value, source: "preset \(name)") } catch { preconditionFailure("\(error)") }
        }
        config.preset = name
        config.phase = phase
        config.run = "runs/\(name)-\(phase.rawValue)"
        return config
    }
}

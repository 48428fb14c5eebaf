// `srgan-fuzz --make-seeds FOLDER`: the seed inputs of the formats srgan-dist itself writes
// (model files, shards, manifests, checkpoint states, configs), made by the same writers a run
// uses, one sub-folder per target. The image seeds (png, jpeg, upload) come from
// scripts/make_fuzz_seeds.py (Pillow makes the PNG variants libpng must read; the JPEG seeds
// are the decoder tests' fixtures). Tests/FuzzCorpus holds the committed result.

import Foundation
import SRData
import SRModels
import SRTrain

enum SeedCorpus {
    static func make(in root: String) throws {
        func folder(_ name: String) throws -> String {
            let path = (root as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return path
        }
        func put(_ data: Data, _ target: String, _ name: String) throws {
            try data.write(to: URL(fileURLWithPath: (try folder(target) as NSString).appendingPathComponent(name)))
        }

        // safetensors: the small generator with its description and config, the same as files
        // of 2026-12-01 had it (the config only), a header with no tensors, and one F32 and one
        // I64 tensor without a config.
        let model = Scratch.path("seed-generator.safetensors")
        FileTargets.writeSmallGenerator(to: model)
        try put(try Data(contentsOf: URL(fileURLWithPath: model)), "safetensors", "small-generator.safetensors")
        FileTargets.writeSmallGenerator(to: model, described: false)
        try put(try Data(contentsOf: URL(fileURLWithPath: model)), "safetensors", "small-generator-config-only.safetensors")
        try put(SafetensorsWriter(metadata: ["note": "empty"]).bytes(), "safetensors", "no-tensors.safetensors")
        var two = SafetensorsWriter()
        two.add("weight", floats: [1, -2, 0.5, 3], shape: [2, 2])
        two.add("steps", int64s: [7], shape: [1])
        try put(two.bytes(), "safetensors", "two-tensors.safetensors")

        // shard: the dataset's sample shard, as it is (first byte even) and with checksums
        // repaired after mutation (odd).
        let datasetFolder = Scratch.emptyFolder("seed-dataset")
        FileTargets.writeSampleShard(in: datasetFolder)
        let shardPath = (datasetFolder as NSString).appendingPathComponent("shard-00000.srs")
        let shard = try Data(contentsOf: URL(fileURLWithPath: shardPath))
        try put(Data([0]) + shard, "shard", "sample-as-is.srs")
        try put(Data([1]) + shard, "shard", "sample-repaired.srs")

        // dataset: the manifest of that shard (and one that also lists a validation image).
        // (Written as text: the manifest types are decoded, never built, outside SRData.)
        let crc = String(format: "%08x", shard.withUnsafeBytes { CRC32.of($0) })
        func manifest(validation: String) -> Data {
            Data("""
                {"format": "srgan-dist shards", "version": 1, "channels": 3,
                 "parameters": {"mode": "random", "patch_size": 4, "stride": 4, "crops_per_image": 3, "seed": 1,
                                "shard_bytes": 1048576, "patches_per_block": 2, "validation_images": 0, "max_megapixels": 50,
                                "skip_gray": false},
                 "total_patches": 3,
                 "shards": [{"file": "shard-00000.srs", "patches": 3, "blocks": 2, "bytes": \(shard.count), "crc32": "\(crc)"}],
                 "sources": [{"file": "photo.png", "width": 8, "height": 8, "bit_depth": 8, "color_type": 2, "split": "train",
                              "patches": 3, "format": "png"}],
                 "skipped": [{"file": "broken.png", "reason": "not a PNG file"}],
                 "validation": [\(validation)]}

                """.utf8)
        }
        try put(manifest(validation: ""), "dataset", "index.json")
        try put(manifest(validation: "\"val/photo.png\""), "dataset", "index-with-validation.json")

        // checkpoint: a state as `train` writes it, with the small generator's config.
        var config = try TrainConfig.preset("tiny", phase: .srresnet)
        config.generator.channels = 2
        config.generator.residualBlocks = 1
        config.generator.tailKernel = 3
        let state = CheckpointState(step: 10, phase: .srresnet, generatorLR: 1e-3, discriminatorLR: nil, generatorAdamSteps: 10,
                                    discriminatorAdamSteps: nil, streamOffset: 160, rankStreamOffsets: [80, 80], worldSize: 2,
                                    batch: 16, accumulate: 1, patchSize: 48, skippedSteps: 0, consecutiveSkips: 0,
                                    validationPSNR: 24.5, reason: "end", created: "2026-12-02T00:00:00Z", config: config.yaml)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try put(try encoder.encode(state), "checkpoint", "state.json")

        // yaml: the tiny preset's resolved config, the GAN phase's, and short override files.
        try put(Data(config.yaml.utf8), "yaml", "tiny-srresnet.yaml")
        try put(Data(try TrainConfig.preset("tiny", phase: .gan).yaml.utf8), "yaml", "tiny-gan.yaml")
        try put(Data("phase: gan\ngan_loss: ragan\nlr: 2e-4\nlr_steps: [100, 200]\n".utf8), "yaml", "overrides.yaml")
        try put(Data("generator:\n  channels: 8\n  residual_blocks: 2\ndiscriminator:\n  base_channels: 8\n".utf8), "yaml", "nested.yaml")
    }
}

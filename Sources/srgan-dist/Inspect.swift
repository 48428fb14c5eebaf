// `srgan-dist inspect`: what a packed folder holds, checksums verified, and a contact sheet.

import ArgumentParser
import Foundation
import SRCore
import SRData

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a packed dataset: totals per shard, checksums (--verify), a PNG contact sheet (--sheet).")

    @Argument(help: "A folder written by 'srgan-dist pack'.")
    var directory: String

    @Flag(help: "Read every block and check every checksum against the shards and the manifest.")
    var verify = false

    @Option(help: "Write a contact sheet of sample patches to this PNG file.")
    var sheet: String?

    @Option(help: "Patches on the contact sheet.")
    var samples = 64

    @Option(help: "Seed choosing the sample patches.")
    var seed: UInt64 = 0

    func run() throws {
        let dataset = try PackedDataset(directory: directory)
        let manifest = dataset.manifest
        let p = manifest.parameters
        let sampling = p.mode == "grid" ? "grid, stride \(p.stride)" : "\(p.cropsPerImage) random crops per image, seed \(p.seed)"
        print("\(directory): \(manifest.totalPatches) patches of \(p.patchSize)x\(p.patchSize) (\(sampling)), "
              + "\(manifest.shards.count) shard(s), \(p.patchesPerBlock) patches per block")
        print("| shard | patches | blocks | MB | LZ4 ratio | CRC-32 |")
        print("|---|---|---|---|---|---|")
        for shard in manifest.shards {
            let raw = shard.patches * p.patchSize * p.patchSize * 3
            print(String(format: "| %@ | %d | %d | %.2f | %.2f | %@ |", shard.file, shard.patches, shard.blocks,
                         Double(shard.bytes) / 1e6, Double(raw) / Double(shard.bytes), shard.crc32))
        }
        let training = manifest.sources.filter { $0.split == "train" }
        print("sources: \(training.count) training images, \(manifest.validation.count) validation images (\(Manifest.validationFolder)/), "
              + "\(manifest.skipped.count) skipped")
        for skipped in manifest.skipped { print("  skipped \(skipped.file): \(skipped.reason)") }
        if verify {
            try dataset.verify()
            let blocks = manifest.shards.reduce(0) { $0 + $1.blocks }
            print("verified: \(blocks) blocks in \(manifest.shards.count) shard(s), every block and file checksum matches")
        }
        if let sheet { try writeSheet(dataset, to: sheet) }
    }

    private func writeSheet(_ dataset: PackedDataset, to path: String) throws {
        let p = dataset.patchSize, count = min(samples, dataset.patchCount), gap = 2
        guard count > 0 else { return }
        let columns = Int(Double(count).squareRoot().rounded(.up)), rows = (count + columns - 1) / columns
        var image = RGBImage(width: columns * (p + gap) + gap, height: rows * (p + gap) + gap)
        for i in 0..<image.pixels.count { image.pixels[i] = 40 }
        var rng = SeededRandom(seed: seed)
        var chosen = Array(0..<dataset.patchCount)
        chosen.shuffle(using: &rng)
        var block: [UInt8] = []
        for (k, patch) in chosen.prefix(count).sorted().enumerated() {
            let (shard, b, within) = dataset.locate(patch)
            try dataset.shards[shard].readBlock(b, into: &block)
            let x0 = gap + (k % columns) * (p + gap), y0 = gap + (k / columns) * (p + gap)
            for y in 0..<p {
                let source = (within * p * p + y * p) * 3
                let target = ((y0 + y) * image.width + x0) * 3
                image.pixels.replaceSubrange(target..<(target + p * 3), with: block[source..<(source + p * 3)])
            }
        }
        try PNG.write(image, to: path)
        print("contact sheet: \(count) patches -> \(path)")
    }
}

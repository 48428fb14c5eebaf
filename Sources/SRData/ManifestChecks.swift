// index.json is read from a folder anyone may have edited: every shard name must name a file
// inside the dataset folder and every number must be in range before a reader uses it
// (docs/shard-format.md, "Manifest").

import Foundation

extension Manifest {
    /// The largest patch count, block count or byte size one entry may state.
    public static let largestCount = 1 << 48

    /// Whether `name` is a plain file name: one path component inside the folder it is read
    /// from (no "/" or "\", not "." or "..", not hidden, no control characters).
    public static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\\")
            && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// The first problem, naming its key (e.g. "shards[2].file"); nil when the manifest is sound.
    public var problem: String? {
        let limit = Self.largestCount
        func count(_ key: String, _ value: Int, _ range: ClosedRange<Int>) -> String? {
            range.contains(value) ? nil : "\(key) is \(value) (\(range.lowerBound) to \(range.upperBound))"
        }
        var checks: [String?] = [
            count("channels", channels, 1...4),
            count("parameters.patch_size", parameters.patchSize, 1...65536),
            count("parameters.stride", parameters.stride, 0...65536),
            count("parameters.crops_per_image", parameters.cropsPerImage, 0...limit),
            count("parameters.shard_bytes", parameters.shardBytes, 1...limit),
            count("parameters.patches_per_block", parameters.patchesPerBlock, 1...65536),
            count("parameters.validation_images", parameters.validationImages, 0...limit),
            count("parameters.max_megapixels", parameters.maxMegapixels, 1...1_000_000),
            count("total_patches", totalPatches, 0...limit),
        ]
        for (i, shard) in shards.enumerated() {
            checks.append(Self.isPlainFileName(shard.file) ? nil
                          : "shards[\(i)].file '\(shard.file)' is not a file name inside the dataset folder (no '/', '..' or leading '.')")
            checks += [count("shards[\(i)].patches", shard.patches, 0...limit), count("shards[\(i)].blocks", shard.blocks, 0...limit),
                       count("shards[\(i)].bytes", shard.bytes, 0...limit)]
        }
        let names = shards.map(\.file)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            checks.append("shards lists '\(repeated)' more than once")
        }
        for (i, source) in sources.enumerated() {
            checks += [count("sources[\(i)].width", source.width, 0...1 << 31), count("sources[\(i)].height", source.height, 0...1 << 31),
                       count("sources[\(i)].patches", source.patches, 0...limit)]
        }
        for (i, entry) in validation.enumerated() {
            let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
            let inside = parts.count == 2 && parts[0] == Self.validationFolder && Self.isPlainFileName(String(parts[1]))
            checks.append(inside ? nil : "validation[\(i)] '\(entry)' is not a file name inside \(Self.validationFolder)/")
        }
        return checks.compactMap { $0 }.first  // the sums are checked against the shards themselves (PackedDataset)
    }
}

// index.json: what a packed folder holds. Written last by the packer, so a folder whose manifest
// exists holds complete shards. Keys are sorted and nothing time-dependent is stored, so the same
// input and parameters always give the same manifest.

import Foundation

public struct PackParameters: Codable, Equatable, Sendable {
    /// "grid" (patches every `stride` pixels) or "random" (`cropsPerImage` seeded random crops).
    public var mode: String
    public var patchSize: Int
    public var stride: Int
    public var cropsPerImage: Int
    public var seed: UInt64
    public var shardBytes: Int
    public var patchesPerBlock: Int
    public var validationImages: Int
    public var maxMegapixels: Int

    enum CodingKeys: String, CodingKey {
        case mode, stride, seed
        case patchSize = "patch_size", cropsPerImage = "crops_per_image", shardBytes = "shard_bytes"
        case patchesPerBlock = "patches_per_block", validationImages = "validation_images"
        case maxMegapixels = "max_megapixels"
    }
}

public struct ManifestShard: Codable, Equatable, Sendable {
    public var file: String
    public var patches: Int
    public var blocks: Int
    public var bytes: Int
    /// CRC-32 of the whole file, 8 hex digits.
    public var crc32: String
}

public struct ManifestSource: Codable, Equatable, Sendable {
    public var file: String
    public var width: Int
    public var height: Int
    public var bitDepth: Int
    public var colorType: Int
    /// "train" or "validation".
    public var split: String
    public var patches: Int

    enum CodingKeys: String, CodingKey {
        case file, width, height, split, patches
        case bitDepth = "bit_depth", colorType = "color_type"
    }
}

public struct ManifestSkip: Codable, Equatable, Sendable {
    public var file: String
    public var reason: String
}

public struct Manifest: Codable, Equatable, Sendable {
    public static let formatName = "srgan-dist shards"
    public static let fileName = "index.json"
    public static let validationFolder = "val"

    public var format: String = Manifest.formatName
    public var version: Int = Int(ShardFormat.version)
    public var channels: Int = 3
    public var parameters: PackParameters
    public var totalPatches: Int
    public var shards: [ManifestShard]
    public var sources: [ManifestSource]
    public var skipped: [ManifestSkip]
    /// Validation images, relative paths under the packed folder (val/NAME.png).
    public var validation: [String]

    enum CodingKeys: String, CodingKey {
        case format, version, channels, parameters, shards, sources, skipped, validation
        case totalPatches = "total_patches"
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    public static func load(directory: String) throws -> Manifest {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path, "no manifest: this folder holds no complete packed dataset",
                            hint: "pack it with 'srgan-dist pack --input PHOTOS --output \(directory)'; an interrupted pack writes no manifest")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw DataError(path, "not a valid manifest (\(error))", hint: "pack the dataset again")
        }
        guard manifest.format == formatName, manifest.version == Int(ShardFormat.version) else {
            throw DataError(path, "format '\(manifest.format)' version \(manifest.version); this build reads '\(formatName)' version \(ShardFormat.version)",
                            hint: "pack the dataset again with this version of srgan-dist")
        }
        return manifest
    }
}

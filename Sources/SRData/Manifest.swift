// index.json: what a packed folder holds. Written last by the packer, so a folder whose manifest
// exists holds complete shards. Keys are sorted and nothing time-dependent is stored, so the same
// input and parameters always give the same manifest.

import Foundation

public struct PackParameters: Codable, Equatable, Sendable {
    /// "grid" (patches every `stride` pixels), "random" (`cropsPerImage` seeded random crops) or
    /// "whole" (each photo resized, shorter side to `patchSize`, and centre-cropped to a square).
    public var mode: String
    public var patchSize: Int
    public var stride: Int
    public var cropsPerImage: Int
    public var seed: UInt64
    public var shardBytes: Int
    public var patchesPerBlock: Int
    public var validationImages: Int
    public var maxMegapixels: Int
    /// Photos whose pixels are all gray (R = G = B) were skipped: every target has colour (the
    /// colourising mode requires it). Absent in packs made before it existed: false.
    public var skipGray: Bool

    enum CodingKeys: String, CodingKey {
        case mode, stride, seed
        case patchSize = "patch_size", cropsPerImage = "crops_per_image", shardBytes = "shard_bytes"
        case patchesPerBlock = "patches_per_block", validationImages = "validation_images"
        case maxMegapixels = "max_megapixels", skipGray = "skip_gray"
    }

    public init(mode: String, patchSize: Int, stride: Int, cropsPerImage: Int, seed: UInt64, shardBytes: Int,
                patchesPerBlock: Int, validationImages: Int, maxMegapixels: Int, skipGray: Bool = false) {
        self.mode = mode
        self.patchSize = patchSize
        self.stride = stride
        self.cropsPerImage = cropsPerImage
        self.seed = seed
        self.shardBytes = shardBytes
        self.patchesPerBlock = patchesPerBlock
        self.validationImages = validationImages
        self.maxMegapixels = maxMegapixels
        self.skipGray = skipGray
    }

    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        mode = try values.decode(String.self, forKey: .mode)
        patchSize = try values.decode(Int.self, forKey: .patchSize)
        stride = try values.decode(Int.self, forKey: .stride)
        cropsPerImage = try values.decode(Int.self, forKey: .cropsPerImage)
        seed = try values.decode(UInt64.self, forKey: .seed)
        shardBytes = try values.decode(Int.self, forKey: .shardBytes)
        patchesPerBlock = try values.decode(Int.self, forKey: .patchesPerBlock)
        validationImages = try values.decode(Int.self, forKey: .validationImages)
        maxMegapixels = try values.decode(Int.self, forKey: .maxMegapixels)
        skipGray = try values.decodeIfPresent(Bool.self, forKey: .skipGray) ?? false
    }

    /// One item per photo (the whole image resized to patchSize x patchSize).
    public var wholeImages: Bool { mode == "whole" }
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
    /// "png" or "jpeg" (absent in packs made before JPEG input: PNG). For JPEG, bitDepth is 8,
    /// colorType 0 or 2 and width/height are after the EXIF orientation.
    public var format: ImageFormat?

    enum CodingKeys: String, CodingKey {
        case file, width, height, split, patches, format
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

    /// The keys whose values are integers (for naming the one that is not).
    static let integerKeys: Set<String> = ["version", "channels", "patch_size", "stride", "crops_per_image", "seed", "shard_bytes",
                                           "patches_per_block", "validation_images", "max_megapixels", "total_patches", "patches",
                                           "blocks", "bytes", "width", "height", "bit_depth", "color_type"]

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    public static func load(directory: String) throws -> Manifest {
        let path = (directory as NSString).appendingPathComponent(fileName)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw DataError(directory, "no such folder", hint: "check the path, or pack photos into it with 'srgan-dist pack --input PHOTOS --output \(directory)'")
        }
        guard isDirectory.boolValue else {
            throw DataError(directory, "is a file, not a packed dataset folder", hint: "pass the folder 'srgan-dist pack --output' wrote")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if entries.contains(where: { $0.hasPrefix("pack-journal-") }) {
                throw DataError(path, "no manifest: the pack into this folder was interrupted",
                                hint: "finish it with 'srgan-dist pack --input PHOTOS --output \(directory) --resume' (same photos and options)")
            }
            throw DataError(path, "no manifest: this folder holds no packed dataset",
                            hint: "pass the folder 'srgan-dist pack --output' wrote, or pack photos into it with 'srgan-dist pack --input PHOTOS --output \(directory)'")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch let error as DecodingError {
            let reason = JSONIntegerFields.firstNonInteger(in: data, keys: integerKeys) ?? error.keyAndReason
            throw DataError(path, "not a valid manifest: \(reason)", hint: "pack the dataset again")
        } catch {
            throw DataError(path, "not a valid manifest (\(error.localizedDescription))", hint: "pack the dataset again")
        }
        guard manifest.format == formatName, manifest.version == Int(ShardFormat.version) else {
            throw DataError(path, "format '\(manifest.format)' version \(manifest.version); this build reads '\(formatName)' version \(ShardFormat.version)",
                            hint: "pack the dataset again with this version of srgan-dist")
        }
        if let problem = manifest.problem {
            throw DataError(path, "damaged or edited manifest: \(problem)", hint: "pack the dataset again (or restore index.json from a copy)")
        }
        return manifest
    }
}

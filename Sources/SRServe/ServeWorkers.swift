// The work behind POST /upscale, kept off the server's event loops and the Swift concurrency pool:
//   1. checking and decoding an upload: on a pool of `checkers` threads (several at once; a
//      damaged or oversized image is refused here without waiting for the generator);
//   2. bicubic, the generator, and encoding both results: on ONE serial queue, because the
//      generator's layers keep buffers between calls. Uploads queue there in arrival order, and
//      at most one HR image (the largest allocation) is being built at any time.
// Bytes pass through temporary files because the PNG and JPEG codecs (SRData) read and write files.

import Foundation
import Hummingbird
import SRData
import SRTrain

public struct UploadLimits: Sendable {
    public let maxBytes: Int
    public let maxPixels: Int
    public init(maxBytes: Int, maxPixels: Int) {
        self.maxBytes = maxBytes
        self.maxPixels = maxPixels
    }
}

/// A refused upload: an HTTP status and one plain sentence for the page.
public enum UploadProblem: Error {
    case empty
    case tooManyBytes(Int)
    case notPNG(String)
    /// A multipart/form-data body (curl -F, an HTML form) instead of the file's own bytes.
    case multipart
    case tooManyPixels(width: Int, height: Int, limit: Int)
    case damaged(String)

    public var status: HTTPResponse.Status {
        switch self {
        case .empty: return .badRequest
        case .tooManyBytes, .tooManyPixels: return .contentTooLarge
        case .notPNG, .multipart: return .unsupportedMediaType
        case .damaged: return .unprocessableContent
        }
    }

    public var message: String {
        switch self {
        case .empty:
            return "The upload is empty: choose a PNG or JPEG file first."
        case .tooManyBytes(let limit):
            return "The file is larger than \(ServeRoutes.number(Double(limit) / 1e6)) MB, the limit of this server (--max-upload-mb). Upload a smaller image."
        case .notPNG(let kind):
            return "This is not a PNG or JPEG file\(kind.isEmpty ? "" : " (it looks like \(kind))"): only PNG and JPEG images are supported. Convert it to PNG first."
        case .multipart:
            return "This is a multipart form upload (what curl -F or an HTML form sends), not an image file: POST /upscale takes the PNG or JPEG file's own bytes as the whole request body, e.g. curl --data-binary @photo.png http://HOST:PORT/upscale"
        case .tooManyPixels(let width, let height, let limit):
            return String(format: "The image is %dx%d, %.3g megapixels, above the limit of %@ megapixels (--max-megapixels). Crop or shrink it.",
                          width, height, Double(width * height) / 1e6, ServeRoutes.number(Double(limit) / 1e6))
        case .damaged(let detail):
            return "The image file is damaged (\(detail)). Re-export it and try again."
        }
    }
}

/// What POST /upscale answers: both results as base64 PNG files, sizes and timings.
public struct UpscaleResult: Encodable, Sendable {
    public let scale: Int
    public let inputWidth: Int
    public let inputHeight: Int
    public let outputWidth: Int
    public let outputHeight: Int
    /// Base64 of the PNG files (8-bit, or 16-bit for 16-bit input; gray for gray input).
    public let bicubic: String
    public let model: String
    public let timings: Timings

    public struct Timings: Encodable, Sendable {
        /// Checking and decoding the upload.
        public let decodeMs: Double
        /// Waiting for the uploads ahead of this one.
        public let queueMs: Double
        public let bicubicMs: Double
        public let modelMs: Double
        /// Encoding both results as PNG.
        public let encodeMs: Double
    }
}

/// Owns the generator and the two kinds of worker threads. Its mutable state (the counters) is
/// guarded by `lock`; the upscaler is only touched on `inferenceQueue`.
public final class ServeWorkers: @unchecked Sendable {
    private let upscaler: Upscaler
    private let limits: UploadLimits
    private let scratch: URL
    private let holdFile: String?
    private let checkers = OperationQueue()
    private let inferenceQueue = DispatchQueue(label: "srgan-dist.serve.inference")
    private let lock = NSLock()
    private var busyCount = 0
    private var waitingCount = 0

    public init(model: TrainedModel, limits: UploadLimits, holdFile: String? = nil) throws {
        guard model.generator.config.kind != .colorize else {
            throw ConfigurationError("\(model.file): a colourising generator; serve runs x4 SR generators only",
                                     hint: "use 'srgan-dist upscale --colorize' with this model")
        }
        upscaler = Upscaler(model: model)
        self.limits = limits
        self.holdFile = holdFile
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-dist-serve-\(getpid())")
        checkers.maxConcurrentOperationCount = max(ProcessInfo.processInfo.activeProcessorCount, 2)
        checkers.name = "srgan-dist.serve.checkers"
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    public var busy: Int { lock.withLock { busyCount } }
    public var waiting: Int { lock.withLock { waitingCount } }

    public func removeScratch() { try? FileManager.default.removeItem(at: scratch) }

    /// Checks and decodes `bytes`, then upscales them when the generator is free.
    public func upscale(_ bytes: [UInt8]) async throws -> UpscaleResult {
        try Self.checkSignature(bytes)
        let started = DispatchTime.now()
        let image = try await onCheckers { try self.decode(bytes) }
        let decoded = DispatchTime.now()
        lock.withLock { waitingCount += 1 }
        return try await withCheckedThrowingContinuation { continuation in
            inferenceQueue.async {
                self.lock.withLock {
                    self.waitingCount -= 1
                    self.busyCount += 1
                }
                defer { self.lock.withLock { self.busyCount -= 1 } }
                while let hold = self.holdFile, FileManager.default.fileExists(atPath: hold) { Thread.sleep(forTimeInterval: 0.02) }
                continuation.resume(with: Result {
                    try self.superResolve(image, decodeMs: Self.milliseconds(started, decoded), queueMs: Self.milliseconds(decoded, .now()))
                })
            }
        }
    }

    /// The first bytes of a PNG or JPEG file, and those of the formats people upload instead.
    static func checkSignature(_ bytes: [UInt8]) throws {
        if ImageFile.format(ofBytes: Array(bytes.prefix(8))) != nil { return }
        let head = Array(bytes.prefix(12))
        if head.starts(with: Array("--".utf8)),
           String(decoding: bytes.prefix(1024), as: UTF8.self).lowercased().contains("content-disposition: form-data") {
            throw UploadProblem.multipart
        }
        var kind = ""
        if head.starts(with: Array("GIF8".utf8)) { kind = "a GIF" }
        else if head.count >= 12 && head.starts(with: Array("RIFF".utf8)) && Array(head[8..<12]) == Array("WEBP".utf8) { kind = "a WebP image" }
        else if head.starts(with: Array("BM".utf8)) { kind = "a BMP image" }
        else if head.starts(with: [0x49, 0x49, 0x2A, 0x00]) || head.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { kind = "a TIFF image" }
        else if head.count >= 12 && Array(head[4..<8]) == Array("ftyp".utf8) { kind = "a HEIC/AVIF image or a video" }
        else if head.starts(with: Array("<".utf8)) || head.starts(with: Array("{".utf8)) { kind = "text" }
        throw UploadProblem.notPNG(kind)
    }

    /// On a checker thread: header first (pixel limit before any pixel memory), then the pixels.
    private func decode(_ bytes: [UInt8]) throws -> PlanarImage {
        let file = scratch.appendingPathComponent("upload-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
            throw ServeError("cannot write the upload to \(file)")
        }
        defer { unlink(file) }
        let header: ImageHeader
        do { header = try ImageFile.readHeader(file) } catch let error as DataError { throw UploadProblem.damaged(error.problem) }
        guard header.width * header.height <= limits.maxPixels else {
            throw UploadProblem.tooManyPixels(width: header.width, height: header.height, limit: limits.maxPixels)
        }
        do { return try ImageFile.readPlanar(file, maxPixels: limits.maxPixels) } catch let error as DataError { throw UploadProblem.damaged(error.problem) }
    }

    /// On the inference queue: bicubic, the generator, both results encoded.
    private func superResolve(_ lr: PlanarImage, decodeMs: Double, queueMs: Double) throws -> UpscaleResult {
        let scale = upscaler.model.scale
        var mark = DispatchTime.now()
        func lap() -> Double {
            let now = DispatchTime.now()
            defer { mark = now }
            return Self.milliseconds(mark, now)
        }
        let bicubicValues = BicubicResizer(inHeight: lr.height, inWidth: lr.width, scale: Double(scale)).resize(lr.values, channels: 3)
        let bicubic = PlanarImage(width: lr.width * scale, height: lr.height * scale, values: bicubicValues,
                                  isGray: lr.isGray, bitDepth: lr.bitDepth)
        let bicubicMs = lap()
        let sr = upscaler.upscale(lr)
        let modelMs = lap()
        let bicubicPNG = try encode(bicubic, like: lr)
        let modelPNG = try encode(sr, like: lr)
        return UpscaleResult(scale: scale, inputWidth: lr.width, inputHeight: lr.height, outputWidth: sr.width, outputHeight: sr.height,
                             bicubic: bicubicPNG.base64EncodedString(), model: modelPNG.base64EncodedString(),
                             timings: .init(decodeMs: decodeMs, queueMs: queueMs, bicubicMs: bicubicMs, modelMs: modelMs, encodeMs: lap()))
    }

    /// The PNG file's bytes, at the input's bit depth and colour type (as `srgan-dist upscale` writes).
    private func encode(_ image: PlanarImage, like input: PlanarImage) throws -> Data {
        let file = scratch.appendingPathComponent("result-\(UUID().uuidString).png").path
        defer { unlink(file) }
        try PNG.writePlanar(image, to: file, bitDepth: input.bitDepth, gray: input.isGray)
        return try Data(contentsOf: URL(fileURLWithPath: file))
    }

    private func onCheckers<T>(_ work: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            checkers.addOperation { continuation.resume(with: Result { try work() }) }
        }
    }

    static func milliseconds(_ from: DispatchTime, _ to: DispatchTime) -> Double {
        Double(to.uptimeNanoseconds - from.uptimeNanoseconds) / 1e6
    }
}

/// A server-side failure (not the upload's fault): answered with 500.
public struct ServeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

// The routes of `srgan-dist serve` (docs/serve.md): GET / (the page), GET /health, and POST
// /upscale (the raw PNG or JPEG as the body; JSON with both results, or a refusal as plain text
// with a 4xx status). Built here, in a library, so the upload path can be driven without a
// network by the fuzzing harness (Sources/srgan-fuzz) and the tests; `srgan-dist serve` listens.

import Foundation
import Hummingbird
import SRTrain

public enum ServeRoutes {
    /// The three routes over `workers`, which check, decode and upscale the uploads.
    public static func router(model: TrainedModel, limits: UploadLimits, workers: ServeWorkers) -> Router<BasicRequestContext> {
        let page = ServePage.html(model: model, limits: limits)
        let summary = model.generator.summary, scale = model.scale
        let router = Router()
        router.get("/") { _, _ in
            Self.response(.ok, contentType: "text/html; charset=utf-8", body: ByteBuffer(string: page))
        }
        router.get("/health") { _, _ in
            let health = Health(status: "ok", model: summary, scale: scale,
                                maxUploadBytes: limits.maxBytes, maxPixels: limits.maxPixels,
                                busy: workers.busy, waiting: workers.waiting)
            return Self.json(health)
        }
        router.post("/upscale") { request, _ in
            await answerUpload(workers: workers) { try await collectUpload(request, limits: limits) }.response
        }
        return router
    }

    /// What POST /upscale answers, before it becomes a Response (the fuzzing harness reads it).
    public struct UploadAnswer: Sendable {
        public let status: HTTPResponse.Status
        public let contentType: String
        public let body: ByteBuffer
        public var response: Response { ServeRoutes.response(status, contentType: contentType, body: body) }
    }

    /// POST /upscale once the body is read: 200 with both results as JSON, the upload's problem
    /// as plain text with its 4xx status, or 500 (said on stderr) for a failure that is not the
    /// upload's fault. The fuzzing harness calls this with arbitrary bodies.
    public static func answerUpload(workers: ServeWorkers, body: () async throws -> [UInt8]) async -> UploadAnswer {
        do {
            let bytes = try await body()
            let result = try await workers.upscale(bytes)
            return UploadAnswer(status: .ok, contentType: "application/json", body: ByteBuffer(bytes: encodedJSON(result)))
        } catch let problem as UploadProblem {
            return UploadAnswer(status: problem.status, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: problem.message + "\n"))
        } catch {
            // Not the upload's fault (a full disk for the scratch files, say): 500, and said on stderr.
            FileHandle.standardError.write(Data("error: POST /upscale: \(error)\n".utf8))
            return UploadAnswer(status: .internalServerError, contentType: "text/plain; charset=utf-8",
                                body: ByteBuffer(string: "The server failed to upscale this image (\(error)). Its log has the details.\n"))
        }
    }

    /// The request body, refused early when the client announces too many bytes, and cut off as
    /// soon as it passes the limit otherwise.
    public static func collectUpload(_ request: Request, limits: UploadLimits) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        if let announced = request.headers[.contentLength].flatMap({ Int($0) }) {
            guard announced <= limits.maxBytes else { throw UploadProblem.tooManyBytes(limits.maxBytes) }
            bytes.reserveCapacity(max(announced, 0))
        }
        for try await chunk in request.body {
            guard bytes.count + chunk.readableBytes <= limits.maxBytes else { throw UploadProblem.tooManyBytes(limits.maxBytes) }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        guard !bytes.isEmpty else { throw UploadProblem.empty }
        return bytes
    }

    public static func response(_ status: HTTPResponse.Status, contentType: String, body: ByteBuffer) -> Response {
        Response(status: status, headers: [.contentType: contentType, .cacheControl: "no-store"], body: .init(byteBuffer: body))
    }

    public static func json(_ value: some Encodable) -> Response {
        response(.ok, contentType: "application/json", body: ByteBuffer(bytes: encodedJSON(value)))
    }

    static func encodedJSON(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// 20 -> "20", 0.5 -> "0.5".
    public static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }
}

/// What GET /health answers.
struct Health: Encodable {
    let status: String
    let model: String
    let scale: Int
    let maxUploadBytes: Int
    let maxPixels: Int
    /// 1 while an image is being upscaled.
    let busy: Int
    /// Uploads decoded and waiting for the generator.
    let waiting: Int
}

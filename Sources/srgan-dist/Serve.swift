// `srgan-dist serve`: a small web page to try a trained generator. A user uploads a PNG or JPEG and sees
// bicubic and the model side by side at the HR size, zooms both together, and downloads the
// model's result (docs/serve.md).
//
// Concurrency: Hummingbird answers requests on its event loops and the Swift concurrency pool;
// the page, /health and refused uploads never wait for a model. Uploads are decoded on a small
// worker pool; the generator (whose layers keep buffers, so it is not thread-safe) runs on one
// serial queue, one image at a time, with later uploads waiting their turn (ServeWorkers.swift).
//
// Files: Serve.swift (the command and the routes), ServeWorkers.swift (checking, decoding and
// upscaling uploads off the event loops), ServePage.swift (the page: HTML, CSS and JS).

import ArgumentParser
import Foundation
import Hummingbird
import SRCore
import SRTrain

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a web page that upscales uploaded PNGs and JPEGs with a trained generator, beside bicubic.",
        discussion: """
            Open http://HOST:PORT/ in a browser. Routes: GET / (the page), POST /upscale (the raw PNG or JPEG as the \
            request body; answers JSON with both results as base64 PNGs), GET /health. One image is upscaled \
            at a time; other uploads wait their turn while the server keeps answering. Stop with Ctrl-C or SIGTERM.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "TCP port to listen on (0: any free port; the one chosen is printed).")
    var port = 8080

    @Option(help: "Address to listen on (0.0.0.0: every interface; the default serves this machine only).")
    var host = "127.0.0.1"

    @Option(help: "Largest upload accepted, in megabytes (10^6 bytes).")
    var maxUploadMb = 20.0

    @Option(help: "Largest input image accepted, in megapixels (the result has scale^2 times as many).")
    var maxMegapixels = 4.0

    @Option(help: .hidden)  // Tests: the generator waits while this file exists (to observe a busy server).
    var testHoldFile: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxUploadMb > 0 else { throw ValidationError("--max-upload-mb must be positive") }
        guard maxUploadMb <= 100_000 else { throw ValidationError("--max-upload-mb must be at most 100000 (100 GB)") }
        guard maxMegapixels > 0 else { throw ValidationError("--max-megapixels must be positive") }
        guard maxMegapixels <= 10_000 else { throw ValidationError("--max-megapixels must be at most 10000") }
    }

    func run() async throws {
        let model: TrainedModel
        do {
            model = try modelOptions.load()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let limits = UploadLimits(maxBytes: Int(maxUploadMb * 1e6), maxPixels: Int(maxMegapixels * 1e6))
        let workers: ServeWorkers
        do {
            workers = try ServeWorkers(model: model, limits: limits, holdFile: testHoldFile)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        defer { workers.removeScratch() }

        let page = ServePage.html(model: model, limits: limits)
        let summary = model.generator.summary, scale = model.scale, modelFile = model.file
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
            do {
                let bytes = try await Self.collectUpload(request, limits: limits)
                let result = try await workers.upscale(bytes)
                return Self.json(result)
            } catch let problem as UploadProblem {
                return Self.response(problem.status, contentType: "text/plain; charset=utf-8",
                                     body: ByteBuffer(string: problem.message + "\n"))
            } catch {
                // Not the upload's fault (a full disk for the scratch files, say): 500, and said on stderr.
                FileHandle.standardError.write(Data("error: POST /upscale: \(error)\n".utf8))
                return Self.response(.internalServerError, contentType: "text/plain; charset=utf-8",
                                     body: ByteBuffer(string: "The server failed to upscale this image (\(error)). Its log has the details.\n"))
            }
        }

        let host = self.host
        let started = ServerStarted()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "srgan-dist"),
            onServerRunning: { channel in
                started.set()
                let bound = channel.localAddress?.port ?? 0
                print("serving \(summary) from \(modelFile)")
                print(String(format: "uploads: PNG or JPEG, up to %@ MB and %@ megapixels", Self.number(Double(limits.maxBytes) / 1e6),
                             Self.number(Double(limits.maxPixels) / 1e6)))
                print("listening on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)/")
                fflush(stdout)
            })
        do {
            try await app.runService()
        } catch {
            let line = started.value
                ? "error: \(host):\(port): the server stopped: \(error). HINT: see the messages above; start it again"
                : "error: \(host):\(port): cannot listen: \(error). HINT: choose another --port or --host, or stop the program that holds it"
            FileHandle.standardError.write(Data((line + "\n").utf8))
            throw ExitCode(1)
        }
    }

    /// The request body, refused early when the client announces too many bytes, and cut off as
    /// soon as it passes the limit otherwise.
    static func collectUpload(_ request: Request, limits: UploadLimits) async throws -> [UInt8] {
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

    static func response(_ status: HTTPResponse.Status, contentType: String, body: ByteBuffer) -> Response {
        Response(status: status, headers: [.contentType: contentType, .cacheControl: "no-store"], body: .init(byteBuffer: body))
    }

    static func json(_ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return response(.ok, contentType: "application/json", body: ByteBuffer(bytes: data))
    }

    /// 20 -> "20", 0.5 -> "0.5".
    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }
}

/// Set once the server listens (from Hummingbird's callback, read after it returns).
final class ServerStarted: @unchecked Sendable {
    private let lock = NSLock()
    private var started = false
    var value: Bool { lock.withLock { started } }
    func set() { lock.withLock { started = true } }
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

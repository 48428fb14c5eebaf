// `srgan-dist serve`: a small web page to try a trained generator. A user uploads a PNG or JPEG and sees
// bicubic and the model side by side at the HR size, zooms both together, and downloads the
// model's result (docs/serve.md).
//
// Concurrency: Hummingbird answers requests on its event loops and the Swift concurrency pool;
// the page, /health and refused uploads never wait for a model. Uploads are decoded on a small
// worker pool; the generator (whose layers keep buffers, so it is not thread-safe) runs on one
// serial queue, one image at a time, with later uploads waiting their turn (ServeWorkers.swift).
//
// Files: Serve.swift (the command: options, model, listening), and in the SRServe library
// ServeRoutes.swift (the routes), ServeWorkers.swift (checking, decoding and upscaling uploads
// off the event loops), ServePage.swift (the page: HTML, CSS and JS).

import ArgumentParser
import Foundation
import Hummingbird
import SRCore
import SRServe
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

        let router = ServeRoutes.router(model: model, limits: limits, workers: workers)
        let summary = model.generator.summary, modelFile = model.file
        let host = self.host
        let started = ServerStarted()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "srgan-dist"),
            onServerRunning: { channel in
                started.set()
                let bound = channel.localAddress?.port ?? 0
                print("serving \(summary) from \(modelFile)")
                print(String(format: "uploads: PNG or JPEG, up to %@ MB and %@ megapixels", ServeRoutes.number(Double(limits.maxBytes) / 1e6),
                             ServeRoutes.number(Double(limits.maxPixels) / 1e6)))
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
}

/// Set once the server listens (from Hummingbird's callback, read after it returns).
final class ServerStarted: @unchecked Sendable {
    private let lock = NSLock()
    private var started = false
    var value: Bool { lock.withLock { started } }
    func set() { lock.withLock { started = true } }
}

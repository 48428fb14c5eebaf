// Harness for serve's upload handling: the bytes are a POST /upscale body, answered by the same
// function the route calls (ServeRoutes.answerUpload: signature, header, pixel limit, decode, a
// small generator, both PNGs encoded). The HTTP framing before it is SwiftNIO's. Properties: the
// answer is 200 or a 4xx with one plain sentence; a 5xx means bytes from a client made the server
// fail, which is a finding.

import Dispatch
import Foundation
import Hummingbird
import SRModels
import SRServe
import SRTrain

enum ServeTarget {
    /// Created on first use: a 2-channel, 1-block generator and a 64 kpixel limit, so each
    /// accepted image is upscaled in milliseconds.
    nonisolated(unsafe) static var workers: ServeWorkers?

    static func makeWorkers() -> ServeWorkers {
        do {
            var config = try TrainConfig.preset("tiny", phase: .srresnet)
            config.generator.channels = 2
            config.generator.residualBlocks = 1
            config.generator.tailKernel = 3
            let model = TrainedModel(SuperResolver(Generator(config.generator, seed: 1), globalSkip: config.globalSkip), file: "fuzz-generator")
            return try ServeWorkers(model: model, limits: UploadLimits(maxBytes: 1 << 20, maxPixels: 1 << 16))
        } catch {
            fatalError("upload: cannot set up the server's workers: \(error)")
        }
    }

    static let upload = FuzzTarget(name: "upload", summary: "a POST /upscale body through serve's upload handling and a small generator") { bytes in
        let body = Array(bytes)
        if workers == nil { workers = makeWorkers() }
        let workers = workers!
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status = 0
        nonisolated(unsafe) var text = ""
        Task.detached {
            let answer = await ServeRoutes.answerUpload(workers: workers) { body }
            status = answer.status.code
            if status != 200 { text = String(buffer: answer.body) }
            done.signal()
        }
        done.wait()
        guard status == 200 || (400..<500).contains(status) else {
            fatalError("upload: the server answered \(status) to a client's bytes (\(body.count) bytes)")
        }
        return status == 200 ? nil : "\(status): \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}

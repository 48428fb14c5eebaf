// `srgan-bench data`: pack and streaming throughput next to a Python peer doing the same jobs
// (bench/peers/data_pipeline.py), and streaming against what a training step consumes.

import ArgumentParser
import Foundation
import SRCore
import SRData

struct BenchData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Pack and streaming throughput, srgan-dist next to a Python peer, and against a training step's appetite.")

    @Option(help: "Folder of PNG and JPEG photos to pack.")
    var input = "samples/photos"

    @Option(help: "HR patch side.")
    var patchSize = 96

    @Option(help: "Batches of 16 to stream.")
    var batches = 40

    @Option(help: "Python with Pillow, lz4 and numpy, for the peer.")
    var peerPython = ".venv-peer/bin/python"

    @Option(help: "The peer script.")
    var peerScript = "bench/peers/data_pipeline.py"

    @Flag(help: "Skip measuring a training step (the slow part).")
    var skipStep = false

    func run() throws {
        try ChildProcess.checkSRGANDist()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-bench-data-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        print("bench data: \(input), \(patchSize)x\(patchSize) patches, batches of 16, x4 LR, "
              + "\(ISO8601DateFormatter().string(from: Date()))")
        BLASThreads.set(1)

        var rows: [(String, String, String, String)] = []   // job, srgan-dist, peer, ratio
        var packRates: [Double] = []  // 1 thread, then all cores
        for threads in [1, ProcessInfo.processInfo.activeProcessorCount] {
            var options = PackOptions(input: input, output: work + "/packed-\(threads)")
            options.patchSize = patchSize
            options.threads = threads
            let summary = try Packer(options).run()
            let rate = Double(summary.decodedBytes) / 1e6 / summary.seconds
            packRates.append(rate)
            rows.append(("pack, \(threads) thread(s): MB/s decoded (patches/s)",
                         String(format: "%.1f (%.0f)", rate, Double(summary.manifest.totalPatches) / summary.seconds), "", ""))
        }
        let dataset = try PackedDataset(directory: work + "/packed-1")
        var streamRates: [Int: Double] = [:]
        for cached in [1, 16] {
            var options = StreamOptions(rank: 0, worldSize: 1, batchSize: 16, seed: 0, scale: 4)
            options.cachedBlocks = cached
            let maker = BatchMaker(dataset: dataset, options: options)
            let start = DispatchTime.now().uptimeNanoseconds
            var position = StreamPosition()
            for _ in 0..<batches { position = try maker.batch(at: position).position }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            streamRates[cached] = Double(16 * batches) / seconds
            rows.append(("stream, 1 thread, \(cached) cached block(s): patches/s", String(format: "%.0f", streamRates[cached]!), "", ""))
        }

        if FileManager.default.isExecutableFile(atPath: peerPython), FileManager.default.fileExists(atPath: peerScript) {
            let lines = try ChildProcess.lines(peerPython, [peerScript, "--input", input, "--work", work + "/peer", "--patch", "\(patchSize)",
                                                  "--batches", "\(batches)"])
            for line in lines {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                if object["job"] as? String == "pack", let rate = (object["decoded_mb_per_s"] as? NSNumber)?.doubleValue {
                    // The peer is one Python process (the usual way); the all-cores row is what
                    // `pack` does by default, set against that same run.
                    rows[0].2 = String(format: "%.1f (%.0f)", rate, (object["patches_per_s"] as? NSNumber)?.doubleValue ?? 0)
                    rows[0].3 = String(format: "%.2f", packRates[0] / rate)
                    rows[1].2 = "same run, 1 process"
                    rows[1].3 = String(format: "%.2f", packRates[1] / rate)
                }
                if object["job"] as? String == "stream", let rate = (object["patches_per_s"] as? NSNumber)?.doubleValue {
                    rows[2].2 = String(format: "%.0f", rate)
                    rows[2].3 = String(format: "%.2f", streamRates[1]! / rate)
                }
            }
        } else {
            print("peer not run: \(peerPython) or \(peerScript) not found. HINT: python3 -m venv .venv-peer && .venv-peer/bin/pip install pillow lz4 numpy")
        }
        print("| job | srgan-dist | Python peer | ratio |")
        print("|---|---|---|---|")
        for row in rows { print("| \(row.0) | \(row.1) | \(row.2) | \(row.3) |") }

        guard !skipStep else { return }
        // What one training step eats, on one core: the paper's SRResNet step (the fastest step).
        let step = try ChildProcess.lines(ChildProcess.srganDist, ["bench", "step", "--phase", "srresnet", "--batch", "16",
                                                            "--patch", "\(patchSize)", "--steps", "2", "--threads", "1"])
        guard let line = step.last, let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let consumed = (object["samples_per_s"] as? NSNumber)?.doubleValue else {
            throw ValidationError("bench step gave no result")
        }
        let ratio = streamRates[1]! / consumed
        print(String(format: "training consumes %.2f patches/s (SRResNet step, batch 16, 1 thread); streaming on one core "
                     + "delivers %.0f, %.0fx that (target: at least 20x): %@", consumed, streamRates[1]!, ratio,
                     ratio >= 20 ? "met" : "NOT met"))
    }
}

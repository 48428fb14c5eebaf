// `srgan-bench memory`: `srgan-dist bench step` and the PyTorch peer, each in a fresh process one after
// the other, same phase, batch, patch and threads; prints peak memory and speed side by side.

import ArgumentParser
import Foundation

struct BenchMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Peak memory and speed of a training step, srgan-dist next to PyTorch on the same CPU.")

    @Option(help: "Which step: srresnet or gan.")
    var phase: StepPhase = .gan

    @Option(help: "Images per batch.")
    var batch = 16

    @Option(help: "HR patch side (a multiple of 16).")
    var patch = 96

    @Option(help: "Steps per process (the first is excluded from samples/s).")
    var steps = 2

    @Option(help: "Threads for both tools.")
    var threads = 2

    @Option(help: "Python with torch installed, for the peer.")
    var peerPython = ".venv-peer/bin/python"

    @Option(help: "The peer script.")
    var peerScript = "bench/peers/srgan_step.py"

    struct Row {
        let name: String
        let fields: [String: Any]
        var samplesPerSecond: Double { (fields["samples_per_s"] as? NSNumber)?.doubleValue ?? 0 }
        var peakMB: Double { (fields["peak_rss_mb"] as? NSNumber)?.doubleValue ?? 0 }
        var beforeMB: Double { (fields["rss_before_mb"] as? NSNumber)?.doubleValue ?? 0 }
        var seconds: [Double] { (fields["step_seconds"] as? [NSNumber])?.map(\.doubleValue) ?? [] }
    }

    func run() throws {
        try ChildProcess.checkSRGANDist()
        let common = ["--phase", phase.rawValue, "--batch", "\(batch)", "--patch", "\(patch)",
                      "--steps", "\(steps)", "--threads", "\(threads)"]
        let machine = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        print("bench memory: \(phase.rawValue) step, batch \(batch), \(patch)x\(patch), \(threads) threads, "
              + "\(steps) steps per process, \(machine), \(ISO8601DateFormatter().string(from: Date()))")
        var rows: [Row] = []
        let own = try ChildProcess.json(ChildProcess.srganDist, ["bench", "step"] + common)
        rows.append(Row(name: "srgan-dist", fields: own))
        var peerNote: String?
        if FileManager.default.isExecutableFile(atPath: peerPython), FileManager.default.fileExists(atPath: peerScript) {
            for layout in [[], ["--channels-last"]] {
                do {
                    let fields = try ChildProcess.json(peerPython, [peerScript] + common + layout)
                    rows.append(Row(name: "PyTorch", fields: fields))
                } catch {
                    peerNote = "peer failed: \(error)"
                }
            }
        } else {
            peerNote = "peer not run: \(peerPython) or \(peerScript) not found. HINT: from the repository root, "
                + "python3 -m venv .venv-peer && .venv-peer/bin/pip install torch numpy"
        }
        print("| tool | layout | seconds per step | samples/s | RSS before steps MB | peak RSS MB |")
        print("|---|---|---|---|---|---|")
        for row in rows {
            let seconds = row.seconds.map { String(format: "%.2f", $0) }.joined(separator: ", ")
            print("| \(row.fields["tool"] ?? row.name) | \(row.fields["layout"] ?? "") | \(seconds) | "
                  + String(format: "%.2f | %.0f | %.0f |", row.samplesPerSecond, row.beforeMB, row.peakMB))
        }
        let peers = rows.dropFirst()
        if let lowestMemory = peers.min(by: { $0.peakMB < $1.peakMB }), let fastest = peers.max(by: { $0.samplesPerSecond < $1.samplesPerSecond }) {
            print(String(format: "ratio srgan-dist / PyTorch: peak memory %.2f (vs PyTorch's lower, %@), samples/s %.2f (vs PyTorch's faster, %@)",
                         rows[0].peakMB / lowestMemory.peakMB, "\(lowestMemory.fields["layout"] ?? "")",
                         rows[0].samplesPerSecond / fastest.samplesPerSecond, "\(fastest.fields["layout"] ?? "")"))
        }
        if let peerNote { print(peerNote) }
    }
}

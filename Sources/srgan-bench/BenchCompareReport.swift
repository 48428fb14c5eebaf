// What `srgan-bench compare` prints: the markdown table (srgan-dist, the faster PyTorch layout, their
// ratio, peak memory, achieved GFLOP/s and its fraction of sgemm), or with --json one object of
// srgan-dist's figures. A bf16 comparison names its sides "srgan-dist bf16" and "PyTorch bf16
// (autocast)" in the title and the columns, so it is not read as the fp32 one.

import Foundation
import SRCore
import SRTrain

struct BenchCompareReport {
    let sizes: BenchSizes
    let precision: ProductPrecision
    let sgemm: Double
    let sgemmOneThread: Double?
    let gemmSize: Int
    let torchVersion: String?
    /// Why srgan-dist's children were not run in `precision` (one line with a hint), if so.
    let ownRefusal: String?
    let outcomes: [BenchCompare.Outcome]

    /// The names of the two sides in the table: the plain tool names in fp32, as the table has
    /// always had them.
    var ownName: String { precision == .fp32 ? "srgan-dist" : "srgan-dist \(precision.rawValue)" }
    var peerName: String { precision == .fp32 ? "PyTorch" : "PyTorch \(precision.rawValue) (autocast)" }

    /// What the title adds for a comparison other than fp32.
    private var precisionTitle: String {
        precision == .fp32 ? "" : ", products in \(precision.rawValue): \(ownName) beside \(peerName) (not the fp32 comparison)"
    }

    private static func number(_ fields: [String: Any]?, _ key: String) -> Double? {
        (fields?[key] as? NSNumber)?.doubleValue
    }

    /// The sgemm rate a workload's GFLOP/s is measured against: the ranks' combined 1-thread rate
    /// for data-parallel workloads, else the rate at --threads.
    private func sgemmRate(_ workload: BenchWorkload) -> Double {
        workload.isDataParallel ? Double(sizes.ranks) * (sgemmOneThread ?? sgemm) : sgemm
    }

    /// The peer run of the better layout (higher samples/s, or fewer seconds per image).
    private func fastestPeer(_ outcome: BenchCompare.Outcome) -> [String: Any]? {
        let workload = outcome.workload
        let measured = outcome.peers.filter { workload.speed($0) != nil }
        return workload.isInference
            ? measured.min { workload.speed($0)! < workload.speed($1)! }
            : measured.max { workload.speed($0)! < workload.speed($1)! }
    }

    private static func format(_ value: Double?, _ pattern: String = "%.2f") -> String {
        value.map { String(format: pattern, $0) } ?? ""
    }

    /// srgan-dist's speed over the faster PyTorch layout's; > 1: srgan-dist faster (inference:
    /// PyTorch's seconds over srgan-dist's). Nil when either side did not measure.
    func speedRatio(_ outcome: BenchCompare.Outcome) -> Double? {
        let workload = outcome.workload
        guard let own = outcome.own.flatMap(workload.speed), let peer = fastestPeer(outcome).flatMap(workload.speed) else { return nil }
        return workload.isInference ? peer / own : own / peer
    }

    /// The last table of a run with several rounds: each workload's ratio per round and the median.
    static func printRounds(_ reports: [BenchCompareReport]) {
        guard let first = reports.first else { return }
        print("speed srgan-dist / PyTorch per round (\(reports.count) rounds) and the median\(first.precisionTitle):")
        print("| workload | " + (1...reports.count).map { "round \($0)" }.joined(separator: " | ") + " | median |")
        print("|---|" + String(repeating: "---:|", count: reports.count + 1))
        for (index, outcome) in first.outcomes.enumerated() {
            let ratios = reports.map { $0.outcomes.indices.contains(index) ? $0.speedRatio($0.outcomes[index]) : nil }
            let measured = ratios.compactMap { $0 }.sorted()
            let median = measured.isEmpty ? nil
                : measured.count % 2 == 1 ? measured[measured.count / 2] : (measured[measured.count / 2 - 1] + measured[measured.count / 2]) / 2
            print("| \(outcome.workload.title(first.sizes)) | " + ratios.map { format($0) }.joined(separator: " | ") + " | \(format(median)) |")
        }
    }

    func printTable() {
        print("srgan-bench compare, \(ISO8601DateFormatter().string(from: Date())), \(sizes.threads) thread(s), "
              + "\(sizes.steps) step(s) per process (tiny: \(BenchWorkload.tinySteps(sizes)))\(sizes.steps > 1 ? " (first excluded)" : ""), PyTorch \(torchVersion ?? "not run")"
              + precisionTitle)
        for line in PlatformSummary.lines(threads: sizes.threads) { print(line) }
        print(String(format: "sgemm %dx%dx%d through parallelGemm(): %.1f GFLOP/s at %d thread(s)", gemmSize, gemmSize, gemmSize, sgemm, sizes.threads)
              + (sizes.threads == 1 ? "" : sgemmOneThread.map { String(format: ", %.1f at 1 thread", $0) } ?? ""))
        print("| workload | unit | \(ownName) | \(peerName) | PyTorch layout | speed srgan-dist / PyTorch | peak MB srgan-dist | peak MB PyTorch "
              + "| memory srgan-dist / PyTorch | srgan-dist GFLOP/s | of sgemm |")
        print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        for outcome in outcomes {
            let workload = outcome.workload
            let peer = fastestPeer(outcome)
            let ownSpeed = outcome.own.flatMap(workload.speed), peerSpeed = peer.flatMap(workload.speed)
            let speedRatio = speedRatio(outcome)
            let ownPeak = Self.number(outcome.own, "peak_rss_mb"), peerPeak = Self.number(peer, "peak_rss_mb")
            let gflops = Self.number(outcome.own, "gflop_per_s")
            let cells = [
                workload.title(sizes), workload.unit,
                Self.format(ownSpeed, workload.isInference ? "%.3f" : "%.2f"), Self.format(peerSpeed, workload.isInference ? "%.3f" : "%.2f"),
                peer?["layout"] as? String ?? "", Self.format(speedRatio),
                Self.format(ownPeak, "%.0f"), Self.format(peerPeak, "%.0f"),
                Self.format(ownPeak.flatMap { own in peerPeak.map { own / $0 } }),
                Self.format(gflops, "%.1f"), Self.format(gflops.map { $0 / sgemmRate(workload) }),
            ]
            print("| " + cells.joined(separator: " | ") + " |")
        }
        print("speed ratio > 1: srgan-dist is faster (inference: PyTorch's seconds per image over srgan-dist's); "
              + "\(peerName) = the faster of its default and channels_last layouts")
        print("peak MB = VmHWM of one process (data-parallel: the largest rank); GFLOP/s from the layer geometry "
              + "(docs/benchmarks.md); of sgemm = over sgemm at the same threads (data-parallel: ranks x 1-thread sgemm)")
        for outcome in outcomes where !outcome.peers.isEmpty {
            let layouts = outcome.peers.map { peer -> String in
                let speed = Self.format(outcome.workload.speed(peer), outcome.workload.isInference ? "%.3f" : "%.2f")
                // The peer's own word for its precision, where it is not fp32.
                let precision = (peer["precision"] as? String).flatMap { $0 == "fp32" ? nil : " " + $0 } ?? ""
                return "\(peer["layout"] ?? "?")\(precision) \(speed) \(outcome.workload.unit), \(Self.format(Self.number(peer, "peak_rss_mb"), "%.0f")) MB"
            }
            print("PyTorch \(outcome.workload.rawValue): " + layouts.joined(separator: "; "))
        }
        for note in problems { print("note: " + note) }
    }

    /// What went wrong: srgan-dist's refusal of the precision, then each workload's failures.
    private var problems: [String] { (ownRefusal.map { [$0] } ?? []) + outcomes.flatMap(\.notes) }

    func json() -> String {
        var fields: [(String, Any)] = [
            ("tool", "srgan-dist"), ("date", ISO8601DateFormatter().string(from: Date())), ("threads", sizes.threads),
            ("steps", sizes.steps), ("batch", sizes.batch), ("patch", sizes.patch), ("infer_input", sizes.inferInput),
            ("ranks", sizes.ranks), ("precision", precision.rawValue), ("sgemm_size", gemmSize), ("sgemm_gflop_per_s", sgemm),
        ]
        if let sgemmOneThread { fields.append(("sgemm_1_thread_gflop_per_s", sgemmOneThread)) }
        for (name, value) in PlatformSummary.fields(threads: sizes.threads).sorted(by: { $0.key < $1.key }) where name != "threads" {
            fields.append((name, value))
        }
        for outcome in outcomes {
            let workload = outcome.workload, key = workload.jsonKey
            guard let own = outcome.own, let speed = workload.speed(own) else { continue }
            fields.append((key + (workload.isInference ? "_seconds_per_image" : "_samples_per_s"), speed))
            if let seconds = own[workload.isInference ? "image_seconds" : "step_seconds"] as? [NSNumber] {
                fields.append((key + (workload.isInference ? "_image_seconds" : "_step_seconds"), seconds.map(\.doubleValue)))
            }
            for name in ["peak_rss_mb", "gflop_per_s"] {
                if let value = Self.number(own, name) { fields.append((key + "_" + name, value)) }
            }
            if let gflops = Self.number(own, "gflop_per_s") { fields.append((key + "_fraction_of_sgemm", gflops / sgemmRate(workload))) }
        }
        if !problems.isEmpty { fields.append(("errors", problems.joined(separator: " | "))) }
        return JSONLine.format(fields)
    }
}

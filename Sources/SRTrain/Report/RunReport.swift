// `srgan-dist report`: one self-contained HTML page about a training run (RUN_DIR/report/
// index.html, charts and samples embedded as data: URIs) plus the chart PNGs beside it, read from
// what the run wrote: metrics.jsonl, config.yaml, samples/step-*/ and checkpoints/step-*/.
// The page opens with health checks computed from the data (docs/report.md lists the rules).

import Foundation
import SRData
import Yams

/// One line of metrics.jsonl: its kind ("train", "validation", "skip", "checkpoint_error"),
/// step, and numbers by name (nil where the run wrote null: the value was not finite).
public struct MetricsRecord {
    public let kind: String
    public let step: Int
    public let fields: [String: Double?]
}

public struct RunMetrics {
    public var records: [MetricsRecord] = []
    /// Line numbers (from 1) of lines that are not a JSON object with a kind and a step.
    public var malformedLines: [Int] = []

    /// Parses metrics.jsonl text; blank lines are ignored, malformed ones counted.
    public init(text: String) {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let kind = object["kind"] as? String, let stepNumber = object["step"] as? NSNumber,
                  let step = Int(exactly: stepNumber.doubleValue) else {
                malformedLines.append(index + 1)
                continue
            }
            var fields: [String: Double?] = [:]
            for (name, value) in object where name != "kind" && name != "step" {
                if value is NSNull { fields[name] = .some(nil) } else if let number = value as? NSNumber { fields[name] = number.doubleValue }
            }
            records.append(MetricsRecord(kind: kind, step: step, fields: fields))
        }
    }

    public func records(_ kind: String) -> [MetricsRecord] { records.filter { $0.kind == kind } }

    /// (step, value) of every `kind` record that has `field` (nil where it was written as null).
    public func series(_ kind: String, _ field: String) -> [(x: Double, y: Double?)] {
        records(kind).compactMap { record in record.fields[field].map { (Double(record.step), $0) } }
    }
}

public struct HealthCheck {
    public enum Status: String { case ok = "OK", warning = "WARNING" }
    public let name: String
    public let status: Status
    public let detail: String
}

public struct RunReport {
    /// Loss falling: the mean of the first and the last `edgeFraction` of train records.
    public static let edgeFraction = 0.1
    /// srresnet phase: a last validation PSNR more than this below the best is a warning.
    public static let psnrDropWarning = 0.5
    /// gan phase: over the last 10% of train records, mean D(HR) above this and mean D(SR)
    /// below 1 - this mean the discriminator wins.
    public static let collapseThreshold = 0.99
    /// At most this many sample images are embedded.
    public static let maxSamples = 12

    public let runDirectory: String
    public let metrics: RunMetrics
    public let configText: String?
    public let totalSteps: Int?
    public let phase: String
    public let checks: [HealthCheck]

    public init(runDirectory: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDirectory, isDirectory: &isFolder), isFolder.boolValue else {
            throw ConfigurationError("\(runDirectory): no such folder", hint: "give the run folder that 'srgan-dist train --run' wrote")
        }
        let metricsPath = (runDirectory as NSString).appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: metricsPath) else {
            throw ConfigurationError("\(metricsPath): not found", hint: "is this a run folder? 'srgan-dist train' writes metrics.jsonl there from its first logged step")
        }
        guard let data = FileManager.default.contents(atPath: metricsPath) else {
            throw ConfigurationError("\(metricsPath): cannot be read", hint: "check the file's permissions")
        }
        let metrics = RunMetrics(text: String(decoding: data, as: UTF8.self))
        guard !metrics.records.isEmpty else {
            throw ConfigurationError("\(metricsPath): no records (\(metrics.malformedLines.count) malformed line\(metrics.malformedLines.count == 1 ? "" : "s"))",
                                     hint: "the run has not logged a step yet: wait for the first --log-every steps, or check that this is the right run")
        }
        self.runDirectory = runDirectory
        self.metrics = metrics
        configText = try? String(contentsOfFile: (runDirectory as NSString).appendingPathComponent("config.yaml"), encoding: .utf8)
        let config = configText.flatMap { (try? Yams.load(yaml: $0)) as? [String: Any] }
        totalSteps = config?["steps"] as? Int
        let inferred = metrics.records("train").contains { $0.fields["d_hr"] != nil } ? "gan" : "srresnet"
        phase = config?["phase"] as? String ?? inferred
        checks = Self.healthChecks(metrics, totalSteps: totalSteps, gan: phase == "gan")
    }

    // MARK: health

    static func healthChecks(_ metrics: RunMetrics, totalSteps: Int?, gan: Bool) -> [HealthCheck] {
        var checks: [HealthCheck] = []
        func add(_ name: String, _ ok: Bool, _ detail: String) { checks.append(HealthCheck(name: name, status: ok ? .ok : .warning, detail: detail)) }
        let lastStep = metrics.records.map(\.step).max() ?? 0
        if let totalSteps {
            add("Steps", lastStep >= totalSteps, "\(lastStep) / \(totalSteps) steps"
                + (lastStep >= totalSteps ? ", finished" : ": still running, or stopped (continue with srgan-dist train --resume --run RUN)"))
        } else {
            add("Steps", false, "\(lastStep) steps; the total is unknown (no readable steps: in config.yaml)")
        }

        let validations = metrics.records("validation").compactMap { record in (record.fields["psnr"] ?? nil).map { (record, $0) } }
        if case let (last, psnr)? = validations.last, case let (best, bestPSNR)? = validations.max(by: { $0.1 < $1.1 }) {
            var detail = String(format: "step %d: PSNR %.2f dB", last.step, psnr)
            if let bicubic = last.fields["psnr_bicubic"] ?? nil {
                detail += String(format: ", bicubic %.2f dB, gain %+.2f dB", bicubic, psnr - bicubic)
                if let ema = last.fields["psnr_ema"] ?? nil { detail += String(format: "; EMA %.2f dB (gain %+.2f dB)", ema, ema - bicubic) }
                add("Validation PSNR", psnr > bicubic, detail + (psnr > bicubic ? "" : ": not better than bicubic"))
            } else {
                add("Validation PSNR", false, detail + ": no bicubic PSNR to compare with")
            }
            // max(by:) keeps the first of equal bests: the earliest step.
            let drop = bestPSNR - psnr
            let bestDetail = String(format: "best %.2f dB at step %d", bestPSNR, best.step)
                + (best.step == last.step ? " (the last validation)" : String(format: "; the last is %.2f dB below it", drop))
            if gan {
                add("Best PSNR", true, bestDetail + " (PSNR usually falls in the gan phase: the adversarial loss trades it for texture)")
            } else {
                add("Best PSNR", drop <= psnrDropWarning, bestDetail + (drop <= psnrDropWarning ? "" : String(format: ": more than %.1f dB", psnrDropWarning)))
            }
        } else {
            add("Validation PSNR", false, "no validation with a finite PSNR yet")
        }

        let skips = metrics.records("skip")
        let consecutive = skips.compactMap { $0.fields["consecutive"] ?? nil }.max() ?? 0
        add("Skipped steps", skips.isEmpty, skips.isEmpty ? "none" : "\(skips.count) (\(list("step", skips.map(\.step)))), at most \(Int(consecutive)) in a row: a loss or gradient was not finite")
        let checkpointErrors = metrics.records("checkpoint_error")
        add("Checkpoint errors", checkpointErrors.isEmpty, checkpointErrors.isEmpty ? "none" : "\(checkpointErrors.count) (\(list("step", checkpointErrors.map(\.step)))): a checkpoint could not be written")
        let malformed = metrics.malformedLines
        add("Malformed lines", malformed.isEmpty, malformed.isEmpty ? "none" : "\(malformed.count) skipped (\(list("line", malformed))): a crash or a full disk while writing")
        let nulls = metrics.records.filter { $0.kind == "train" || $0.kind == "validation" }.flatMap { record in
            record.fields.filter { $0.value == nil }.map { "\($0.key) at step \(record.step)" }.sorted()
        }
        add("Non-finite values", nulls.isEmpty, nulls.isEmpty ? "none" : "\(nulls.count): \(nulls.prefix(5).joined(separator: ", "))\(nulls.count > 5 ? ", ..." : "")")

        let train = metrics.records("train")
        let losses = train.compactMap { record in (record.fields["content_loss"] ?? nil).map { (record.step, $0) } }
        if losses.count >= 2 {
            let k = edgeCount(losses.count)
            let first = mean(losses.prefix(k).map(\.1)), last = mean(losses.suffix(k).map(\.1))
            add("Content loss", last < first, String(format: "mean of the first 10%% (%d records, steps %d-%d) %.4g, of the last 10%% (steps %d-%d) %.4g: %@ (%+.0f%%)",
                                                      k, losses[0].0, losses[k - 1].0, first, losses[losses.count - k].0, losses[losses.count - 1].0, last,
                                                      last < first ? "falling" : "not falling", first != 0 ? (last / first - 1) * 100 : 0))
        } else {
            add("Content loss", false, "\(losses.count) train record(s) with a finite loss: too few to tell")
        }
        if gan {
            let outputs = train.compactMap { record -> (Double, Double)? in
                guard let hr = record.fields["d_hr"] ?? nil, let sr = record.fields["d_sr"] ?? nil else { return nil }
                return (hr, sr)
            }
            if outputs.isEmpty {
                add("Discriminator", false, "no finite D(HR), D(SR) in the train records")
            } else {
                let k = edgeCount(outputs.count)
                let hr = mean(outputs.suffix(k).map(\.0)), sr = mean(outputs.suffix(k).map(\.1))
                let wins = hr > collapseThreshold && sr < 1 - collapseThreshold
                add("Discriminator", !wins, String(format: "mean D(HR) %.3f, D(SR) %.3f over the last 10%% (%d records)", hr, sr, k)
                    + (wins ? ": discriminator wins (the generator gets almost no adversarial signal)" : ": no collapse"))
            }
        }
        return checks
    }

    /// How many records the first or last 10% holds (at least one).
    static func edgeCount(_ count: Int) -> Int { max(1, Int((Double(count) * edgeFraction).rounded(.up))) }

    private static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }

    /// "step 5" or "steps 5, 10, ..." (at most ten numbers).
    private static func list(_ noun: String, _ numbers: [Int]) -> String {
        noun + (numbers.count == 1 ? " " : "s ") + numbers.prefix(10).map(String.init).joined(separator: ", ") + (numbers.count > 10 ? ", ..." : "")
    }

    // MARK: charts

    /// Every chart the page may show, with its file name; those without data are left out of
    /// the page (and their PNG from an earlier report removed).
    public func charts() -> [(file: String, chart: LineChart)] {
        let colors = LineChart.palette
        func chart(_ title: String, logY: Bool = false, _ kind: String, _ fields: [(String, String)]) -> LineChart {
            var result = LineChart(title: title, logY: logY)
            for (k, (field, name)) in fields.enumerated() {
                let points = metrics.series(kind, field)
                if !points.isEmpty { result.series.append(ChartSeries(name, points: points, color: colors[k % colors.count])) }
            }
            return result
        }
        func lastValue(_ field: String) -> Double? { metrics.records("validation").compactMap { $0.fields[field] ?? nil }.last }
        var loss = chart("Content loss", logY: true, "train", [("content_loss", "content loss")])
        loss.markers = metrics.records("skip").map { Double($0.step) }
        loss.markerName = "skipped step"
        var psnr = chart("Validation PSNR (dB)", "validation", [("psnr", "PSNR"), ("psnr_ema", "PSNR, EMA generator")])
        if let bicubic = lastValue("psnr_bicubic") {
            psnr.references = [ReferenceLine(String(format: "bicubic %.2f dB", bicubic), value: bicubic, color: colors[4])]
        }
        var ssim = chart("Validation SSIM", "validation", [("ssim", "SSIM"), ("ssim_ema", "SSIM, EMA generator")])
        if let bicubic = lastValue("ssim_bicubic") {
            ssim.references = [ReferenceLine(String(format: "bicubic %.4f", bicubic), value: bicubic, color: colors[4])]
        }
        let all: [(String, LineChart)] = [
            ("content-loss.png", loss),
            ("gan-losses.png", chart("Adversarial and discriminator losses", "train",
                                     [("adversarial_loss", "adversarial loss (G)"), ("discriminator_loss", "discriminator loss")])),
            ("discriminator-outputs.png", chart("Discriminator outputs", "train", [("d_hr", "D(HR)"), ("d_sr", "D(SR)")])),
            ("psnr.png", psnr),
            ("ssim.png", ssim),
            ("learning-rate.png", chart("Learning rate", logY: true, "train", [("lr", "generator learning rate")])),
            ("samples-per-second.png", chart("Throughput (samples/s, all ranks)", "train", [("samples_per_s", "samples/s")])),
        ]
        return all.map { (file: $0.0, chart: $0.1) }
    }

    // MARK: page

    /// Writes the chart PNGs and index.html into `outputDirectory` (default RUN_DIR/report) and
    /// returns the path of index.html.
    @discardableResult
    public func write(to outputDirectory: String? = nil) throws -> String {
        let folder = outputDirectory ?? (runDirectory as NSString).appendingPathComponent("report")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError("\(folder): cannot create the report folder", hint: "check the path and its permissions, or choose another with --output")
        }
        var figures: [(String, Data)] = []
        for (file, chart) in charts() {
            let path = (folder as NSString).appendingPathComponent(file)
            guard chart.hasData else {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            try chart.write(to: path)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("\(path): cannot be read back", hint: "check the folder's permissions")
            }
            figures.append((chart.title, data))
        }
        let page = (folder as NSString).appendingPathComponent("index.html")
        do {
            try Data(html(figures: figures).utf8).write(to: URL(fileURLWithPath: page), options: .atomic)
        } catch {
            throw ConfigurationError("\(page): cannot write", hint: "check that the folder is writable and has space")
        }
        return page
    }

    func html(figures: [(String, Data)]) -> String {
        let name = (runDirectory as NSString).lastPathComponent
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>srgan-dist report: \(escape(name))</title>
            <style>
            body { font: 15px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1660px; padding: 0 16px; color: #222; }
            table { border-collapse: collapse; margin: 8px 0 16px; } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
            th { white-space: nowrap; }
            .OK { color: #186a2e; font-weight: bold; } .WARNING { color: #b3261e; font-weight: bold; }
            .charts { display: flex; flex-wrap: wrap; gap: 0 24px; } figure { margin: 10px 0; } img { max-width: 100%; height: auto; } figcaption, .meta { color: #666; font-size: 13px; }
            .samples { display: flex; flex-wrap: wrap; gap: 12px; } pre { background: #f4f4f4; padding: 10px; overflow-x: auto; }
            </style></head><body>
            <h1>Run report: \(escape(name))</h1>
            <p class="meta">\(escape(runDirectory)), \(escape(phase)) phase, \(metrics.records.count) records\(escape(lastRecordTime)); report written \(escape(ISO8601DateFormatter().string(from: Date()))).</p>
            <h2 id="health">Health</h2>
            <table>\n
            """
        for check in checks {
            page += "<tr><td class=\"\(check.status.rawValue)\">\(check.status.rawValue)</td><th>\(escape(check.name))</th><td>\(escape(check.detail))</td></tr>\n"
        }
        page += "</table>\n<h2 id=\"charts\">Charts</h2>\n<div class=\"charts\">\n"
        for (title, data) in figures {
            page += "<figure><img src=\"data:image/png;base64,\(data.base64EncodedString())\" alt=\"\(escape(title))\"></figure>\n"
        }
        page += "</div>\n" + validationSection() + samplesSection() + checkpointsSection()
        page += "<h2 id=\"config\">config.yaml</h2>\n<pre>\(escape(configText ?? "(no config.yaml in the run folder)"))</pre>\n</body></html>\n"
        return page
    }

    /// ", the last written at <ISO date>" from the records' time fields (seconds since 1970), or "".
    private var lastRecordTime: String {
        guard let time = metrics.records.compactMap({ $0.fields["time"] ?? nil }).max() else { return "" }
        return ", the last written " + ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: time))
    }

    private func validationSection() -> String {
        let validations = metrics.records("validation")
        guard !validations.isEmpty else { return "" }
        func cell(_ value: Double??, _ format: String) -> String { (value ?? nil).map { String(format: format, $0) } ?? "-" }
        var text = "<h2 id=\"validations\">Validations</h2>\n<table><tr><th>step</th><th>PSNR</th><th>bicubic</th><th>gain</th><th>SSIM</th><th>bicubic</th><th>PSNR EMA</th><th>SSIM EMA</th></tr>\n"
        for record in validations.reversed() {
            let f = record.fields
            let gain: Double?? = (f["psnr"] ?? nil).flatMap { psnr in (f["psnr_bicubic"] ?? nil).map { psnr - $0 } }
            text += "<tr><td>\(record.step)</td><td>\(cell(f["psnr"], "%.2f"))</td><td>\(cell(f["psnr_bicubic"], "%.2f"))</td><td>\(cell(gain, "%+.2f"))</td>"
                + "<td>\(cell(f["ssim"], "%.4f"))</td><td>\(cell(f["ssim_bicubic"], "%.4f"))</td><td>\(cell(f["psnr_ema"], "%.2f"))</td><td>\(cell(f["ssim_ema"], "%.4f"))</td></tr>\n"
        }
        return text + "</table>\n"
    }

    /// The SR samples of the latest step under RUN_DIR/samples, embedded, and the list of steps.
    private func samplesSection() -> String {
        let root = (runDirectory as NSString).appendingPathComponent("samples")
        let steps = Self.stepFolders(root)
        guard let (latestStep, latest) = steps.last else { return "<h2 id=\"samples\">Validation samples</h2>\n<p>none saved yet</p>\n" }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: latest)) ?? []).filter { $0.hasSuffix(".png") }.sorted()
        var text = "<h2 id=\"samples\">Validation samples, step \(latestStep)</h2>\n<p class=\"meta\">SR images saved at steps \(steps.map { String($0.0) }.joined(separator: ", ")); \(escape(latest))</p>\n<div class=\"samples\">\n"
        for file in files.prefix(Self.maxSamples) {
            guard let data = FileManager.default.contents(atPath: (latest as NSString).appendingPathComponent(file)),
                  data.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { continue }
            text += "<figure><img src=\"data:image/png;base64,\(data.base64EncodedString())\" alt=\"\(escape(file))\"><figcaption>\(escape(file))</figcaption></figure>\n"
        }
        if files.count > Self.maxSamples { text += "<p>\(files.count - Self.maxSamples) more in the folder</p>\n" }
        return text + "</div>\n"
    }

    private func checkpointsSection() -> String {
        let root = (runDirectory as NSString).appendingPathComponent(Checkpoint.folderName)
        let folders = Self.stepFolders(root)
        guard !folders.isEmpty else { return "<h2 id=\"checkpoints\">Checkpoints</h2>\n<p>none</p>\n" }
        var text = "<h2 id=\"checkpoints\">Checkpoints</h2>\n<table><tr><th>step</th><th>reason</th><th>validation PSNR</th><th>folder</th></tr>\n"
        for (step, folder) in folders.reversed() {
            let state = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent("state.json"))
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            let complete = FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(Checkpoint.completionMarker))
            let reason = state?["reason"] as? String ?? "(no readable state.json)"
            let psnr = (state?["validation_psnr"] as? NSNumber).map { String(format: "%.2f dB", $0.doubleValue) } ?? "-"
            text += "<tr><td>\((state?["step"] as? Int) ?? step)</td><td>\(escape(reason))\(complete ? "" : " (incomplete)")</td><td>\(psnr)</td><td>\(escape((folder as NSString).lastPathComponent))</td></tr>\n"
        }
        return text + "</table>\n"
    }

    /// Sub-folders named step-<digits>, by step.
    static func stepFolders(_ root: String) -> [(Int, String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)) else { return nil }
            return (step, (root as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }
}

/// Text made safe for HTML element content and attribute values.
private func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

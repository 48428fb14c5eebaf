// The run report on a run folder written by hand: health numbers worked out below, charts
// embedded as PNG data: URIs and written beside the page, everything escaped.

import Foundation
import SRData
import SRTrain
import XCTest

final class ReportTests: XCTestCase {
    var run = ""

    override func setUpWithError() throws {
        run = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-report-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: run) }

    /// A gan run of 100 steps: 20 train records (steps 5, 10, ..., 100) whose content loss falls
    /// from 1.0 by 0.04 a record (null at step 50), the discriminator winning over the last two,
    /// a skip at step 55, validations at 30, 60, 100, and two malformed lines (4 and 26).
    func writeRun() throws {
        var lines: [String] = []
        for k in 0..<20 {
            let step = 5 * (k + 1)
            let loss = step == 50 ? "null" : String(1.0 - 0.04 * Double(k))
            let (hr, sr) = k >= 18 ? (0.995, 0.004) : (0.6, 0.4)
            lines.append("{\"kind\": \"train\", \"step\": \(step), \"time\": \(1000 + step), \"content_loss\": \(loss), \"lr\": 0.0001, "
                         + "\"samples_per_s\": \(50 + k % 3), \"adversarial_loss\": 0.7, \"discriminator_loss\": 1.3, \"d_hr\": \(hr), \"d_sr\": \(sr)}")
            if step == 30 || step == 60 || step == 100 {
                let psnr = [30: 25.0, 60: 27.25, 100: 26.5][step]!
                lines.append("{\"kind\": \"validation\", \"step\": \(step), \"time\": \(1001 + step), \"psnr\": \(psnr), \"ssim\": 0.8, "
                             + "\"psnr_bicubic\": 24.0, \"ssim_bicubic\": 0.75}")
            }
            if step == 55 { lines.append("{\"kind\": \"skip\", \"step\": 55, \"time\": 1056, \"rank\": 1, \"consecutive\": 1}") }
        }
        lines.insert("{\"kind\": \"train\", \"step\": 6, \"content_lo", at: 3)   // line 4
        lines.insert("not json at all", at: 25)                                   // line 26
        try (lines.joined(separator: "\n") + "\n").write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        try "preset: tiny\nphase: gan\nsteps: 100\nrun: /tmp/</pre><script>alert('x')</script>\n"
            .write(toFile: run + "/config.yaml", atomically: true, encoding: .utf8)
        for (step, name) in [(60, "early.png"), (100, "latest.png")] {
            let folder = run + String(format: "/samples/step-%07d", step)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try PNG.write(RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: UInt8(step), count: 48)), to: folder + "/" + name)
        }
        let checkpoint = run + "/checkpoints/step-00000100"
        try FileManager.default.createDirectory(atPath: checkpoint, withIntermediateDirectories: true)
        try "{\"step\": 100, \"reason\": \"end\", \"validation_psnr\": 26.5}".write(toFile: checkpoint + "/state.json", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: checkpoint + "/COMPLETE", contents: Data())
    }

    func testReportOnAHandWrittenRun() throws {
        try writeRun()
        let report = try RunReport(runDirectory: run)
        XCTAssertEqual(report.metrics.malformedLines, [4, 26])
        XCTAssertEqual(report.totalSteps, 100)
        XCTAssertEqual(report.phase, "gan")
        var checks: [String: HealthCheck] = [:]
        for check in report.checks { checks[check.name] = check }

        XCTAssertEqual(checks["Steps"]?.status, .ok)
        XCTAssertEqual(checks["Steps"]?.detail, "100 / 100 steps, finished")
        // Last validation 26.5 against bicubic 24.0; best 27.25 at step 60.
        XCTAssertEqual(checks["Validation PSNR"]?.status, .ok)
        XCTAssertTrue(checks["Validation PSNR"]!.detail.contains("gain +2.50 dB"), checks["Validation PSNR"]!.detail)
        XCTAssertTrue(checks["Best PSNR"]!.detail.contains("best 27.25 dB at step 60; the last is 0.75 dB below it"), checks["Best PSNR"]!.detail)
        XCTAssertEqual(checks["Skipped steps"]?.status, .warning)
        XCTAssertTrue(checks["Skipped steps"]!.detail.hasPrefix("1 (step 55), at most 1 in a row"), checks["Skipped steps"]!.detail)
        XCTAssertEqual(checks["Checkpoint errors"]?.status, .ok)
        XCTAssertEqual(checks["Malformed lines"]?.status, .warning)
        XCTAssertTrue(checks["Malformed lines"]!.detail.hasPrefix("2 skipped (lines 4, 26)"), checks["Malformed lines"]!.detail)
        XCTAssertEqual(checks["Non-finite values"]?.status, .warning)
        XCTAssertTrue(checks["Non-finite values"]!.detail.contains("content_loss at step 50"))
        // 19 finite losses: 10% is 2 records. First: steps 5, 10 (1.0, 0.96) -> 0.98;
        // last: steps 95, 100 (0.28, 0.24) -> 0.26.
        XCTAssertEqual(checks["Content loss"]?.status, .ok)
        XCTAssertTrue(checks["Content loss"]!.detail.contains("(2 records, steps 5-10) 0.98, of the last 10% (steps 95-100) 0.26: falling (-73%)"),
                      checks["Content loss"]!.detail)
        // Last 2 of 20 records: D(HR) 0.995 > 0.99, D(SR) 0.004 < 0.01.
        XCTAssertEqual(checks["Discriminator"]?.status, .warning)
        XCTAssertTrue(checks["Discriminator"]!.detail.contains("mean D(HR) 0.995, D(SR) 0.004"), checks["Discriminator"]!.detail)
        XCTAssertTrue(checks["Discriminator"]!.detail.contains("discriminator wins"))

        let page = try report.write()
        XCTAssertEqual(page, run + "/report/index.html")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Every data: URI decodes to a PNG: 7 charts and the one sample of the latest step.
        let uris = try NSRegularExpression(pattern: "data:image/png;base64,([A-Za-z0-9+/=]+)\"")
            .matches(in: html, range: NSRange(html.startIndex..., in: html))
            .map { String(html[Range($0.range(at: 1), in: html)!]) }
        XCTAssertEqual(uris.count, 8)
        for uri in uris {
            let data = try XCTUnwrap(Data(base64Encoded: uri))
            XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        }
        let charts = ["content-loss", "gan-losses", "discriminator-outputs", "psnr", "ssim", "learning-rate", "samples-per-second"]
        for name in charts {
            let (image, _) = try PNG.read(run + "/report/\(name).png")
            XCTAssertEqual(image.width, 800, name)
        }
        // The summary numbers, the samples of the latest step, the checkpoint, and nothing unescaped.
        for expected in ["gain +2.50 dB", "best 27.25 dB at step 60", "2 skipped (lines 4, 26)", "discriminator wins",
                         "alt=\"latest.png\"", "saved at steps 60, 100", "<td>end</td><td>26.50 dB</td>",
                         "/tmp/&lt;/pre&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"] {
            XCTAssertTrue(html.contains(expected), expected)
        }
        XCTAssertFalse(html.contains("early.png"))
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.contains("src=\"http"), "the page must not load anything")
    }

    func testSRResNetRunHasNoGANCharts() throws {
        let lines = (1...10).map { "{\"kind\": \"train\", \"step\": \($0), \"content_loss\": \(1.0 / Double($0)), \"lr\": 0.001, \"samples_per_s\": 40}" }
        try lines.joined(separator: "\n").write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let report = try RunReport(runDirectory: run)
        XCTAssertEqual(report.phase, "srresnet")
        XCTAssertNil(report.checks.first { $0.name == "Discriminator" })
        XCTAssertEqual(report.checks.first { $0.name == "Steps" }?.status, .warning, "no config.yaml: the total is unknown")
        XCTAssertEqual(report.checks.first { $0.name == "Validation PSNR" }?.status, .warning)
        try report.write(to: run + "/elsewhere")
        let files = try FileManager.default.contentsOfDirectory(atPath: run + "/elsewhere").sorted()
        XCTAssertEqual(files, ["content-loss.png", "index.html", "learning-rate.png", "samples-per-second.png"])
    }

    func testMissingOrEmptyMetricsAreOneClearError() throws {
        func message(_ folder: String) -> String {
            do {
                _ = try RunReport(runDirectory: folder)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message(run + "/absent"), "\(run)/absent: no such folder. HINT: give the run folder that 'srgan-dist train --run' wrote")
        XCTAssertTrue(message(run).hasPrefix("\(run)/metrics.jsonl: not found. HINT: "), message(run))
        try "{\"kind\": \"tra\n\n".write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        XCTAssertTrue(message(run).hasPrefix("\(run)/metrics.jsonl: no records (1 malformed line). HINT: "), message(run))
    }

    func testChartBreaksTheLineWhereAValueIsMissing() {
        let color = RGBColor(1, 2, 250)
        func runs(_ middle: Double?) -> Int {
            var chart = LineChart(title: "gap")
            chart.series = [ChartSeries("s", points: [(0, 1), (1, middle), (2, 1)], color: color)]
            let image = chart.render()
            // Columns below the legend holding the series' exact colour, grouped into runs.
            var columns = Set<Int>()
            for y in 80..<image.height {
                for x in 0..<image.width {
                    let i = (y * image.width + x) * 3
                    if image.pixels[i] == 1 && image.pixels[i + 1] == 2 && image.pixels[i + 2] == 250 { columns.insert(x) }
                }
            }
            let sorted = columns.sorted()
            return sorted.indices.filter { $0 == 0 || sorted[$0] != sorted[$0 - 1] + 1 }.count
        }
        XCTAssertEqual(runs(1), 1, "an unbroken line")
        XCTAssertEqual(runs(nil), 2, "two dots with a gap between them")
        XCTAssertEqual(runs(.nan), 2, "a non-finite value is a gap too")
        XCTAssertFalse(LineChart(title: "empty").hasData)
    }
}

// Line charts of training metrics as PNG images, drawn on SRData's Canvas: named series of
// (step, value) points with gaps where a value is missing or not finite, an optional log-scale
// y axis, tick labels, a legend, a title, dashed horizontal reference lines (bicubic PSNR) and
// vertical markers (skipped steps).

import Foundation
import SRData

public struct ChartSeries {
    public var name: String
    /// (x, y) in drawing order; a nil or non-finite y (or y <= 0 on a log axis) breaks the line.
    public var points: [(x: Double, y: Double?)]
    public var color: RGBColor

    public init(_ name: String, points: [(x: Double, y: Double?)], color: RGBColor) {
        self.name = name
        self.points = points
        self.color = color
    }
}

/// A dashed horizontal line across the plot at `value`, named in the legend.
public struct ReferenceLine {
    public var name: String
    public var value: Double
    public var color: RGBColor

    public init(_ name: String, value: Double, color: RGBColor) {
        self.name = name
        self.value = value
        self.color = color
    }
}

public struct LineChart {
    public static let palette = [RGBColor(34, 96, 196), RGBColor(226, 112, 18), RGBColor(36, 150, 68),
                                 RGBColor(176, 48, 160), RGBColor(110, 110, 110)]

    public var title: String
    public var xLabel = "step"
    public var logY = false
    public var series: [ChartSeries] = []
    public var references: [ReferenceLine] = []
    /// x positions of thin vertical lines across the plot, named `markerName` in the legend.
    public var markers: [Double] = []
    public var markerName = ""
    public var markerColor = RGBColor(230, 80, 80)
    public var width = 800
    public var height = 400

    public init(title: String, logY: Bool = false) {
        self.title = title
        self.logY = logY
    }

    /// Whether any series has a point that can be drawn.
    public var hasData: Bool { series.contains { $0.points.contains { usable($0.y) != nil } } }

    public func write(to path: String) throws { try PNG.write(render(), to: path) }

    public func render() -> RGBImage {
        let ink = RGBColor(40, 40, 40), grid = RGBColor(228, 228, 228), frame = RGBColor(150, 150, 150)
        var canvas = Canvas(width: width, height: height, background: .white)
        canvas.text(title, x: 12, y: 10, color: ink, scale: 2)
        let legendBottom = drawLegend(on: &canvas, top: 36)

        // Ranges: x over every point, y over every drawable value and reference line.
        let xs = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite) + markers.filter(\.isFinite)
        let ys = series.flatMap { $0.points.compactMap { usable($0.y) } } + references.compactMap { usable($0.value) }
        let (xLow, xHigh) = Self.padded(xs.min() ?? 0, xs.max() ?? 1, fraction: 0, minimumHalfSpan: 1)
        let transformed = ys.map(scaled)
        let (yLow, yHigh) = Self.padded(transformed.min() ?? 0, transformed.max() ?? 1, fraction: 0.06,
                                        minimumHalfSpan: logY ? 0.31 : (transformed.first ?? 0) == 0 ? 1 : abs(transformed[0]) * 0.1)
        guard xLow.isFinite, xHigh.isFinite, xHigh > xLow, yLow.isFinite, yHigh.isFinite, yHigh > yLow else { return canvas.image }
        let yTicks = logY ? Self.logTicks(yLow, yHigh) : Self.linearTicks(yLow, yHigh).map { ($0, Self.label($0, spacing: Self.spacing(yLow, yHigh))) }
        let xSpacing = Self.spacing(xLow, xHigh)
        let xTicks = Self.linearTicks(xLow, xHigh).map { ($0, Self.label($0, spacing: xSpacing)) }

        let labelWidth = yTicks.map { canvas.textWidth($0.1) }.max() ?? 0
        let left = labelWidth + 18, right = width - 20, top = legendBottom + 10, bottom = height - 40
        guard right - left > 20, bottom - top > 20 else { return canvas.image }
        func px(_ x: Double) -> Double { Double(left) + (x - xLow) / (xHigh - xLow) * Double(right - left) }
        func py(_ y: Double) -> Double { Double(bottom) - (scaled(y) - yLow) / (yHigh - yLow) * Double(bottom - top) }

        // Grid, ticks and labels.
        for (value, text) in yTicks {
            let y = Double(bottom) - (value - yLow) / (yHigh - yLow) * Double(bottom - top)
            canvas.line(x0: Double(left), y0: y.rounded(), x1: Double(right), y1: y.rounded(), color: grid)
            canvas.text(text, x: left - 8 - canvas.textWidth(text), y: Int(y.rounded()) - 3, color: ink)
        }
        for (value, text) in xTicks {
            let x = px(value).rounded()
            canvas.line(x0: x, y0: Double(top), x1: x, y1: Double(bottom), color: grid)
            canvas.line(x0: x, y0: Double(bottom), x1: x, y1: Double(bottom + 4), color: frame)
            canvas.text(text, x: Int(x) - canvas.textWidth(text) / 2, y: bottom + 8, color: ink)
        }
        canvas.text(xLabel, x: (left + right - canvas.textWidth(xLabel)) / 2, y: bottom + 24, color: ink)
        for (x0, y0, x1, y1) in [(left, top, right, top), (left, bottom, right, bottom), (left, top, left, bottom), (right, top, right, bottom)] {
            canvas.line(x0: Double(x0), y0: Double(y0), x1: Double(x1), y1: Double(y1), color: frame)
        }
        guard hasData else {
            let text = "no data"
            canvas.text(text, x: (left + right - canvas.textWidth(text, scale: 2)) / 2, y: (top + bottom) / 2 - 9, color: frame, scale: 2)
            return canvas.image
        }

        for x in markers where x.isFinite {
            canvas.line(x0: px(x), y0: Double(top + 1), x1: px(x), y1: Double(bottom - 1), color: markerColor)
        }
        for reference in references {
            guard usable(reference.value) != nil else { continue }
            let y = py(reference.value)
            Self.dashed(&canvas, from: Double(left + 1), to: Double(right - 1), y: y, color: reference.color)
        }
        for one in series {
            let drawable = one.points.filter { usable($0.y) != nil }.count
            var previous: (Double, Double)?
            for (k, point) in one.points.enumerated() {
                guard let value = usable(point.y), point.x.isFinite else { previous = nil; continue }
                let here = (px(point.x), py(value))
                if let previous {
                    canvas.line(x0: previous.0, y0: previous.1, x1: here.0, y1: here.1, color: one.color, width: 2)
                }
                let nextUsable = k + 1 < one.points.count && usable(one.points[k + 1].y) != nil
                // Few points, or one standing alone between gaps: a dot shows where it is.
                if drawable <= 40 || (previous == nil && !nextUsable) {
                    canvas.line(x0: here.0, y0: here.1, x1: here.0, y1: here.1, color: one.color, width: 6)
                }
                previous = here
            }
        }
        return canvas.image
    }

    /// The value as it can be drawn: nil when missing, not finite, or not positive on a log axis.
    private func usable(_ value: Double?) -> Double? {
        guard let value, value.isFinite, !logY || value > 0 else { return nil }
        return value
    }

    private func scaled(_ value: Double) -> Double { logY ? log10(value) : value }

    /// One row (or more when it is full) of swatches and names; returns the y below the legend.
    private func drawLegend(on canvas: inout Canvas, top: Int) -> Int {
        var entries: [(String, RGBColor, Int)] = series.map { ($0.name, $0.color, 0) }
        entries += references.map { ($0.name, $0.color, 1) }
        if !markers.isEmpty && !markerName.isEmpty { entries.append((markerName, markerColor, 2)) }
        var x = 12, y = top
        for (name, color, style) in entries {
            let needed = 22 + canvas.textWidth(name)
            if x > 12 && x + needed > width - 12 { x = 12; y += 16 }
            let middle = Double(y + 3)
            switch style {
            case 0: canvas.line(x0: Double(x), y0: middle, x1: Double(x + 16), y1: middle, color: color, width: 2)
            case 1: Self.dashed(&canvas, from: Double(x), to: Double(x + 16), y: middle, color: color)
            default: canvas.line(x0: Double(x + 8), y0: middle - 5, x1: Double(x + 8), y1: middle + 5, color: color)
            }
            canvas.text(name, x: x + 22, y: y, color: RGBColor(40, 40, 40))
            x += needed + 18
        }
        return entries.isEmpty ? top : y + BitmapFont.cellHeight + 2
    }

    private static func dashed(_ canvas: inout Canvas, from x0: Double, to x1: Double, y: Double, color: RGBColor) {
        var x = x0
        while x < x1 {
            canvas.line(x0: x, y0: y, x1: min(x + 7, x1), y1: y, color: color, width: 2)
            x += 12
        }
    }

    /// [low, high] widened by `fraction` of its span on each side, and to at least
    /// +-minimumHalfSpan around its middle when it is (nearly) a single value.
    static func padded(_ low: Double, _ high: Double, fraction: Double, minimumHalfSpan: Double) -> (Double, Double) {
        if high - low < minimumHalfSpan * 1e-6 {
            let middle = (low + high) / 2
            return (middle - minimumHalfSpan, middle + minimumHalfSpan)
        }
        let pad = (high - low) * fraction
        return (low - pad, high + pad)
    }

    /// The distance between ticks: 1, 2 or 5 times a power of ten, about six ticks over the range.
    static func spacing(_ low: Double, _ high: Double) -> Double {
        let raw = (high - low) / 6
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / magnitude
        return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude
    }

    static func linearTicks(_ low: Double, _ high: Double) -> [Double] {
        let step = spacing(low, high)
        guard step.isFinite, step > 0 else { return [] }
        var ticks: [Double] = []
        var k = (low / step).rounded(.up)
        while k * step <= high + step * 1e-9 && ticks.count < 50 {
            ticks.append(abs(k * step) < step * 1e-9 ? 0 : k * step)
            k += 1
        }
        return ticks
    }

    /// Ticks of a log axis given in log10 units: (position, label). Whole decades when the range
    /// spans three or more, else 1-2-5 (or 1...9) times a power of ten, else linear ticks.
    static func logTicks(_ low: Double, _ high: Double) -> [(Double, String)] {
        if high - low >= 3 {
            let every = max(1, Int(((high - low) / 6).rounded(.up)))
            let first = Int(low.rounded(.up)), last = Int(high.rounded(.down))
            return stride(from: first, through: last, by: every).map { (Double($0), label(pow(10, Double($0)))) }
        }
        for mantissas in [[1.0, 2, 5], [1.0, 2, 3, 4, 5, 6, 7, 8, 9]] {
            var ticks: [(Double, String)] = []
            for exponent in Int(low.rounded(.down))...Int(high.rounded(.up)) {
                for m in mantissas {
                    let value = m * pow(10, Double(exponent))
                    if log10(value) >= low - 1e-9 && log10(value) <= high + 1e-9 { ticks.append((log10(value), label(value))) }
                }
            }
            if ticks.count >= 3 { return ticks }
        }
        let values = (pow(10, low), pow(10, high)), step = spacing(values.0, values.1)
        return linearTicks(values.0, values.1).filter { $0 > 0 }.map { (log10($0), label($0, spacing: step)) }
    }

    /// A tick label: as many decimals as the tick spacing needs, or %g for very large or small values.
    static func label(_ value: Double, spacing: Double? = nil) -> String {
        if let spacing, spacing >= 1e-4, abs(value) < 1e7 {
            let decimals = max(0, Int((-log10(spacing)).rounded(.up)))
            return String(format: "%.\(decimals)f", value)
        }
        return String(format: "%g", value).replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e")
            .replacingOccurrences(of: "e+", with: "e")
    }
}

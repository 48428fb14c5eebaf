// The bitmap font and the canvas: glyphs, text width, lines, scaled images, PNG round trip.

import Foundation
import SRData
import XCTest

final class DrawingTests: XCTestCase {
    let printable = (32...126).map { Unicode.Scalar(UInt8($0)) }

    func testEveryPrintableGlyphHasInkExceptSpaceAndIsDistinct() {
        var seen: [[UInt8]: Unicode.Scalar] = [:]
        for scalar in printable {
            let rows = BitmapFont.rows(of: scalar)
            XCTAssertEqual(rows.count, BitmapFont.cellHeight)
            // Nothing outside the 5 glyph columns.
            XCTAssertTrue(rows.allSatisfy { $0 < (1 << BitmapFont.glyphWidth) }, "\(scalar)")
            if scalar == " " {
                XCTAssertTrue(rows.allSatisfy { $0 == 0 }, "space has ink")
                continue
            }
            XCTAssertTrue(rows.contains { $0 != 0 }, "'\(scalar)' is empty")
            if let other = seen[rows] { XCTFail("'\(scalar)' looks like '\(other)'") }
            seen[rows] = scalar
        }
        XCTAssertEqual(seen.count, 94)
        // Outside printable ASCII: the '?' glyph.
        XCTAssertEqual(BitmapFont.rows(of: "é"), BitmapFont.rows(of: "?"))
        XCTAssertEqual(BitmapFont.rows(of: "\n"), BitmapFont.rows(of: "?"))
    }

    func testTextWidthArithmetic() {
        XCTAssertEqual(BitmapFont.width(of: "", scale: 3), 0)
        XCTAssertEqual(BitmapFont.width(of: "A"), 5)
        XCTAssertEqual(BitmapFont.width(of: "AB"), 11)
        XCTAssertEqual(BitmapFont.width(of: "step 1200", scale: 2), (9 * 6 - 1) * 2)
        let canvas = Canvas(width: 4, height: 4)
        XCTAssertEqual(canvas.textWidth("PSNR", scale: 3), BitmapFont.width(of: "PSNR", scale: 3))
    }

    func testTextLandsInsideItsBoxAndMatchesTheGlyphs() {
        let text = "Ag|0", scale = 2, x = 3, y = 4
        var canvas = Canvas(width: 60, height: 30, background: .white)
        canvas.text(text, x: x, y: y, color: .black, scale: scale)
        let boxWidth = canvas.textWidth(text, scale: scale), boxHeight = BitmapFont.cellHeight * scale
        for row in 0..<canvas.height {
            for column in 0..<canvas.width {
                let inside = column >= x && column < x + boxWidth && row >= y && row < y + boxHeight
                var expected = false
                if inside {
                    let k = (column - x) / scale / BitmapFont.cellWidth
                    let glyphColumn = (column - x) / scale % BitmapFont.cellWidth
                    expected = BitmapFont.isInk(Array(text.unicodeScalars)[k], column: glyphColumn, row: (row - y) / scale)
                }
                XCTAssertEqual(canvas.color(x: column, y: row), expected ? .black : .white, "(\(column), \(row))")
            }
        }
        // The descender of g reaches below the baseline (row 7 of the cell).
        XCTAssertTrue(BitmapFont.isInk("g", column: 1, row: 8))
    }

    func testLineTouchesBothEndsAndStaysNearTheSegment() {
        let red = RGBColor(255, 0, 0)
        for (x0, y0, x1, y1) in [(2, 3, 37, 21), (30, 5, 4, 25), (10, 10, 10, 28), (1, 15, 38, 15), (20, 20, 20, 20)] {
            var canvas = Canvas(width: 40, height: 30, background: .white)
            canvas.line(x0: Double(x0), y0: Double(y0), x1: Double(x1), y1: Double(y1), color: red)
            XCTAssertEqual(canvas.color(x: x0, y: y0), red, "start of \((x0, y0, x1, y1))")
            XCTAssertEqual(canvas.color(x: x1, y: y1), red, "end of \((x0, y0, x1, y1))")
            // Every touched pixel lies within 1.5 pixels of the segment; the segment is unbroken
            // (every pixel on it at integer steps is at least half covered).
            let dx = Double(x1 - x0), dy = Double(y1 - y0), length2 = max(dx * dx + dy * dy, 1e-12)
            for row in 0..<30 {
                for column in 0..<40 where canvas.color(x: column, y: row) != .white {
                    let t = min(max((Double(column - x0) * dx + Double(row - y0) * dy) / length2, 0), 1)
                    let ex = Double(column - x0) - t * dx, ey = Double(row - y0) - t * dy
                    XCTAssertLessThanOrEqual((ex * ex + ey * ey).squareRoot(), 1.5)
                }
            }
            let steps = max(abs(x1 - x0), abs(y1 - y0))
            for s in 0...steps {
                let t = steps == 0 ? 0 : Double(s) / Double(steps)
                let column = Int((Double(x0) + t * dx).rounded()), row = Int((Double(y0) + t * dy).rounded())
                XCTAssertLessThanOrEqual(canvas.color(x: column, y: row).green, 128, "gap at (\(column), \(row))")
            }
        }
        // Off the canvas and non-finite: clipped or ignored, never a crash.
        var canvas = Canvas(width: 10, height: 10)
        canvas.line(x0: -1e9, y0: 5, x1: 1e9, y1: 5, color: red, width: 3)
        canvas.line(x0: .nan, y0: 0, x1: 5, y1: .infinity, color: red)
        XCTAssertEqual(canvas.color(x: 5, y: 5), red)
    }

    func testFillClipsToTheCanvas() {
        var canvas = Canvas(width: 8, height: 6, background: RGBColor(1, 2, 3))
        canvas.fill(x: -3, y: 4, width: 5, height: 10, color: .black)
        for row in 0..<6 {
            for column in 0..<8 {
                XCTAssertEqual(canvas.color(x: column, y: row), column < 2 && row >= 4 ? .black : RGBColor(1, 2, 3))
            }
        }
    }

    func testDrawScaledImageLandsWhereExpected() {
        // A 3 x 2 source of distinct pixels, drawn 2x wider and 3x taller at (1, 2).
        var source = RGBImage(width: 3, height: 2)
        for p in 0..<6 { source.pixels[p * 3] = UInt8(10 * (p + 1)); source.pixels[p * 3 + 1] = UInt8(p); source.pixels[p * 3 + 2] = 200 }
        var canvas = Canvas(width: 10, height: 10, background: .white)
        canvas.draw(source, x: 1, y: 2, width: 6, height: 6)
        for row in 0..<10 {
            for column in 0..<10 {
                let i = column - 1, j = row - 2
                let expected: RGBColor
                if (0..<6).contains(i) && (0..<6).contains(j) {
                    let p = (j / 3) * 3 + i / 2
                    expected = RGBColor(UInt8(10 * (p + 1)), UInt8(p), 200)
                } else {
                    expected = .white
                }
                XCTAssertEqual(canvas.color(x: column, y: row), expected, "(\(column), \(row))")
            }
        }
        // Partly outside: the visible part only, no crash. Canvas (9, 1) is (1, 5) of that
        // rectangle: source row 5 * 2 / 6 = 1, column 1 * 3 / 6 = 0, pixel 3.
        canvas.draw(source, x: 8, y: -4, width: 6, height: 6)
        XCTAssertEqual(canvas.color(x: 9, y: 1), RGBColor(40, 3, 200))
        XCTAssertEqual(canvas.color(x: 7, y: 1), .white, "left of the rectangle: unchanged")
        canvas.draw(source, x: 20, y: 20, width: 6, height: 6)
    }

    func testPNGWrittenFromACanvasReadsBackEqual() throws {
        let directory = try makeTemporaryDirectory("drawing")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var canvas = Canvas(width: 64, height: 32, background: RGBColor(250, 248, 240))
        canvas.fill(x: 2, y: 2, width: 10, height: 10, color: RGBColor(30, 90, 200))
        canvas.line(x0: 0, y0: 31, x1: 63, y1: 0, color: RGBColor(200, 40, 40), width: 2.5)
        canvas.text("x4 +0.52 dB", x: 14, y: 12, color: .black)
        let path = directory + "/canvas.png"
        try PNG.write(canvas.image, to: path)
        let (read, header) = try PNG.read(path)
        XCTAssertEqual(header.width, 64)
        XCTAssertEqual(read, canvas.image)
    }
}

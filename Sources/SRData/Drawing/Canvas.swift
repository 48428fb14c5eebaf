// An RGB8 canvas over RGBImage for generated pictures (charts, labelled image panels): filled
// rectangles, anti-aliased lines, BitmapFont text, and images scaled by nearest neighbour.
// Coordinates are pixels, x to the right and y down from the top-left corner; whatever falls
// outside the canvas is clipped, never an error.

public struct RGBColor: Equatable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let black = RGBColor(0, 0, 0)
    public static let white = RGBColor(255, 255, 255)
}

public struct Canvas {
    public private(set) var image: RGBImage
    public var width: Int { image.width }
    public var height: Int { image.height }

    public init(width: Int, height: Int, background: RGBColor = .white) {
        precondition(width > 0 && height > 0, "a canvas of \(width)x\(height) pixels")
        let pixel = [background.red, background.green, background.blue]
        image = RGBImage(width: width, height: height,
                         pixels: Array([[UInt8]](repeating: pixel, count: width * height).joined()))
    }

    /// The colour at (x, y), which must lie on the canvas.
    public func color(x: Int, y: Int) -> RGBColor {
        let i = (y * width + x) * 3
        return RGBColor(image.pixels[i], image.pixels[i + 1], image.pixels[i + 2])
    }

    /// Fills the rectangle with top-left corner (x, y).
    public mutating func fill(x: Int, y: Int, width: Int, height: Int, color: RGBColor) {
        let x0 = max(x, 0), x1 = min(x + width, self.width)
        let y0 = max(y, 0), y1 = min(y + height, self.height)
        guard x0 < x1, y0 < y1 else { return }
        let canvasWidth = self.width
        image.pixels.withUnsafeMutableBufferPointer { pixels in
            for row in y0..<y1 {
                for column in x0..<x1 {
                    let i = (row * canvasWidth + column) * 3
                    pixels[i] = color.red
                    pixels[i + 1] = color.green
                    pixels[i + 2] = color.blue
                }
            }
        }
    }

    /// A line `width` pixels wide with round ends from (x0, y0) to (x1, y1), where (i, j) is the
    /// centre of pixel i, j; edges are anti-aliased (blended by the pixel's coverage).
    public mutating func line(x0: Double, y0: Double, x1: Double, y1: Double, color: RGBColor, width: Double = 1) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite, width.isFinite else { return }
        let half = max(width, 0.5) / 2
        let dx = x1 - x0, dy = y1 - y0, lengthSquared = dx * dx + dy * dy
        // The bounding box, clamped to the canvas before it becomes integers.
        func clamped(_ value: Double, _ limit: Int) -> Int { Int(min(max(value, -1), Double(limit))) }
        let left = max(clamped((min(x0, x1) - half - 1).rounded(.down), self.width), 0)
        let right = min(clamped((max(x0, x1) + half + 1).rounded(.up), self.width), self.width - 1)
        let top = max(clamped((min(y0, y1) - half - 1).rounded(.down), self.height), 0)
        let bottom = min(clamped((max(y0, y1) + half + 1).rounded(.up), self.height), self.height - 1)
        guard left <= right, top <= bottom else { return }
        for row in top...bottom {
            for column in left...right {
                // Distance from the pixel centre to the segment.
                let px = Double(column) - x0, py = Double(row) - y0
                let t = lengthSquared > 0 ? min(max((px * dx + py * dy) / lengthSquared, 0), 1) : 0
                let ex = px - t * dx, ey = py - t * dy
                let coverage = min(max(half + 0.5 - (ex * ex + ey * ey).squareRoot(), 0), 1)
                if coverage > 0 { blend(x: column, y: row, color: color, alpha: coverage) }
            }
        }
    }

    /// Draws `text` with BitmapFont, the top-left corner of its first cell at (x, y), each font
    /// pixel a `scale` x `scale` square. The text takes `textWidth(text, scale)` by
    /// `BitmapFont.cellHeight * scale` pixels (descenders included).
    public mutating func text(_ text: String, x: Int, y: Int, color: RGBColor, scale: Int = 1) {
        precondition(scale >= 1, "text scale \(scale)")
        for (k, scalar) in text.unicodeScalars.enumerated() {
            let cellX = x + k * BitmapFont.cellWidth * scale
            let rows = BitmapFont.rows(of: scalar)
            for (row, bits) in rows.enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - column)) != 0 {
                    fill(x: cellX + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
                }
            }
        }
    }

    /// Width in pixels of `text` drawn at `scale` (see BitmapFont.width).
    public func textWidth(_ text: String, scale: Int = 1) -> Int { BitmapFont.width(of: text, scale: scale) }

    /// Draws `source` scaled by nearest neighbour into the width x height rectangle at (x, y):
    /// target pixel (i, j) of the rectangle takes source pixel (i * source.width / width,
    /// j * source.height / height).
    public mutating func draw(_ source: RGBImage, x: Int, y: Int, width: Int, height: Int) {
        let rows = max(0, -y)..<max(min(height, self.height - y), 0)
        let columns = max(0, -x)..<max(min(width, self.width - x), 0)
        guard !rows.isEmpty, !columns.isEmpty, source.width > 0, source.height > 0 else { return }
        let canvasWidth = self.width
        image.pixels.withUnsafeMutableBufferPointer { target in
            source.pixels.withUnsafeBufferPointer { from in
                for j in rows {
                    let sourceRow = j * source.height / height
                    for i in columns {
                        let s = (sourceRow * source.width + i * source.width / width) * 3
                        let t = ((y + j) * canvasWidth + x + i) * 3
                        target[t] = from[s]
                        target[t + 1] = from[s + 1]
                        target[t + 2] = from[s + 2]
                    }
                }
            }
        }
    }

    /// Mixes `color` into pixel (x, y) with weight `alpha` in [0, 1].
    private mutating func blend(x: Int, y: Int, color: RGBColor, alpha: Double) {
        let i = (y * width + x) * 3
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            UInt8((Double(old) * (1 - alpha) + Double(new) * alpha).rounded())
        }
        image.pixels[i] = mix(image.pixels[i], color.red)
        image.pixels[i + 1] = mix(image.pixels[i + 1], color.green)
        image.pixels[i + 2] = mix(image.pixels[i + 2], color.blue)
    }
}

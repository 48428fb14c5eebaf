// PSNR and SSIM against an independent numpy reference (Fixtures/make_metrics_fixture.py, which
// also checks itself against scikit-image's SSIM), and the x4 bicubic round trip validation uses.

import Foundation
import SRCore
import SRData
import SRTrain
import XCTest

let metricsFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

func metricsReference() throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metricsFixtures + "/metrics.json"))) as! [String: Any]
}

final class MetricsTests: XCTestCase {
    func testPSNRAndSSIMMatchTheReference() throws {
        let reference = try metricsReference()["noisy_vs_hr_border4"] as! [String: Double]
        let (hr, _) = try PNG.read(metricsFixtures + "/metrics_hr.png")
        let (noisy, _) = try PNG.read(metricsFixtures + "/metrics_noisy.png")
        let result = ImageMetrics.compare(noisy, hr, border: 4)
        XCTAssertEqual(result.psnr, reference["psnr"]!, accuracy: 1e-9)
        XCTAssertEqual(result.ssim, reference["ssim"]!, accuracy: 1e-9)
        // Identical images: SSIM exactly 1, PSNR infinite.
        XCTAssertEqual(ImageMetrics.compare(hr, hr, border: 4).ssim, 1, accuracy: 1e-12)
        XCTAssertEqual(ImageMetrics.compare(hr, hr, border: 4).psnr, .infinity)
    }

    func testBicubicRoundTripMatchesTheReference() throws {
        let reference = try metricsReference()["bicubic_x4_vs_hr_border4"] as! [String: Double]
        let (full, _) = try PNG.read(metricsFixtures + "/metrics_hr.png")
        let hr = full.crop(x: 0, y: 0, width: full.width / 4 * 4, height: full.height / 4 * 4)
        let lr = Validation.resize(hr, scale: 0.25)
        XCTAssertEqual([lr.width, lr.height], [25, 21])
        let bicubic = Validation.resize(lr, scale: 4)
        let result = ImageMetrics.compare(bicubic, hr, border: 4)
        // float32 resampling against float64: a rare pixel may round the other way.
        XCTAssertEqual(result.psnr, reference["psnr"]!, accuracy: 0.005)
        XCTAssertEqual(result.ssim, reference["ssim"]!, accuracy: 5e-5)
    }

    /// The streamed metrics against whole-plane filtering (the way they were computed before
    /// 2026-12-04, kept here as the reference): the same sums in the same order, so equal bits.
    func testStreamedMetricsEqualWholePlaneFiltering() throws {
        let (hr, _) = try PNG.read(metricsFixtures + "/metrics_hr.png")
        let (noisy, _) = try PNG.read(metricsFixtures + "/metrics_noisy.png")
        var rng = SeededRandom(seed: 5)
        let random = RGBImage(width: 37, height: 29, pixels: (0..<(37 * 29 * 3)).map { _ in UInt8(rng.next() % 256) })
        let other = RGBImage(width: 37, height: 29, pixels: random.pixels.map { $0 / 2 + 60 })
        for (a, b, border) in [(noisy, hr, 4), (noisy, hr, 0), (random, other, 2), (random, other, 12)] {
            let luma = { (image: RGBImage) in
                (0..<(image.width * image.height)).map { i -> Double in
                    let r = Double(image.pixels[3 * i]), g = Double(image.pixels[3 * i + 1]), b = Double(image.pixels[3 * i + 2])
                    return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
                }
            }
            let (x, w, h) = wholeCropped(luma(a), width: a.width, height: a.height, border: border)
            let (y, _, _) = wholeCropped(luma(b), width: b.width, height: b.height, border: border)
            let mse = zip(x, y).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(x.count)
            let result = ImageMetrics.compare(a, b, border: border)
            XCTAssertEqual(result.psnr, 10 * log10(255 * 255 / mse), "border \(border)")
            let reference = wholePlaneSSIM(x, y, width: w, height: h)
            if reference.isNaN {
                XCTAssertTrue(result.ssim.isNaN, "border \(border): no valid window, SSIM \(result.ssim)")
            } else {
                XCTAssertEqual(result.ssim, reference, "border \(border)")
            }
        }
    }

    private func wholeCropped(_ plane: [Double], width: Int, height: Int, border: Int) -> ([Double], Int, Int) {
        let w = width - 2 * border, h = height - 2 * border
        var out: [Double] = []
        for row in 0..<h { for column in 0..<w { out.append(plane[(row + border) * width + column + border]) } }
        return (out, w, h)
    }

    private func wholePlaneSSIM(_ x: [Double], _ y: [Double], width w: Int, height h: Int) -> Double {
        let size = 11, vw = w - size + 1, vh = h - size + 1
        guard vw > 0, vh > 0 else { return .nan }
        var window = (0..<size).map { i in exp(-Double((i - 5) * (i - 5)) / (2 * 1.5 * 1.5)) }
        let total = window.reduce(0, +)
        window = window.map { $0 / total }
        func filter(_ image: [Double]) -> [Double] {
            var horizontal = [Double](repeating: 0, count: vw * h)
            for row in 0..<h {
                for column in 0..<vw {
                    var sum = 0.0
                    for k in 0..<size { sum += window[k] * image[row * w + column + k] }
                    horizontal[row * vw + column] = sum
                }
            }
            var out = [Double](repeating: 0, count: vw * vh)
            for row in 0..<vh {
                for column in 0..<vw {
                    var sum = 0.0
                    for k in 0..<size { sum += window[k] * horizontal[(row + k) * vw + column] }
                    out[row * vw + column] = sum
                }
            }
            return out
        }
        let muX = filter(x), muY = filter(y), xx = filter(x.map { $0 * $0 }), yy = filter(y.map { $0 * $0 })
        let xy = filter(zip(x, y).map { $0.0 * $0.1 })
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        var sum = 0.0
        for i in 0..<muX.count {
            let sx = xx[i] - muX[i] * muX[i], sy = yy[i] - muY[i] * muY[i], sxy = xy[i] - muX[i] * muY[i]
            sum += ((2 * muX[i] * muY[i] + c1) * (2 * sxy + c2)) / ((muX[i] * muX[i] + muY[i] * muY[i] + c1) * (sx + sy + c2))
        }
        return sum / Double(muX.count)
    }
}

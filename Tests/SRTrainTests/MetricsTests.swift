// PSNR and SSIM against an independent numpy reference (Fixtures/make_metrics_fixture.py, which
// also checks itself against scikit-image's SSIM), and the x4 bicubic round trip validation uses.

import Foundation
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
}

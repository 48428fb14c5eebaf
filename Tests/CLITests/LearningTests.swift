// Learning on real photos, end to end through the release binary under mpirun -n 2: pack the
// sample photos with 3 held out, train the tiny preset's SRResNet phase, and beat bicubic on the
// held-out photos. (About 5 minutes on 2 cores: the longest test.) The 6-minute budget of the
// issue is measured by the same run in docs/benchmarks.md, not asserted here: no timed tests.

import Foundation
import XCTest

final class LearningTests: XCTestCase {
    func testTinyPresetBeatsBicubicOnPhotosItDidNotTrainOn() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-learning-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let pack = try runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                     "--output", work + "/packed", "--val-images", "3", "--random-crops", "1024", "--patch-size", "48"])
        XCTAssertEqual(pack.status, 0, pack.error)
        let held = try FileManager.default.contentsOfDirectory(atPath: work + "/packed/val").sorted()
        XCTAssertEqual(held.count, 3)
        let manifest = try String(contentsOfFile: work + "/packed/index.json", encoding: .utf8)
        for name in held { XCTAssertTrue(manifest.contains("\"file\" : \"\(name)\""), name) }

        let train = try runUnderMPI(ranks: 2, ["train", "--preset", "tiny", "--data", work + "/packed", "--val", work + "/packed",
                                               "--run", work + "/run", "--batch", "8", "--log-every", "600"])
        XCTAssertEqual(train.status, 0, train.error + train.output)
        let records = try String(contentsOfFile: work + "/run/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let last = try XCTUnwrap(records.last { $0["kind"] as? String == "validation" })
        let psnr = (last["psnr"] as! NSNumber).doubleValue, bicubic = (last["psnr_bicubic"] as! NSNumber).doubleValue
        let ssim = (last["ssim"] as! NSNumber).doubleValue, ssimBicubic = (last["ssim_bicubic"] as! NSNumber).doubleValue
        print(String(format: "learning: PSNR %.2f vs bicubic %.2f (%+.2f dB), SSIM %.4f vs %.4f on %@", psnr, bicubic,
                     psnr - bicubic, ssim, ssimBicubic, held.joined(separator: ", ")))
        XCTAssertGreaterThanOrEqual(psnr - bicubic, LearningTests.requiredGain, "PSNR gain over bicubic")
        XCTAssertGreaterThan(ssim, ssimBicubic)
    }

    /// The issue's target: 1 dB over bicubic on photos the model did not train on. The run is
    /// deterministic (2 ranks, one thread each); measured +1.02 dB (docs/benchmarks.md). The
    /// PyTorch peer's recipe reaches +0.71 dB on the same photos.
    static let requiredGain = 1.0
}

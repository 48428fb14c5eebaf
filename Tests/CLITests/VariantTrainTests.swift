// The loss and discriminator variants through the release binary under mpirun -n 2: RaGAN, a
// conditional discriminator, TV and the combined content loss (tiny-combined), trained straight
// and split by a resume, must give the same checkpoint byte for byte.

import Foundation
import XCTest

final class VariantTrainTests: XCTestCase {
    static var work = ""

    override class func setUp() {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-variants-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        let pack = try! runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                      "--output", work + "/packed", "--patch-size", "48", "--stride", "96", "--val-images", "2"])
        precondition(pack.status == 0, pack.error)
        // VGG22 rather than the preset's VGG54 (random VGG weights, tests only): the cheap layer.
        try! """
            gan_loss: ragan
            vgg_loss: vgg22
            tv_weight: 1.0e-6
            discriminator:
              conditional: true
            """.write(toFile: work + "/variants.yaml", atomically: true, encoding: .utf8)
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    var common: [String] {
        ["train", "--preset", "tiny-combined", "--phase", "gan", "--config", Self.work + "/variants.yaml", "--allow-random-vgg",
         "--data", Self.work + "/packed", "--val", Self.work + "/packed", "--batch", "2", "--seed", "5",
         "--log-every", "1", "--validate-every", "4", "--watchdog", "120"]
    }

    func testRelativisticConditionalRunResumesExactlyUnderMPI() throws {
        let straight = Self.work + "/straight", split = Self.work + "/split"
        let whole = try runUnderMPI(ranks: 2, common + ["--steps", "4", "--checkpoint-every", "2", "--run", straight])
        XCTAssertEqual(whole.status, 0, whole.error)
        for setting in ["gan_loss: ragan", "conditional: true", "content_loss: combined", "vgg_loss: vgg22", "discriminator_lr: 1e-4"] {
            XCTAssertTrue(whole.output.contains(setting), "resolved config lacks \(setting):\n\(whole.output)")
        }
        XCTAssertTrue(whole.output.contains(" tv "), whole.output)
        let first = try runUnderMPI(ranks: 2, common + ["--steps", "2", "--run", split])
        XCTAssertEqual(first.status, 0, first.error)
        let second = try runUnderMPI(ranks: 2, ["train", "--resume", "--run", split, "--steps", "4"])
        XCTAssertEqual(second.status, 0, second.error)
        XCTAssertTrue(second.output.contains("resuming from \(checkpointFolder(split, 2))"), second.output)
        XCTAssertFalse(second.output.contains("changed settings"), second.output)
        for name in ["generator", "discriminator", "training"] {
            let a = try tensorBytes("\(checkpointFolder(straight, 4))/\(name).safetensors")
            let b = try tensorBytes("\(checkpointFolder(split, 4))/\(name).safetensors")
            XCTAssertFalse(a.isEmpty, name)
            XCTAssertEqual(Set(a.keys), Set(b.keys), name)
            for (key, bytes) in a where bytes != b[key] { XCTFail("\(name): \(key) differs between the straight and the resumed run") }
        }
        let a = try loggedLosses(straight), b = try loggedLosses(split)
        XCTAssertEqual(a.keys.sorted(), Array(1...4))
        XCTAssertEqual(a, b)
        XCTAssertNotNil(a[4]?["tv_loss"], "\(a)")
        // Both ranks logged the same global RaGAN losses: the discriminator loss is a global mean.
        let discriminatorLosses = a.values.compactMap { $0["discriminator_loss"] }
        XCTAssertEqual(discriminatorLosses.count, 4)
        XCTAssertTrue(discriminatorLosses.allSatisfy { $0.isFinite && $0 > 0 })
        // The conditional discriminator's file has the plain names, block 2's layers narrower by the LR's 3 channels.
        let discriminator = try readTensors(straight + "/discriminator.safetensors")
        XCTAssertEqual(discriminator["features.9.weight"]?.count, 2 * 16 - 3)
        XCTAssertEqual(discriminator["features.12.weight"]?.count, 4 * 16)
    }
}

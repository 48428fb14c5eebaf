import Foundation
import SRCore
import SRData
import XCTest

final class StreamTests: XCTestCase {
    static var directory = ""
    static var dataset: PackedDataset!

    override class func setUp() {
        directory = (try! makeTemporaryDirectory("stream")) + "/packed"
        var options = PackOptions(input: samplePhotos, output: directory)
        options.patchSize = 32
        options.sampling = .grid(stride: 80)
        options.patchesPerBlock = 8
        _ = try! Packer(options).run()
        dataset = try! PackedDataset(directory: directory)
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }

    private func maker(rank: Int, world: Int, batch: Int, seed: UInt64 = 3) -> BatchMaker {
        var options = StreamOptions(rank: rank, worldSize: world, batchSize: batch, seed: seed, scale: 4)
        options.augment = true
        return BatchMaker(dataset: Self.dataset, options: options)
    }

    func testEveryEpochIsCoveredDisjointlyWithEqualStepsFor1To3Ranks() throws {
        let n = Self.dataset.patchCount
        XCTAssertGreaterThan(n, 100)
        for world in 1...3 {
            let batch = 7
            let makers = (0..<world).map { maker(rank: $0, world: world, batch: batch) }
            let steps = makers[0].stepsPerEpoch
            XCTAssertTrue(makers.allSatisfy { $0.stepsPerEpoch == steps })
            // Two epochs' worth of steps; stream item k of epoch e must be seen exactly once.
            var seenByEpoch: [Int: [Int]] = [:]
            var position = StreamPosition()
            for _ in 0..<(2 * steps) {
                var next = position
                for (rank, m) in makers.enumerated() {
                    let batchOfRank = try m.batch(at: position)
                    for (i, patch) in batchOfRank.patchIndices.enumerated() {
                        let item = position.offset + rank * batch + i
                        seenByEpoch[item / n, default: []].append(patch)
                    }
                    next = batchOfRank.position
                }
                position = next
            }
            for epoch in 0..<2 {
                let patches = seenByEpoch[epoch]!
                XCTAssertEqual(patches.count, n, "world \(world) epoch \(epoch)")
                XCTAssertEqual(Set(patches).count, n, "world \(world) epoch \(epoch): a patch seen twice")
            }
            XCTAssertNotEqual(seenByEpoch[0]!, seenByEpoch[1]!, "each epoch has its own order")
        }
    }

    func testOrderIsDeterministicAndSeeded() throws {
        let a = try maker(rank: 1, world: 2, batch: 5).batch(at: StreamPosition(offset: 40))
        let b = try maker(rank: 1, world: 2, batch: 5).batch(at: StreamPosition(offset: 40))
        XCTAssertEqual(a.patchIndices, b.patchIndices)
        XCTAssertEqual(a.transforms, b.transforms)
        XCTAssertEqual(a.hr.toArray(), b.hr.toArray())
        XCTAssertEqual(a.lr.toArray(), b.lr.toArray())
        let other = try maker(rank: 1, world: 2, batch: 5, seed: 4).batch(at: StreamPosition(offset: 40))
        XCTAssertNotEqual(a.patchIndices, other.patchIndices)
    }

    func testResumeFromASavedPositionSeesExactlyTheSameBatches() throws {
        var options = StreamOptions(rank: 0, worldSize: 2, batchSize: 6, seed: 9)
        options.prefetch = 3
        let uninterrupted = PatchStream(dataset: Self.dataset, options: options)
        var expected: [StreamBatch] = []
        for _ in 0..<12 { expected.append(try uninterrupted.next()) }
        uninterrupted.stop()
        // Interrupted after 5 steps (with batches prefetched and dropped), resumed from the position.
        let first = PatchStream(dataset: Self.dataset, options: options)
        for _ in 0..<5 { _ = try first.next() }
        let saved = first.position
        first.stop()
        let data = try JSONEncoder().encode(saved)
        let restored = try JSONDecoder().decode(StreamPosition.self, from: data)
        XCTAssertEqual(restored.offset, 5 * 2 * 6)
        let resumed = PatchStream(dataset: Self.dataset, options: options, position: restored)
        for step in 5..<12 {
            let batch = try resumed.next()
            XCTAssertEqual(batch.patchIndices, expected[step].patchIndices, "step \(step)")
            XCTAssertEqual(batch.hr.toArray(), expected[step].hr.toArray(), "step \(step)")
            XCTAssertEqual(batch.lr.toArray(), expected[step].lr.toArray(), "step \(step)")
        }
        resumed.stop()
    }

    func testHRAndLRAreTheAugmentedPatchAndItsBicubicDownsample() throws {
        let batch = try maker(rank: 0, world: 1, batch: 16).batch(at: StreamPosition(offset: 0))
        XCTAssertEqual(batch.hr.shape, [16, 3, 32, 32])
        XCTAssertEqual(batch.lr.shape, [16, 3, 8, 8])
        XCTAssertTrue(batch.hr.toArray().allSatisfy { $0 >= -1 && $0 <= 1 })
        XCTAssertTrue(batch.lr.toArray().allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertGreaterThan(Set(batch.transforms).count, 2, "augmentation uses several of the 8 transforms")
        var block: [UInt8] = []
        let resizer = BicubicResizer(inHeight: 32, inWidth: 32, scale: 0.25)
        for i in 0..<16 {
            let (shard, b, within) = Self.dataset.locate(batch.patchIndices[i])
            try Self.dataset.shards[shard].readBlock(b, into: &block)
            var planar = [Float](repeating: 0, count: 3 * 32 * 32)
            block.withUnsafeBufferPointer { source in
                planar.withUnsafeMutableBufferPointer {
                    Dihedral.toPlanar(source.baseAddress! + within * 3072, side: 32, transform: batch.transforms[i], into: $0.baseAddress!)
                }
            }
            let hr = Array(batch.hr.toArray()[(i * 3072)..<((i + 1) * 3072)])
            XCTAssertEqual(hr, planar.map { $0 * 2 - 1 })
            let lr = resizer.resize(planar, channels: 3).map { (min(max($0, 0), 1) * 255).rounded() / 255 }
            XCTAssertEqual(Array(batch.lr.toArray()[(i * 192)..<((i + 1) * 192)]), lr)
        }
    }

    func testTheEightTransformsAreDistinctSymmetries() {
        // An asymmetric 3x3 patch: every transform gives another arrangement of the same pixels.
        let patch: [UInt8] = (0..<27).map { UInt8($0 * 9) }
        var results: [[Float]] = []
        for t in 0..<8 {
            var planar = [Float](repeating: 0, count: 27)
            patch.withUnsafeBufferPointer { source in
                planar.withUnsafeMutableBufferPointer { Dihedral.toPlanar(source.baseAddress!, side: 3, transform: t, into: $0.baseAddress!) }
            }
            XCTAssertEqual(planar.sorted(), patch.map { Float($0) * (1 / 255) }.sorted(), "transform \(t) keeps the pixels")
            results.append(planar)
        }
        XCTAssertEqual(Set(results.map { $0.description }).count, 8)
        // Identity, and a horizontal flip of the first row.
        XCTAssertEqual(results[0][0], 0)
        XCTAssertEqual(results[1][0], Float(2 * 3 * 9) * (1 / 255))
    }
}

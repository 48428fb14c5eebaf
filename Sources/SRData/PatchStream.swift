// The streaming reader training uses. All ranks see one endless stream: epoch e is a permutation
// of every patch, seeded by (seed, e), and the epochs follow each other. Each step takes the next
// worldSize x batch items of the stream; rank r takes items [r*batch, (r+1)*batch) of them. So in
// every epoch the ranks' shares are disjoint and together cover every patch, every rank makes the
// same number of steps (an epoch boundary may fall inside a step; nobody waits), and a position is
// one number, the stream offset, which restores exactly (and re-partitions if the number of ranks
// changes). Augmentation is a function of (seed, stream offset), so it restores exactly too.
// Batches are decompressed, augmented and downsampled ahead, in a background thread.

import Foundation
import SRCore

public struct StreamPosition: Codable, Equatable, Sendable {
    /// Stream items consumed by all ranks together (steps x worldSize x batch).
    public var offset: Int

    public init(offset: Int = 0) { self.offset = offset }

    public func epoch(patchCount: Int) -> Int { offset / patchCount }
    public func offsetInEpoch(patchCount: Int) -> Int { offset % patchCount }
}

public struct StreamBatch {
    /// (B, 3, P, P) in [-1, 1] (the paper's HR range).
    public let hr: Tensor
    /// (B, 3, P/scale, P/scale) in [0, 1]: MATLAB-style bicubic of the augmented HR, quantised to 8 bits.
    /// With `StreamOptions.lightnessLR`: (B, 1, P/scale, P/scale), the CIE L* of that LR scaled to [-1, 1].
    public let lr: Tensor
    /// Global patch indices and dihedral transforms of the batch, in order (for tests and logs).
    public let patchIndices: [Int]
    public let transforms: [Int]
    /// The stream position after this batch (save it to resume after this step).
    public let position: StreamPosition
}

public struct StreamOptions: Sendable {
    public var rank = 0
    public var worldSize = 1
    public var batchSize = 16
    public var seed: UInt64 = 0
    public var scale = 4
    public var augment = true
    /// The colourising mode's input: the L* channel of the LR (Lab.swift) instead of its RGB.
    public var lightnessLR = false
    /// Batches prepared ahead of the consumer.
    public var prefetch = 4
    /// Decompressed blocks kept in memory.
    public var cachedBlocks = 16

    public init(rank: Int = 0, worldSize: Int = 1, batchSize: Int = 16, seed: UInt64 = 0, scale: Int = 4) {
        self.rank = rank
        self.worldSize = worldSize
        self.batchSize = batchSize
        self.seed = seed
        self.scale = scale
    }
}

/// Builds batches synchronously: the deterministic core the background thread runs.
public final class BatchMaker {
    public let dataset: PackedDataset
    public let options: StreamOptions
    private let resizer: BicubicResizer
    private var permutations: [Int: [Int32]] = [:]
    private var cache: [Int: [UInt8]] = [:]   // key: shard << 32 | block
    private var cacheOrder: [Int] = []
    private var scratch: [Float]
    private var planar: [Float]

    public init(dataset: PackedDataset, options: StreamOptions) {
        precondition(options.worldSize >= 1 && (0..<options.worldSize).contains(options.rank) && options.batchSize >= 1)
        self.dataset = dataset
        self.options = options
        let p = dataset.patchSize
        resizer = BicubicResizer(inHeight: p, inWidth: p, scale: 1 / Double(options.scale))
        scratch = [Float](repeating: 0, count: resizer.outHeight * p)
        planar = [Float](repeating: 0, count: 3 * p * p)
    }

    /// Steps per epoch, as every rank sees them (rounded up: an epoch ends inside a step).
    public var stepsPerEpoch: Int {
        Self.stepsPerEpoch(patches: dataset.patchCount, itemsPerStep: options.worldSize * options.batchSize)
    }

    /// Steps to go once through `patches` when each step takes `itemsPerStep` stream items.
    public static func stepsPerEpoch(patches: Int, itemsPerStep: Int) -> Int { (patches + itemsPerStep - 1) / itemsPerStep }

    /// The permutation of epoch `e` (Fisher-Yates, seeded by seed and epoch).
    public func permutation(_ epoch: Int) -> [Int32] {
        if let cached = permutations[epoch] { return cached }
        var order = (0..<Int32(dataset.patchCount)).map { $0 }
        var rng = SeededRandom(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &+ 1)
        order.shuffle(using: &rng)
        permutations = permutations.filter { $0.key >= epoch - 1 }
        permutations[epoch] = order
        return order
    }

    /// The transform of stream item `item`: a hash of (seed, item), so it never depends on order.
    public func transform(_ item: Int) -> Int {
        guard options.augment else { return 0 }
        var rng = SeededRandom(seed: options.seed ^ (UInt64(item) &* 0xD134_2543_DE82_EF95))
        return Int(rng.next() >> 61)
    }

    /// The batch of this rank that starts the step at stream offset `position.offset`.
    public func batch(at position: StreamPosition) throws -> StreamBatch {
        let b = options.batchSize, p = dataset.patchSize, n = dataset.patchCount
        let lrSide = resizer.outHeight
        let lrChannels = options.lightnessLR ? 1 : 3, lrPlane = lrSide * lrSide
        let hr = Tensor(shape: [b, 3, p, p]), lr = Tensor(shape: [b, lrChannels, lrSide, lrSide])
        let colourLR = options.lightnessLR ? Tensor(shape: [3, lrSide, lrSide]) : nil
        var indices: [Int] = [], transforms: [Int] = []
        let first = position.offset + options.rank * b
        // colourLR (3,lrSide,lrSide) is the colour LR of one patch when the network sees its lightness only.
        try withPointers(optional: colourLR, hr, lr) { colourLR, hrBatch, lrBatch in
            for i in 0..<b {
                let item = first + i
                let patch = Int(permutation(item / n)[item % n])
                let t = transform(item)
                indices.append(patch)
                transforms.append(t)
                let (shard, block, within) = dataset.locate(patch)
                let bytes = try blockBytes(shard, block)
                let patchBytes = p * p * 3
                bytes.withUnsafeBufferPointer { source in
                    planar.withUnsafeMutableBufferPointer { target in
                        Dihedral.toPlanar(source.baseAddress! + within * patchBytes, side: p, transform: t, into: target.baseAddress!)
                    }
                }
                // LR from the [0,1] HR (bicubic overshoots, so it is clamped); then HR to [-1,1].
                let lrTarget = colourLR ?? lrBatch + i * 3 * lrPlane
                planar.withUnsafeBufferPointer { source in
                    scratch.withUnsafeMutableBufferPointer { resizer.resize(source.baseAddress!, lrTarget, channels: 3, scratch: $0.baseAddress!) }
                }
                // Clamped and quantised to 8 bits, as an LR image saved to PNG (and the validation LR) is.
                for k in 0..<(3 * lrPlane) { lrTarget[k] = (min(max(lrTarget[k], 0), 1) * 255).rounded() / 255 }
                if options.lightnessLR { Lab.networkInput(lrTarget, lrBatch + i * lrPlane, plane: lrPlane) }
                let hrTarget = hrBatch + i * 3 * p * p
                for k in 0..<(3 * p * p) { hrTarget[k] = planar[k] * 2 - 1 }
            }
        }
        return StreamBatch(hr: hr, lr: lr, patchIndices: indices, transforms: transforms,
                           position: StreamPosition(offset: position.offset + options.worldSize * b))
    }

    private func blockBytes(_ shard: Int, _ block: Int) throws -> [UInt8] {
        let key = shard << 32 | block
        if let bytes = cache[key] { return bytes }
        var bytes: [UInt8] = []
        try dataset.shards[shard].readBlock(block, into: &bytes)
        cache[key] = bytes
        cacheOrder.append(key)
        if cacheOrder.count > options.cachedBlocks { cache[cacheOrder.removeFirst()] = nil }
        return bytes
    }
}

/// The hand-over between the background thread and the consumer (a class of its own, so the
/// thread does not keep the stream alive).
private final class BatchQueue {
    let condition = NSCondition()
    var ready: [Result<StreamBatch, Error>] = []
    var stopped = false
}

/// Batches of one rank, prepared ahead in a background thread.
public final class PatchStream {
    public let maker: BatchMaker
    private let queue = BatchQueue()
    /// Where the next batch handed out starts.
    public private(set) var position: StreamPosition

    public init(dataset: PackedDataset, options: StreamOptions, position: StreamPosition = StreamPosition()) {
        maker = BatchMaker(dataset: dataset, options: options)
        self.position = position
        let thread = Thread { [maker, queue] in
            var next = position
            while true {
                queue.condition.lock()
                while !queue.stopped && queue.ready.count >= max(1, options.prefetch) { queue.condition.wait() }
                let stop = queue.stopped
                queue.condition.unlock()
                if stop { return }
                let result = Result { try maker.batch(at: next) }
                if case .success(let batch) = result { next = batch.position }
                queue.condition.lock()
                queue.ready.append(result)
                queue.condition.broadcast()
                queue.condition.unlock()
                if case .failure = result { return }
            }
        }
        thread.name = "srgan-dist patch stream"
        thread.start()
    }

    /// The next batch of this rank; throws the reader's error (a damaged block, ...) when it hits one.
    public func next() throws -> StreamBatch {
        queue.condition.lock()
        while queue.ready.isEmpty { queue.condition.wait() }
        let result = queue.ready.removeFirst()
        if case .success = result { queue.condition.broadcast() } else { queue.ready.insert(result, at: 0) }
        queue.condition.unlock()
        let batch = try result.get()
        position = batch.position
        return batch
    }

    /// Stops the background thread (batches prepared but not taken are dropped; `position` stays).
    public func stop() {
        queue.condition.lock()
        queue.stopped = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    deinit { stop() }
}

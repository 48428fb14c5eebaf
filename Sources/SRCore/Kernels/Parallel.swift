// Splitting a pointwise or per-channel kernel over the cores the process may use. The thread
// budget is the BLAS thread count: one rank per core runs with one BLAS thread and then every
// kernel stays on the calling thread; a single process with two BLAS threads splits large work
// in two. Small work is never split: waking a second thread costs about 10-20 microseconds.

import Foundation

public enum KernelThreads {
    /// Below this many floats touched, a kernel runs on the calling thread.
    public static let minimumParallelWork = 1 << 16

    /// Threads a kernel may use now: the BLAS thread count, at most the machine's cores.
    public static var available: Int {
        min(BLASThreads.current, ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// Calls `body` on disjoint ranges that together cover 0..<count, in parallel when `work` (floats
/// touched in all) is large enough and more than one thread is available, else once with 0..<count.
/// Each range is a contiguous block, so per-item state (a channel's sums) stays on one thread.
@inline(__always)
public func forEachRange(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
    forEachPart(splitRanges(count, work: work)) { _, range in body(range) }
}

/// The ranges `forEachRange` would hand out for `count` items and `work` floats: one per thread,
/// contiguous, covering 0..<count (empty when count is 0).
public func splitRanges(_ count: Int, work: Int) -> [Range<Int>] {
    let threads = work >= KernelThreads.minimumParallelWork ? min(KernelThreads.available, count) : 1
    guard threads > 1 else { return count > 0 ? [0..<count] : [] }
    return (0..<threads).map { part in (count * part / threads)..<(count * (part + 1) / threads) }
}

/// body(index, range) for every range, in parallel when there are several.
public func forEachPart(_ parts: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
    guard parts.count > 1 else {
        if let only = parts.first, !only.isEmpty { body(0, only) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: parts.count) { part in
        if !parts[part].isEmpty { body(part, parts[part]) }
    }
}

/// The sum of `body` over consecutive chunks of `chunk` items covering 0..<count, each chunk's
/// float result added in double in chunk order: the same bits whatever the thread count.
public func chunkedSum(_ count: Int, work: Int, chunk: Int = 4096, _ body: (Range<Int>) -> Float) -> Double {
    let chunks = (count + chunk - 1) / chunk
    var partial = [Double](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { sums in
        forEachRange(chunks, work: work) { range in
            for k in range { sums[k] = Double(body(k * chunk..<min(count, (k + 1) * chunk))) }
        }
    }
    return partial.reduce(0, +)
}

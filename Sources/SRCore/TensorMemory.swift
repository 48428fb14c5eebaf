// Recycled memory for large tensors. A training step allocates and frees the same large
// activations and gradients every step; malloc serves blocks that large with fresh mmap'd pages
// (above 32 MB always), which the kernel zero-fills on first touch, one page fault per 4 KB
// (about 5% of a GAN step). Released buffers of at least `minimumFloats` are kept on free lists by
// exact size, up to `limitBytes` in all, and handed out again; `drain()` gives them back to the
// system, for when the sizes change (rank 0's validation on whole images). A build instrumented
// by AddressSanitizer keeps nothing (`pooling` is false): every release frees at once, so ASan
// reports a read of a released tensor's memory instead of it landing in a recycled buffer.

import CKernels
import Foundation

public enum TensorMemory {
    /// Buffers below this size go straight to malloc, whose own free lists serve them well.
    public static let minimumFloats = 1 << 18   // 1 MB
    /// The most memory kept for reuse; beyond it released buffers are freed.
    public static let limitBytes = 1 << 30

    /// False in a build instrumented by AddressSanitizer (`swift build --sanitize=address`).
    public static let pooling = sr_address_sanitizer_active() == 0

    private static let pool = BufferPool()

    static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count >= minimumFloats, pooling, let recycled = pool.take(count) { return recycled }
        return .allocate(capacity: count)
    }

    static func release(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        if count >= minimumFloats, pooling, pool.keep(pointer, count: count, limitBytes: limitBytes) { return }
        pointer.deallocate()
    }

    /// Keeps malloc from handing freed memory back to the system between steps: glibc trims the
    /// top of its heap above 128 kB free and serves blocks from 128 kB up with fresh mmap'd pages,
    /// so the kernels' per-call scratch buffers and mid-sized tensors (below `minimumFloats`)
    /// were zero-filled anew on every call (page faults were 8% of the tiny preset's step).
    /// Called once at start-up by the command line; blocks of 32 MB (glibc's largest threshold) and up still come from mmap.
    public static func keepFreedMemory() {
        sr_keep_freed_memory(32 << 20, 256 << 20)
    }

    /// Frees every kept buffer.
    public static func drain() { pool.drain() }

    /// Bytes kept for reuse now.
    public static var keptBytes: Int { pool.keptBytes }
}

private final class BufferPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var keptFloats = 0

    var keptBytes: Int { lock.withLock { keptFloats * MemoryLayout<Float>.stride } }

    func take(_ count: Int) -> UnsafeMutablePointer<Float>? {
        lock.withLock {
            guard let pointer = free[count]?.popLast() else { return nil }
            keptFloats -= count
            return pointer
        }
    }

    func keep(_ pointer: UnsafeMutablePointer<Float>, count: Int, limitBytes: Int) -> Bool {
        lock.withLock {
            guard (keptFloats + count) * MemoryLayout<Float>.stride <= limitBytes else { return false }
            free[count, default: []].append(pointer)
            keptFloats += count
            return true
        }
    }

    func drain() {
        let all = lock.withLock {
            defer { free = [:]; keptFloats = 0 }
            return free.values.flatMap { $0 }
        }
        for pointer in all { pointer.deallocate() }
    }
}

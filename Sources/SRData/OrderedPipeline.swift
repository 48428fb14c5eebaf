// Work on items 0..<count by `threads` threads, handed to one consumer in item order: each worker
// takes the next item not yet taken (so a large photo does not hold up the others) but never more
// than `window` items ahead of the consumer, which bounds memory by `window` results. The order
// of the results, and so the output, does not depend on the thread count or on timing.

import Foundation

enum OrderedPipeline {
    static func run<T>(count: Int, threads: Int, window: Int, work: @escaping @Sendable (Int) -> T,
                       consume: (Int, T) throws -> Void) throws {
        guard count > 0 else { return }
        let state = PipelineState<T>(window: max(window, 1), count: count)
        let group = DispatchGroup()
        for _ in 0..<max(1, min(threads, count)) {
            // Threads, not the global queue: the workers block on the condition, which would starve GCD's pool.
            group.enter()
            let worker = Thread {
                while let item = state.take() { state.put(item, work(item)) }
                group.leave()
            }
            worker.stackSize = 8 << 20
            worker.start()
        }
        defer {
            state.stop()
            group.wait()
        }
        for item in 0..<count { try consume(item, state.result(item)) }
    }
}

private final class PipelineState<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private let window: Int, count: Int
    private var next = 0, consumed = 0, stopped = false
    private var results: [Int: T] = [:]

    init(window: Int, count: Int) {
        self.window = window
        self.count = count
    }

    /// The next item for a worker, or nil when there is none left (or the consumer stopped).
    func take() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && next < count && next >= consumed + window { condition.wait() }
        guard !stopped && next < count else { return nil }
        next += 1
        return next - 1
    }

    func put(_ item: Int, _ result: T) {
        condition.lock()
        results[item] = result
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for item's result and lets the workers move one item further.
    func result(_ item: Int) -> T {
        condition.lock()
        defer { condition.unlock() }
        while results[item] == nil { condition.wait() }
        consumed = item + 1
        condition.broadcast()
        return results.removeValue(forKey: item)!
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

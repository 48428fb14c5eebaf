// The kernels' context is scoped: a thread count or a profiler given for one call holds inside
// it, on its thread, and nowhere else.

import Foundation
import SRCore
import XCTest

final class KernelContextTests: XCTestCase {
    func testThreadCountsHoldOnlyInsideTheirScope() {
        let outside = BLASThreads.current
        BLASThreads.withThreads(outside + 1) {
            XCTAssertEqual(BLASThreads.current, outside + 1)
            BLASThreads.withThreads(1) { XCTAssertEqual(BLASThreads.current, 1) }
            XCTAssertEqual(BLASThreads.current, outside + 1)
            let seen = SeenCount(), done = DispatchSemaphore(value: 0)
            Thread { seen.value = BLASThreads.current; done.signal() }.start()
            done.wait()   // (the semaphore orders the write before the read)
            XCTAssertEqual(seen.value, outside, "a thread started inside the scope saw its count")
        }
        XCTAssertEqual(BLASThreads.current, outside)
    }

    func testProfilerRecordsOnlyInsideItsScope() {
        let layers = Sequential([LeakyReLU(), Sigmoid()])
        let input = Tensor(shape: [1, 2, 3, 3])
        let profiler = LayerProfiler()
        _ = layers.forward(input, mode: .training)
        XCTAssertTrue(profiler.entries.isEmpty)
        LayerProfiler.profiling(profiler) {
            _ = layers.forward(input, mode: .training)
            LayerProfiler.profiling(nil) { _ = layers.forward(input, mode: .training) }   // paused
        }
        _ = layers.forward(input, mode: .training)
        XCTAssertEqual(profiler.entries.count, 2, "\(profiler.entries.map(\.label))")
        XCTAssertEqual(profiler.entries.map(\.calls), [1, 1])
        XCTAssertNil(LayerProfiler.active)
    }
}

private final class SeenCount: @unchecked Sendable { var value = 0 }

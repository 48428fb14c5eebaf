import SRCore
import XCTest

final class TensorMemoryTests: XCTestCase {
    func testLargeBuffersAreReusedAndZeroFilledTensorsStayZero() {
        TensorMemory.drain()
        let count = TensorMemory.minimumFloats + 5
        var address: UnsafeMutablePointer<Float>?
        do {
            let first = Tensor(uninitializedShape: [count])
            first.fill(7)
            address = first.data
        }
        XCTAssertEqual(TensorMemory.keptBytes, count * 4)
        let second = Tensor(shape: [count])   // the same buffer again, cleared
        XCTAssertEqual(second.data, address)
        XCTAssertEqual(TensorMemory.keptBytes, 0)
        XCTAssertTrue(second.toArray().allSatisfy { $0 == 0 })
        let other = Tensor(shape: [count + 1])   // another size is not served from the pool
        XCTAssertNotEqual(other.data, address)
        _ = Tensor(shape: [TensorMemory.minimumFloats - 1])   // small buffers go straight back to malloc
        XCTAssertEqual(TensorMemory.keptBytes, 0)
        TensorMemory.drain()
    }

    func testDrainFreesEverything() {
        TensorMemory.drain()
        for size in [TensorMemory.minimumFloats, 2 * TensorMemory.minimumFloats] { _ = Tensor(shape: [size]) }
        XCTAssertEqual(TensorMemory.keptBytes, 3 * TensorMemory.minimumFloats * 4)
        TensorMemory.drain()
        XCTAssertEqual(TensorMemory.keptBytes, 0)
    }
}

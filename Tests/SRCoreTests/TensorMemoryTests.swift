import SRCore
import XCTest

final class TensorMemoryTests: XCTestCase {
    /// Where a tensor's memory starts, as a number (the pointer itself stays in its closure).
    private func address(_ tensor: Tensor) -> UInt { tensor.withUnsafePointer { UInt(bitPattern: $0) } }

    func testLargeBuffersAreReusedAndZeroFilledTensorsStayZero() throws {
        try XCTSkipUnless(TensorMemory.pooling, "this build runs under AddressSanitizer: nothing is kept for reuse")
        TensorMemory.drain()
        let count = TensorMemory.minimumFloats + 5
        var firstAddress: UInt = 0
        do {
            let first = Tensor(uninitializedShape: [count])
            first.fill(7)
            firstAddress = address(first)
        }
        XCTAssertEqual(TensorMemory.keptBytes, count * 4)
        let second = Tensor(shape: [count])   // the same buffer again, cleared
        XCTAssertEqual(address(second), firstAddress)
        XCTAssertEqual(TensorMemory.keptBytes, 0)
        XCTAssertTrue(second.toArray().allSatisfy { $0 == 0 })
        let other = Tensor(shape: [count + 1])   // another size is not served from the pool
        XCTAssertNotEqual(address(other), firstAddress)
        _ = Tensor(shape: [TensorMemory.minimumFloats - 1])   // small buffers go straight back to malloc
        XCTAssertEqual(TensorMemory.keptBytes, 0)
        TensorMemory.drain()
    }

    func testDrainFreesEverything() throws {
        try XCTSkipUnless(TensorMemory.pooling, "this build runs under AddressSanitizer: nothing is kept for reuse")
        TensorMemory.drain()
        for size in [TensorMemory.minimumFloats, 2 * TensorMemory.minimumFloats] { _ = Tensor(shape: [size]) }
        XCTAssertEqual(TensorMemory.keptBytes, 3 * TensorMemory.minimumFloats * 4)
        TensorMemory.drain()
        XCTAssertEqual(TensorMemory.keptBytes, 0)
    }
}

final class TensorViewTests: XCTestCase {
    func testStoreViewsGoStaleWhenTheBuffersMove() {
        let store = ParameterStore()
        let first = store.register("a", shape: [3])
        let early = store.value(first), earlyGrad = store.grad(first)
        XCTAssertFalse(early.isStale)
        store.register("b", shape: [1000])   // grows both buffers
        XCTAssertTrue(early.isStale)
        XCTAssertTrue(earlyGrad.isStale)
        let late = store.value(first)
        late.fill(2)
        XCTAssertFalse(late.isStale)
        XCTAssertFalse(late.reshaped([3, 1]).isStale)
        let memory = NetworkMemory(parameters: store)   // moves the values into the network's allocation
        XCTAssertTrue(late.isStale)
        XCTAssertEqual(store.value(first).toArray(), [2, 2, 2])
        let laidOut = store.value(first)
        memory.prepareForTraining(keepsPrevious: true)   // moves them again
        XCTAssertTrue(laidOut.isStale)
        XCTAssertEqual(store.value(first).toArray(), [2, 2, 2])
        let trained = store.value(first)
        Adam(memory: memory).updateKeepingPrevious(learningRate: 0.1)   // flips the banks
        XCTAssertTrue(trained.isStale)
        XCTAssertEqual(store.value(first).toArray(), [2, 2, 2])   // a zero gradient moves nothing
        XCTAssertFalse(Tensor(shape: [2]).isStale)   // owned tensors never go stale
    }

    func testNothingIsKeptUnderAddressSanitizer() throws {
        // scripts/test.sh's ASan run builds with --sanitize=address, which turns pooling off.
        try XCTSkipIf(TensorMemory.pooling, "not an AddressSanitizer build")
        TensorMemory.drain()
        _ = Tensor(shape: [TensorMemory.minimumFloats])
        XCTAssertEqual(TensorMemory.keptBytes, 0, "a released buffer was kept under AddressSanitizer")
    }
}

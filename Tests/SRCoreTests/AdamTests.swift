import SRCore
import XCTest

final class AdamTests: XCTestCase {
    func testMatchesTorchOptimAdamWithChangingLearningRate() throws {
        for fixture in try Fixture("adam").cases() {
            let settings = AdamSettings(beta1: fixture.double("beta1"), beta2: fixture.double("beta2"),
                                        eps: fixture.double("eps"), weightDecay: fixture.double("weight_decay"))
            let store = ParameterStore()
            let slot = store.register("p", shape: [37])
            load(fixture.values("start"), into: slot, of: store)
            let adam = Adam(parameterCount: store.count, settings: settings)
            let grads = (fixture.object["grads"] as! [Any]).map { Fixture.tensor($0) }
            let after = (fixture.object["after"] as! [Any]).map { Fixture.tensor($0) }
            let lrs = (fixture.object["lrs"] as! [NSNumber]).map { $0.floatValue }
            for step in 0..<grads.count {
                for i in 0..<slot.count { store.grads[i] = grads[step][i] }
                adam.update(store, learningRate: lrs[step])
                // One float rounding of difference is allowed (vector and scalar paths of ATen).
                assertClose(store.value(slot).toArray(), after[step].toArray(), absolute: 1e-7, relative: 2e-7,
                            "step \(step + 1), weight decay \(settings.weightDecay)")
            }
            XCTAssertEqual(adam.step, grads.count)
            assertClose(Array(UnsafeBufferPointer(start: adam.firstMoment, count: 37)), fixture.values("exp_avg"),
                        absolute: 1e-7, relative: 2e-7, "exp_avg")
            assertClose(Array(UnsafeBufferPointer(start: adam.secondMoment, count: 37)), fixture.values("exp_avg_sq"),
                        absolute: 1e-9, relative: 2e-7, "exp_avg_sq")
        }
    }

    func testFirstStepMovesEachParameterByTheLearningRate() {
        // With bias correction, Adam's first step is lr * g/|g| (up to eps) whatever the scale of g.
        let store = ParameterStore()
        let slot = store.register("p", shape: [4])
        let grads: [Float] = [3, -0.001, 250, -7]
        for i in 0..<4 { store.grads[slot.offset + i] = grads[i] }
        let adam = Adam(parameterCount: 4)
        adam.update(store, learningRate: 0.01)
        assertClose(store.value(slot).toArray(), grads.map { $0 > 0 ? -0.01 : 0.01 }, absolute: 1e-6, relative: 1e-4)
    }

    /// The update written into spare buffers and swapped in gives the same bits as the in-place
    /// update, and reverting it brings back the values, the moments and the step exactly.
    func testUpdateKeepingPreviousMatchesInPlaceAndRevertsExactly() {
        func makeStore() -> (ParameterStore, ParameterSlot) {
            let store = ParameterStore()
            let slot = store.register("p", shape: [43])   // 5 blocks of 8 and a scalar tail of 3
            var rng = SeededRandom(seed: 8)
            rng.fillUniform(store.value(slot), -1, 1)
            return (store, slot)
        }
        let (inPlace, slot) = makeStore(), (swapped, _) = makeStore()
        let adamA = Adam(parameterCount: 43), adamB = Adam(parameterCount: 43)
        let previous = AdamState(count: 43)
        var rng = SeededRandom(seed: 9)
        func state(_ store: ParameterStore, _ adam: Adam) -> [[Float]] {
            [store.value(slot).toArray(), Array(UnsafeBufferPointer(start: adam.firstMoment, count: 43)),
             Array(UnsafeBufferPointer(start: adam.secondMoment, count: 43))]
        }
        for step in 0..<4 {
            let grads = (0..<43).map { _ in rng.uniform(-1, 1) }
            for i in 0..<43 { inPlace.grads[i] = grads[i]; swapped.grads[i] = grads[i] }
            let before = state(swapped, adamB)
            adamA.update(inPlace, learningRate: 0.01)
            adamB.updateKeepingPrevious(swapped, learningRate: 0.01, previous: previous)
            XCTAssertEqual(state(swapped, adamB), state(inPlace, adamA), "step \(step)")
            XCTAssertNotEqual(state(swapped, adamB)[0], before[0])
            if step == 2 {  // undo, then redo the same update
                adamB.revert(swapped, to: previous, step: step)
                XCTAssertEqual(state(swapped, adamB), before)
                XCTAssertEqual(adamB.step, step)
                adamB.updateKeepingPrevious(swapped, learningRate: 0.01, previous: previous)
                XCTAssertEqual(state(swapped, adamB), state(inPlace, adamA))
            }
        }
    }

    /// The spare set owns whichever buffers it holds after a swap: dropping it frees the store's
    /// old values, never the ones the store now reads (run under -sanitize=address to see a misuse).
    func testDroppingTheSpareSetLeavesTheStoreAndOptimizerIntact() {
        let store = ParameterStore(), reference = ParameterStore()
        let slot = store.register("p", shape: [21])
        _ = reference.register("p", shape: [21])
        var rng = SeededRandom(seed: 4)
        rng.fillUniform(store.value(slot), -1, 1)
        reference.values.update(from: store.values, count: 21)
        let adam = Adam(parameterCount: 21), plain = Adam(parameterCount: 21)
        for step in 0..<3 {
            for i in 0..<21 { store.grads[i] = Float(i) * 0.01 - 0.1 + Float(step) * 0.003; reference.grads[i] = store.grads[i] }
            do {
                let spare = AdamState(count: 21)   // freed at the end of this scope, after the swap
                adam.updateKeepingPrevious(store, learningRate: 0.01, previous: spare)
            }
            plain.update(reference, learningRate: 0.01)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: store.values, count: 21)),
                           Array(UnsafeBufferPointer(start: reference.values, count: 21)), "step \(step)")
            XCTAssertEqual(Array(UnsafeBufferPointer(start: adam.secondMoment, count: 21)),
                           Array(UnsafeBufferPointer(start: plain.secondMoment, count: 21)), "step \(step)")
        }
    }
}

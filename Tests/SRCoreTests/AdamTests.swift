import SRCore
import XCTest

/// A trainable store of one parameter `p` of `count` floats, laid out with Adam's moments (and
/// the spare bank for `keepsPrevious`).
private func trainedStore(_ count: Int, keepsPrevious: Bool = false) -> (ParameterStore, ParameterSlot, NetworkMemory) {
    let store = ParameterStore()
    let slot = store.register("p", shape: [count])
    let memory = NetworkMemory(parameters: store)
    memory.prepareForTraining(keepsPrevious: keepsPrevious)
    return (store, slot, memory)
}

private func moments(_ adam: Adam) -> [[Float]] {
    adam.memory.withMoments { [Array($0), Array($1)] }
}

final class AdamTests: XCTestCase {
    func testMatchesTorchOptimAdamWithChangingLearningRate() throws {
        for fixture in try Fixture("adam").cases() {
            let settings = AdamSettings(beta1: fixture.double("beta1"), beta2: fixture.double("beta2"),
                                        eps: fixture.double("eps"), weightDecay: fixture.double("weight_decay"))
            let (store, slot, memory) = trainedStore(37)
            load(fixture.values("start"), into: slot, of: store)
            let adam = Adam(memory: memory, settings: settings)
            let grads = (fixture.object["grads"] as! [Any]).map { Fixture.tensor($0) }
            let after = (fixture.object["after"] as! [Any]).map { Fixture.tensor($0) }
            let lrs = (fixture.object["lrs"] as! [NSNumber]).map { $0.floatValue }
            for step in 0..<grads.count {
                store.withGradients { for i in 0..<slot.count { $0[i] = grads[step][i] } }
                adam.update(learningRate: lrs[step])
                // One float rounding of difference is allowed (vector and scalar paths of ATen).
                assertClose(store.value(slot).toArray(), after[step].toArray(), absolute: 1e-7, relative: 2e-7,
                            "step \(step + 1), weight decay \(settings.weightDecay)")
            }
            XCTAssertEqual(adam.step, grads.count)
            assertClose(moments(adam)[0], fixture.values("exp_avg"), absolute: 1e-7, relative: 2e-7, "exp_avg")
            assertClose(moments(adam)[1], fixture.values("exp_avg_sq"), absolute: 1e-9, relative: 2e-7, "exp_avg_sq")
        }
    }

    func testFirstStepMovesEachParameterByTheLearningRate() {
        // With bias correction, Adam's first step is lr * g/|g| (up to eps) whatever the scale of g.
        let (store, slot, memory) = trainedStore(4)
        let grads: [Float] = [3, -0.001, 250, -7]
        store.withGradients { for i in 0..<4 { $0[slot.offset + i] = grads[i] } }
        let adam = Adam(memory: memory)
        adam.update(learningRate: 0.01)
        assertClose(store.value(slot).toArray(), grads.map { $0 > 0 ? -0.01 : 0.01 }, absolute: 1e-6, relative: 1e-4)
    }

    /// The update written into the spare bank and made live gives the same bits as the in-place
    /// update, and reverting it brings back the values, the moments, the running statistics and
    /// the step exactly.
    func testUpdateKeepingPreviousMatchesInPlaceAndRevertsExactly() {
        func makeStore(keepsPrevious: Bool) -> (ParameterStore, ParameterStore, Adam) {
            let store = ParameterStore(), statistics = ParameterStore(trainable: false)
            let slot = store.register("p", shape: [43])   // 5 blocks of 8 and a scalar tail of 3
            let statisticsSlot = statistics.register("running_mean", shape: [5])
            var rng = SeededRandom(seed: 8)
            rng.fillUniform(store.value(slot), -1, 1)
            rng.fillUniform(statistics.value(statisticsSlot), -1, 1)
            let memory = NetworkMemory(parameters: store, statistics: statistics)
            memory.prepareForTraining(keepsPrevious: keepsPrevious)
            return (store, statistics, Adam(memory: memory))
        }
        let (inPlace, inPlaceStatistics, adamA) = makeStore(keepsPrevious: false)
        let (swapped, swappedStatistics, adamB) = makeStore(keepsPrevious: true)
        var rng = SeededRandom(seed: 9)
        func state(_ store: ParameterStore, _ statistics: ParameterStore, _ adam: Adam) -> [[Float]] {
            [store.value(store.layout[0]).toArray(), statistics.value(statistics.layout[0]).toArray()] + moments(adam)
        }
        for step in 0..<4 {
            let grads = (0..<43).map { _ in rng.uniform(-1, 1) }
            for store in [inPlace, swapped] { store.withGradients { _ = $0.update(fromContentsOf: grads) } }
            let before = state(swapped, swappedStatistics, adamB)
            adamA.update(learningRate: 0.01)
            adamB.updateKeepingPrevious(learningRate: 0.01)
            XCTAssertEqual(state(swapped, swappedStatistics, adamB), state(inPlace, inPlaceStatistics, adamA), "step \(step)")
            XCTAssertNotEqual(state(swapped, swappedStatistics, adamB)[0], before[0])
            // A forward pass moves the live statistics after the update (as D's G pass does).
            swappedStatistics.value(swappedStatistics.layout[0]).fill(Float(step))
            inPlaceStatistics.value(inPlaceStatistics.layout[0]).fill(Float(step))
            if step == 2 {  // undo, then redo the same update
                adamB.revert(step: step)
                XCTAssertEqual(state(swapped, swappedStatistics, adamB), before)
                XCTAssertEqual(adamB.step, step)
                adamB.updateKeepingPrevious(learningRate: 0.01)
                swappedStatistics.value(swappedStatistics.layout[0]).fill(Float(step))
                XCTAssertEqual(state(swapped, swappedStatistics, adamB), state(inPlace, inPlaceStatistics, adamA))
            }
        }
    }

    /// The network's memory outlives the network for as long as a store (or a view of one) is
    /// used: dropping the memory object early frees nothing the store still reads (run under
    /// -sanitize=address to see a misuse).
    func testAStoreKeepsItsMemoryAlive() {
        let store = ParameterStore()
        let slot = store.register("p", shape: [21])
        do {
            let memory = NetworkMemory(parameters: store)
            memory.prepareForTraining(keepsPrevious: true)
            store.withGradients { for i in 0..<21 { $0[i] = Float(i) * 0.01 - 0.105 } }
            Adam(memory: memory).updateKeepingPrevious(learningRate: 0.01)
        }
        let view = store.value(slot)
        // Adam's first step moves each value by the learning rate against its gradient's sign.
        let expected = (0..<21).map { Float($0) * 0.01 - 0.105 > 0 ? Float(-0.01) : 0.01 }
        assertClose(view.toArray(), expected, absolute: 1e-6, relative: 1e-4)
        XCTAssertTrue(store.isLaidOut)
    }
}

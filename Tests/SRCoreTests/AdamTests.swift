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
}

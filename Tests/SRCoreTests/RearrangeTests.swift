import SRCore
import XCTest

final class RearrangeTests: XCTestCase {
    func testPixelShuffleMatchesPyTorchAndItsBackwardIsTheInversePermutation() throws {
        let fixture = try Fixture("small_ops")
        let shuffle = PixelShuffle(factor: 2)
        let x = fixture.tensor("shuffle_x")
        let y = shuffle.forward(x)
        XCTAssertEqual(y.shape, fixture.tensor("shuffle_y").shape)
        XCTAssertEqual(y.toArray(), fixture.values("shuffle_y"))  // a permutation: exact
        // Backward of y -> x permutation maps y back to x exactly.
        XCTAssertEqual(shuffle.backward(y).toArray(), x.toArray())
        checkGradients(PixelShuffle(factor: 2), inputShape: [2, 8, 3, 2])
        checkGradients(PixelShuffle(factor: 3), inputShape: [1, 9, 2, 3])
    }

    func testMaxPoolGradientsWithoutTies() {
        // Distinct values 0.05 apart, shuffled: no two candidates in a window are within 2 eps.
        let fill: (inout SeededRandom, Tensor) -> Void = { rng, tensor in
            var values = (0..<tensor.count).map { Float($0) * 0.05 - 2 }
            values.shuffle(using: &rng)
            for i in 0..<tensor.count { tensor[i] = values[i] }
        }
        checkGradients(MaxPool2d(), inputShape: [2, 3, 4, 6], eps: 1e-2, makeInput: fill)
        checkGradients(MaxPool2d(), inputShape: [1, 2, 5, 7], eps: 1e-2, makeInput: fill)  // odd edges dropped
    }

    func testMaxPoolMatchesPyTorch() throws {
        let fixture = try Fixture("small_ops")
        let pool = MaxPool2d()
        let y = pool.forward(fixture.tensor("pool_x"))
        XCTAssertEqual(y.toArray(), fixture.values("pool_y"))
        XCTAssertEqual(pool.backward(fixture.tensor("pool_upstream")).toArray(), fixture.values("pool_input_grad"))
    }

    func testFlattenKeepsOrderAndRestoresShape() {
        let flatten = Flatten()
        let x = Tensor(shape: [2, 3, 2, 2], values: (0..<24).map(Float.init))
        let y = flatten.forward(x)
        XCTAssertEqual(y.shape, [2, 12])
        XCTAssertEqual(y.toArray(), x.toArray())
        XCTAssertEqual(flatten.backward(y).shape, [2, 3, 2, 2])
    }
}

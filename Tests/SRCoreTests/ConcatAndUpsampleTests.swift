// The U-Net's two new layers: the concatenating skip and nearest x2 upsampling. Finite
// differences for both; their PyTorch parity is the U-Net fixture's (SRModelsTests).

import SRCore
import XCTest

final class ConcatAndUpsampleTests: XCTestCase {
    func testUpsampleRepeatsEachPixelIntoA2x2Block() {
        let x = Tensor(shape: [1, 2, 2, 3], values: (0..<12).map(Float.init))
        let y = UpsampleNearest2x().forward(x)
        XCTAssertEqual(y.shape, [1, 2, 4, 6])
        for c in 0..<2 {
            for row in 0..<4 {
                for column in 0..<6 {
                    XCTAssertEqual(y[(c * 4 + row) * 6 + column], x[(c * 2 + row / 2) * 3 + column / 2])
                }
            }
        }
    }

    func testUpsampleGradients() {
        checkGradients(UpsampleNearest2x(), inputShape: [2, 3, 3, 5])
        checkGradients(UpsampleNearest2x(), inputShape: [1, 1, 1, 1])
    }

    func testConcatSkipPutsTheInputFirstAndTheBranchAfterIt() {
        let store = ParameterStore()
        var rng = SeededRandom(seed: 3)
        let conv = Conv2d(store, "conv", inChannels: 2, outChannels: 3, kernelSize: 3, rng: &rng)
        let x = Tensor(shape: [2, 2, 4, 5])
        rng.fillUniform(x, -1, 1)
        let branch = conv.forward(x, mode: .inference).toArray()
        let y = ConcatSkip(conv).forward(x, mode: .inference)
        XCTAssertEqual(y.shape, [2, 5, 4, 5])
        let plane = 20
        for n in 0..<2 {
            XCTAssertEqual(Array(y.toArray()[(n * 5 * plane)..<((n * 5 + 2) * plane)]), Array(x.toArray()[(n * 2 * plane)..<((n + 1) * 2 * plane)]))
            XCTAssertEqual(Array(y.toArray()[((n * 5 + 2) * plane)..<((n + 1) * 5 * plane)]), Array(branch[(n * 3 * plane)..<((n + 1) * 3 * plane)]))
        }
    }

    func testConcatSkipGradientsThroughAConvolution() {
        let store = ParameterStore()
        var rng = SeededRandom(seed: 4)
        let inner = Sequential([Conv2d(store, "conv", inChannels: 3, outChannels: 2, kernelSize: 3, rng: &rng), LeakyReLU()])
        checkGradients(ConcatSkip(inner), store: store, inputShape: [2, 3, 4, 4])
    }

    func testNestedConcatSkipsAroundAStrideTwoDownAndUp() {
        // One U-Net scale: cat(x, up(conv(down(x)))) with a skip inside a skip.
        let store = ParameterStore()
        var rng = SeededRandom(seed: 5)
        let inner = Sequential([
            Conv2d(store, "down", inChannels: 2, outChannels: 4, kernelSize: 3, stride: 2, rng: &rng),
            ConcatSkip(Conv2d(store, "mid", inChannels: 4, outChannels: 1, kernelSize: 3, rng: &rng)),
            UpsampleNearest2x(),
            Conv2d(store, "up", inChannels: 5, outChannels: 2, kernelSize: 3, rng: &rng),
        ])
        checkGradients(ConcatSkip(inner), store: store, inputShape: [2, 2, 6, 4])
    }

    func testConcatSkipAroundALayerThatPassesItsGradientThrough() {
        // An empty Sequential returns the gradient it was given: the skip must not add into it.
        checkGradients(ConcatSkip(Sequential([])), inputShape: [1, 2, 3, 3])
        let x = Tensor(shape: [1, 1, 1, 2], values: [1, 2])
        let layer = ConcatSkip(Sequential([]))
        _ = layer.forward(x)
        let grad = layer.backward(Tensor(shape: [1, 2, 1, 2], values: [1, 10, 100, 1000]))
        XCTAssertEqual(grad.toArray(), [101, 1010])
    }
}

import SRCore
import XCTest

final class ConvTests: XCTestCase {
    /// (batch, inChannels, outChannels, kernel, stride, padding, height, width)
    static let geometries: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (2, 3, 4, 3, 1, 1, 5, 7),     // 3x3 same, non-square
        (2, 3, 5, 3, 2, 1, 7, 6),     // stride 2 (discriminator)
        (2, 2, 3, 9, 1, 4, 10, 11),   // 9x9 (generator head and tail)
        (3, 5, 2, 1, 1, 0, 4, 3),     // 1x1: no im2col
        (1, 2, 2, 3, 2, 0, 6, 5),     // stride 2 without padding, odd output
        (2, 4, 3, 5, 3, 2, 9, 8),     // stride 3, 5x5
        (2, 16, 3, 9, 1, 4, 7, 10),   // 9x9, 16 -> 3: output-side path (generator tail)
        (2, 16, 3, 3, 1, 1, 7, 9),    // 3x3, 16 -> 3: the narrow direct path (a 3x3 tail)
        (2, 16, 3, 5, 1, 2, 7, 9),    // 5x5, 16 -> 3: output-side path
        (1, 17, 5, 5, 1, 2, 6, 5),    // 5x5, 17 -> 5: shifted-window path, odd sizes
        (2, 16, 16, 9, 1, 4, 6, 7),   // 9x9, 16 -> 16: shifted-window path
        (2, 8, 9, 3, 1, 1, 7, 10),    // 3x3 same, 8 -> 9: Winograd, partial tiles
        (3, 9, 8, 3, 1, 1, 4, 4),     // Winograd, one tile per image
        (1, 12, 10, 3, 1, 1, 9, 5),   // Winograd, odd sizes
    ]

    private func makeConv(_ store: ParameterStore, _ g: (Int, Int, Int, Int, Int, Int, Int, Int),
                          kernel: Conv2d.Kernel, options: ConvOptions = ConvOptions()) -> Conv2d {
        var rng = SeededRandom(seed: 11)
        let conv = Conv2d(store, "conv", inChannels: g.1, outChannels: g.2, kernelSize: g.3, stride: g.4,
                          padding: g.5, rng: &rng)
        conv.kernel = kernel
        conv.options = options
        return conv
    }

    /// [y, dx, dW, db] of the fast kernels on a seeded random input and upstream gradient.
    private func forwardAndBackward(_ shape: (Int, Int, Int, Int, Int, Int, Int, Int), seed: UInt64,
                                    options: ConvOptions = ConvOptions()) -> [[Float]] {
        let store = ParameterStore()
        let conv = makeConv(store, shape, kernel: .gemm, options: options)
        var rng = SeededRandom(seed: seed)
        let run = SRCoreTests.forwardAndBackward(conv, inputShape: [shape.0, shape.1, shape.6, shape.7], &rng)
        return [run.output.toArray(), run.inputGrad.toArray(), grad(conv.weight, of: store), grad(conv.bias!, of: store)]
    }

    func testGemmConvolutionMatchesPlainLoopReference() {
        for g in Self.geometries {
            let fastStore = ParameterStore(), referenceStore = ParameterStore()
            let fast = makeConv(fastStore, g, kernel: .gemm)
            let reference = makeConv(referenceStore, g, kernel: .reference)
            var rng = SeededRandom(seed: 12)
            let input = Tensor(shape: [g.0, g.1, g.6, g.7])
            rng.fillUniform(input, -1, 1)
            let yFast = fast.forward(input), yReference = reference.forward(input)
            XCTAssertEqual(yFast.shape, yReference.shape)
            assertClose(yFast.toArray(), yReference.toArray(), absolute: 1e-5, relative: 1e-4, "forward \(g)")
            let upstream = Tensor(shape: yFast.shape)
            rng.fillUniform(upstream, -1, 1)
            let dxFast = fast.backward(upstream), dxReference = reference.backward(upstream)
            assertClose(dxFast.toArray(), dxReference.toArray(), absolute: 1e-5, relative: 1e-4, "dx \(g)")
            assertClose(grad(fast.weight, of: fastStore), grad(reference.weight, of: referenceStore),
                        absolute: 1e-4, relative: 1e-4, "dW \(g)")
            assertClose(grad(fast.bias!, of: fastStore), grad(reference.bias!, of: referenceStore),
                        absolute: 1e-4, relative: 1e-4, "db \(g)")
        }
    }

    /// Small output maps on the im2col path put several images in one product (imagesPerProduct):
    /// on one thread (no split of the batch) the grouped products match the plain loops, both
    /// ways, and groups that do not divide the batch too.
    func testImagesSideBySideMatchPlainLoopReference() {
        for g in [(4, 8, 6, 3, 2, 1, 9, 8), (5, 3, 4, 3, 2, 1, 7, 7), (3, 16, 8, 3, 2, 1, 12, 12)] {
            let geometry = ConvGeometry(batch: g.0, inChannels: g.1, inHeight: g.6, inWidth: g.7, outChannels: g.2,
                                        kernelHeight: g.3, kernelWidth: g.3, stride: g.4, padding: g.5)
            XCTAssertGreaterThan(imagesPerProduct(geometry, available: g.0), 1, "\(g) is not grouped")
            BLASThreads.withThreads(1) {
                let fast = forwardAndBackward(g, seed: 31)
                let store = ParameterStore()
                let reference = makeConv(store, g, kernel: .reference)
                var rng = SeededRandom(seed: 31)
                let run = SRCoreTests.forwardAndBackward(reference, inputShape: [g.0, g.1, g.6, g.7], &rng)
                let expected = [run.output.toArray(), run.inputGrad.toArray(), grad(reference.weight, of: store), grad(reference.bias!, of: store)]
                for (index, name) in ["forward", "dx", "dW", "db"].enumerated() {
                    assertClose(fast[index], expected[index], absolute: 1e-4, relative: 1e-4, "\(name) \(g)")
                }
            }
        }
    }

    /// The output-side path in bands of one and of three padded rows matches the plain loops, both ways.
    func testOutputSideBandsMatchPlainLoopReference() {
        for (rowsPerBand, g) in [(1, (2, 16, 3, 9, 1, 4, 7, 10)), (3, (2, 16, 3, 9, 1, 4, 7, 10)), (3, (2, 16, 3, 5, 1, 2, 7, 9))] {
            let bands = ConvOptions(outputSideBandFloats: rowsPerBand * g.3 * g.3 * g.2 * (g.7 + 2 * g.5))
            let fastStore = ParameterStore(), referenceStore = ParameterStore()
            let fast = makeConv(fastStore, g, kernel: .gemm, options: bands), reference = makeConv(referenceStore, g, kernel: .reference)
            var rng = SeededRandom(seed: 14)
            let input = Tensor(shape: [g.0, g.1, g.6, g.7])
            rng.fillUniform(input, -1, 1)
            assertClose(fast.forward(input).toArray(), reference.forward(input).toArray(), absolute: 1e-5, relative: 1e-4,
                        "forward \(g), \(rowsPerBand) rows per band")
            let upstream = Tensor(shape: [g.0, g.2, g.6, g.7])
            rng.fillUniform(upstream, -1, 1)
            assertClose(fast.backward(upstream).toArray(), reference.backward(upstream).toArray(), absolute: 1e-5, relative: 1e-4,
                        "dx \(g), \(rowsPerBand) rows per band")
            assertClose(grad(fast.weight, of: fastStore), grad(reference.weight, of: referenceStore), absolute: 1e-4, relative: 1e-4,
                        "dW \(g), \(rowsPerBand) rows per band")
            assertClose(grad(fast.bias!, of: fastStore), grad(reference.bias!, of: referenceStore), absolute: 1e-4, relative: 1e-4,
                        "db \(g), \(rowsPerBand) rows per band")
        }
    }

    func testFiniteDifferenceGradients() {
        for g in Self.geometries {
            for kernel in [Conv2d.Kernel.gemm, .reference] {
                let store = ParameterStore()
                let conv = makeConv(store, g, kernel: kernel)
                checkGradients(conv, store: store, inputShape: [g.0, g.1, g.6, g.7], maxChecks: 150)
            }
        }
    }

    /// Winograd F(4x4,3x3) against im2col on the generator body's shape, one chunk and several (of
    /// whole images and of tile rows).
    func testWinogradMatchesIm2colOnNetworkShapes() {
        let standard = ConvOptions().winogradChunkFloats
        // whole batch; 2 images per chunk; 2 of an image's 4 tile rows per chunk
        for (chunk, shape) in [(standard, (3, 64, 64, 3, 1, 1, 24, 24)), (36 * 80 * 24, (5, 32, 48, 3, 1, 1, 13, 11)),
                               (36 * 80 * 6, (2, 32, 48, 3, 1, 1, 13, 11)),
                               (standard, (2, 24, 41, 3, 1, 1, 9, 7))] {  // 984 channel pairs: a partial last block of 256
            func run(winograd: Bool) -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
                let r = forwardAndBackward(shape, seed: 21, options: ConvOptions(winograd: winograd, winogradChunkFloats: chunk))
                return (r[0], r[1], r[2], r[3])
            }
            let fast = run(winograd: true), plain = run(winograd: false)
            XCTAssertNotEqual(fast.dw, plain.dw, "\(shape): the two paths round differently, so ConvOptions.winograd took effect")
            assertClose(fast.y, plain.y, absolute: 2e-5, relative: 1e-4, "forward \(shape)")
            assertClose(fast.dx, plain.dx, absolute: 2e-5, relative: 1e-4, "dx \(shape)")
            // F(4x4,3x3)'s weight gradient sums over all tiles in the transformed domain, where
            // values are up to ~100x larger than the result: its float32 error is larger, so it is
            // measured against the largest gradient (measured: about 4e-6 of it at 64 channels).
            let scale = plain.dw.map(abs).max()!
            let worst = zip(fast.dw, plain.dw).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 3e-5 * scale, "dW \(shape): worst error \(worst) of largest \(scale)")
            print("Winograd dW \(shape): worst error \(worst / scale) of the largest gradient")
            assertClose(fast.db, plain.db, absolute: 1e-4, relative: 1e-4, "db \(shape)")
        }
    }

    /// Two threads compute what one thread computes, both ways they split the work: the batch
    /// split over the threads (each running the layer on its images, the weight gradients of
    /// the second added after: BatchSplit.swift), and one call whose kernels split their work
    /// (sgemms along C's longer side, Winograd's 36 products and transforms), on shapes large
    /// enough to be split (to rounding: OpenBLAS may block a split product's sums differently,
    /// and the batch split adds the parts' weight gradients in another order).
    func testTwoThreadsComputeWhatOneThreadComputes() {
        let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
            (4, 32, 48, 3, 1, 1, 20, 18),   // Winograd
            (4, 32, 48, 3, 2, 1, 40, 36),   // im2col, stride 2
            (2, 32, 3, 9, 1, 4, 40, 40),    // output-side 9x9
            (2, 24, 20, 9, 1, 4, 30, 30),   // shifted-window 9x9
        ]
        for shape in shapes {
            func run(threads: Int, splitBatch: Bool) -> [[Float]] {
                BLASThreads.withThreads(threads) {
                    forwardAndBackward(shape, seed: 31, options: ConvOptions(splitBatch: splitBatch))
                }
            }
            let one = run(threads: 1, splitBatch: true)
            for splitBatch in [true, false] {
                let two = run(threads: 2, splitBatch: splitBatch)
                // y and dx are per image: only a split product's blocking can change them.
                for (index, name) in [(0, "y"), (1, "dx")] {
                    assertClose(two[index], one[index], absolute: 1e-5, relative: 1e-5,
                                "\(name) \(shape), batch split \(splitBatch)")
                }
                // dW and db sum over the batch; split, the parts' sums are added in another order,
                // and on the Winograd path each sum runs over transformed tiles whose terms are
                // several times the gradient's own size. Against the tensor's scale, as the
                // Winograd-against-im2col test measures it (observed: up to 3e-6 of the largest).
                for (index, name) in [(2, "dW"), (3, "db")] {
                    let scale = one[index].map(abs).max()!
                    let worst = zip(two[index], one[index]).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 3e-5 * scale, "\(name) \(shape), batch split \(splitBatch): worst error \(worst) of largest \(scale)")
                }
            }
        }
    }

    /// A frozen layer keeps its Winograd weight transform between calls and remakes it when its
    /// store says the values changed (a model file loaded).
    func testFrozenLayerReusesItsTransformUntilTheValuesChange() {
        let frozenStore = ParameterStore(trainable: false), store = ParameterStore()
        let frozen = makeConv(frozenStore, (2, 16, 12, 3, 1, 1, 9, 9), kernel: .gemm)
        let twin = makeConv(store, (2, 16, 12, 3, 1, 1, 9, 9), kernel: .gemm)
        var rng = SeededRandom(seed: 5)
        let input = Tensor(shape: [2, 16, 9, 9])
        rng.fillUniform(input, -1, 1)
        for round in 0..<3 {
            XCTAssertEqual(frozen.forward(input).toArray(), twin.forward(input).toArray(), "round \(round)")
            if round == 1 {
                rng.fillUniform(frozenStore.value(frozen.weight), -1, 1)
                store.value(twin.weight).update(from: frozenStore.value(frozen.weight))
                frozenStore.valuesChanged()
            }
        }
    }

    func testSkippingTheInputGradientKeepsWeightGradients() {
        let store = ParameterStore()
        let conv = makeConv(store, (2, 3, 4, 3, 2, 1, 7, 6), kernel: .gemm)
        var rng = SeededRandom(seed: 3)
        let input = Tensor(shape: [2, 3, 7, 6])
        rng.fillUniform(input, -1, 1)
        let upstream = Tensor(shape: conv.forward(input).shape)
        rng.fillUniform(upstream, -1, 1)
        XCTAssertNotNil(conv.backward(upstream, needInputGrad: true))
        let withInput = grad(conv.weight, of: store)
        store.zeroGrads()
        _ = conv.forward(input)
        XCTAssertNil(conv.backward(upstream, needInputGrad: false))
        XCTAssertEqual(grad(conv.weight, of: store), withInput)
    }

    func testMatchesPyTorch() throws {
        for fixture in try Fixture("conv").cases() {
            let store = ParameterStore()
            var rng = SeededRandom(seed: 0)
            let conv = Conv2d(store, "conv", inChannels: fixture.int("in_channels"),
                              outChannels: fixture.int("out_channels"), kernelSize: fixture.int("kernel"),
                              stride: fixture.int("stride"), padding: fixture.int("padding"), rng: &rng)
            load(fixture.values("weight"), into: conv.weight, of: store)
            load(fixture.values("bias"), into: conv.bias!, of: store)
            let y = conv.forward(fixture.tensor("x"))
            XCTAssertEqual(y.shape, fixture.tensor("y").shape)
            assertClose(y.toArray(), fixture.values("y"), absolute: 2e-5, relative: 1e-4, "y")
            let dx = conv.backward(fixture.tensor("upstream"))
            assertClose(dx.toArray(), fixture.values("input_grad"), absolute: 2e-5, relative: 1e-4, "dx")
            assertClose(grad(conv.weight, of: store), fixture.values("weight_grad"), absolute: 1e-4, relative: 1e-4, "dW")
            assertClose(grad(conv.bias!, of: store), fixture.values("bias_grad"), absolute: 1e-4, relative: 1e-4, "db")
        }
    }
}

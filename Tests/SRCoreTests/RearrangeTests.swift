import CKernels
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

    /// The max-pool row kernels of every path this CPU runs against maxPool2Forward/Backward, on
    /// values with many ties and some NaNs, widths with vector tails and odd edges: a selection,
    /// so outputs and gradients must be equal (a NaN output where the reference has one).
    func testMaxPoolRowKernelsOnEveryPathMatchTheReference() {
        var rng = SeededRandom(seed: 21)
        for path in runnablePaths() {
            let kernels = table(path)
            for (height, width) in [(2, 2), (3, 3), (5, 7), (4, 34), (3, 65), (6, 97)] {
                let planes = 3, (outH, outW) = (height / 2, width / 2)
                let noise = Tensor(shape: [planes * height * width])
                rng.fillUniform(noise, 0, 1)
                // four levels, so most windows tie; every 29th value NaN
                let x: [Float] = noise.toArray().enumerated().map { i, u in i % 29 == 7 ? .nan : Float(Int(u * 4)) }
                var referenceY = [Float](repeating: 0, count: planes * outH * outW)
                var argmax = [Int32](repeating: 0, count: referenceY.count)
                maxPool2Forward(output: &referenceY, argmax: &argmax, input: x, planes: planes, height: height, width: width)
                var y = [Float](repeating: -1, count: referenceY.count), code = [UInt8](repeating: 9, count: y.count)
                // (top, out): the offsets of each output row's top input row and of the output row
                let rows = (0..<planes).flatMap { p in
                    (0..<outH).map { oh in (p * height * width + 2 * oh * width, p * outH * outW + oh * outW) }
                }
                for (top, out) in rows {
                    x.withUnsafeBufferPointer { x in
                        y.withUnsafeMutableBufferPointer { y in
                            code.withUnsafeMutableBufferPointer { code in
                                kernels.max_pool2_row(x.baseAddress! + top, x.baseAddress! + top + width, outW,
                                                      y.baseAddress! + out, code.baseAddress! + out)
                            }
                        }
                    }
                }
                for i in y.indices {
                    let same = y[i] == referenceY[i] || (y[i].isNaN && referenceY[i].isNaN)
                    XCTAssertTrue(same, "\(path) max_pool2_row \(height)x\(width) output \(i): \(y[i]) vs \(referenceY[i])")
                    let p = i / (outH * outW), oh = i % (outH * outW) / outW, ow = i % outW
                    let topLeft = p * height * width + 2 * oh * width + 2 * ow
                    let position = (Int(code[i]) >> 1) * width + (Int(code[i]) & 1)
                    XCTAssertLessThan(code[i], 4)
                    XCTAssertEqual(topLeft + position, Int(argmax[i]), "\(path) \(height)x\(width) position of output \(i)")
                }
                // backward: the rows' gradient, odd edges cleared as MaxPool2d does, against the scatter
                let dyTensor = Tensor(shape: [y.count])
                rng.fillUniform(dyTensor, -1, 1)
                let dy = dyTensor.toArray()
                var referenceDx = [Float](repeating: 0, count: x.count)
                maxPool2Backward(inputGrad: &referenceDx, outputGrad: dy, argmax: argmax, inputCount: x.count, outputCount: dy.count)
                let layer = MaxPool2d()
                _ = layer.forward(Tensor(shape: [1, planes, height, width], values: x))
                let viaLayer = layer.backward(Tensor(shape: [1, planes, outH, outW], values: dy)).toArray()
                var dx = [Float](repeating: .nan, count: x.count)
                for (top, out) in rows {
                    dy.withUnsafeBufferPointer { dy in
                        code.withUnsafeBufferPointer { code in
                            dx.withUnsafeMutableBufferPointer { dx in
                                kernels.max_pool2_row_grad(dy.baseAddress! + out, code.baseAddress! + out, outW,
                                                           dx.baseAddress! + top, dx.baseAddress! + top + width)
                            }
                        }
                    }
                }
                for i in x.indices where i % width < 2 * outW && i % (height * width) / width < 2 * outH {
                    XCTAssertEqual(dx[i], referenceDx[i], "\(path) max_pool2_row_grad \(height)x\(width) at \(i)")
                }
                // the layer (the active path, odd edges included) against the reference everywhere
                XCTAssertEqual(viaLayer, referenceDx, "MaxPool2d.backward \(height)x\(width) on \(KernelPath.active)")
            }
        }
    }

    /// PixelShuffle(2)'s row kernels on every path this CPU runs: exact interleaving and its
    /// inverse, widths with and without vector tails.
    func testInterleaveRowKernelsOnEveryPathAreExact() {
        for path in runnablePaths() {
            let kernels = table(path)
            for width in [1, 3, 8, 16, 17, 48, 67] {
                let even = (0..<width).map { Float($0) + 0.25 }, odd = (0..<width).map { -Float($0) - 0.5 }
                var out = [Float](repeating: .nan, count: 2 * width + 1)
                kernels.interleave2_row(even, odd, width, &out)
                XCTAssertEqual(Array(out.prefix(2 * width)), zip(even, odd).flatMap { [$0, $1] }, "\(path) interleave \(width)")
                XCTAssertTrue(out[2 * width].isNaN, "\(path) interleave \(width) wrote past its row")
                var backEven = [Float](repeating: .nan, count: width), backOdd = backEven
                kernels.deinterleave2_row(out, width, &backEven, &backOdd)
                XCTAssertEqual(backEven, even, "\(path) deinterleave \(width)")
                XCTAssertEqual(backOdd, odd, "\(path) deinterleave \(width)")
            }
        }
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

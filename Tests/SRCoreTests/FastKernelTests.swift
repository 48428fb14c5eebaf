// The fast non-convolution kernels against their plain reference loops: batch norm fused with
// PReLU / LeakyReLU (forward in both modes, backward with and without a statistics reducer),
// the activations, pixel shuffle, the losses and Adam. Shapes include planes that are not a
// multiple of the SIMD block and tensors large enough to be split over two threads.

import SRCore
import XCTest

/// Runs `body` once on one thread and once with two (the kernels split work above ~65k floats).
private func withEachThreadCount(_ body: () -> Void) {
    for threads in [1, 2] { BLASThreads.withThreads(threads, body) }
}

private func random(_ shape: [Int], _ rng: inout SeededRandom, _ low: Float = -1, _ high: Float = 1) -> Tensor {
    let tensor = Tensor(shape: shape)
    rng.fillUniform(tensor, low, high)
    return tensor
}

/// The reducer of two ranks holding identical batches: every sum doubles.
private let twoIdenticalRanks: StatisticsReducer = { buffer, count in
    for i in 0..<count { buffer[i] *= 2 }
}

final class FastKernelTests: XCTestCase {
    private let shapes = [[3, 5, 7, 9], [4, 8, 48, 48], [2, 3, 1, 1]]

    /// Reference: BN, then the activation, each by its plain loops.
    private func referenceForward(_ x: Tensor, gamma: Tensor, beta: Tensor, slopes: Tensor?, leaky: Float?,
                                  running: (Tensor, Tensor), reduce: StatisticsReducer?) -> (Tensor, Tensor, Tensor, Tensor) {
        let (n, c, plane) = (x.n, x.c, x.h * x.w)
        let z = Tensor(shape: x.shape), y = Tensor(shape: x.shape)
        let mean = Tensor(shape: [c]), invStd = Tensor(shape: [c])
        _ = withPointers(z, mean, invStd, x) { z, mean, invStd, x in withPointers(running.0, running.1, gamma, beta) { runningMean, runningVar, gamma, beta in
            batchNormForwardTrainingReference(output: z, mean: mean, invStd: invStd, runningMean: runningMean, runningVar: runningVar,
                                              input: x, gamma: gamma, beta: beta, batch: n, channels: c, plane: plane,
                                              eps: 1e-5, momentum: 0.1, reduce: reduce)
        } }
        if let slopes {
            withPointers(y, z, slopes) { y, z, slopes in preluForwardReference(output: y, input: z, slope: slopes, batch: n, channels: c, plane: plane) }
        } else if let leaky {
            withPointers(y, z) { y, z in leakyReLUForwardReference(output: y, input: z, count: x.count, negativeSlope: leaky) }
        } else {
            y.update(from: z)
        }
        return (y, z, mean, invStd)
    }

    func testFusedBatchNormActivationMatchesReferenceLoops() {
        var rng = SeededRandom(seed: 41)
        for shape in shapes {
            let c = shape[1]
            let x = random(shape, &rng, -2, 3), dy = random(shape, &rng)
            let gamma = random([c], &rng, 0.5, 1.5), beta = random([c], &rng, -0.5, 0.5)
            let slopes = random([c], &rng, -0.3, 0.6)
            for (kind, reduce) in [("prelu", nil), ("leaky", nil), ("identity", nil), ("prelu", twoIdenticalRanks)] as [(String, StatisticsReducer?)] { slopes.withUnsafePointer { slopePointer in
                let activation: ChannelActivation = kind == "prelu" ? .prelu(slopes: slopePointer)
                    : kind == "leaky" ? .leakyReLU(negativeSlope: 0.2) : .identity
                let what = "\(shape) \(kind)\(reduce == nil ? "" : " reduced")"
                let runningStart = (random([c], &rng, -0.1, 0.1), random([c], &rng, 0.5, 1.5))
                let referenceRunning = (runningStart.0.copy(), runningStart.1.copy())
                let (yRef, zRef, meanRef, invRef) = referenceForward(
                    x, gamma: gamma, beta: beta, slopes: kind == "prelu" ? slopes : nil, leaky: kind == "leaky" ? 0.2 : nil,
                    running: referenceRunning, reduce: reduce)
                // Reference backward: the activation's, then BN's.
                let g = Tensor(shape: shape), dxRef = Tensor(shape: shape)
                let gammaGradRef = Tensor(shape: [c]), betaGradRef = Tensor(shape: [c]), slopeGradRef = Tensor(shape: [c])
                if kind == "prelu" {
                    withPointers(g, slopeGradRef, dy, zRef) { g, slopeGradRef, dy, zRef in
                        preluBackwardReference(inputGrad: g, slopeGrad: slopeGradRef, outputGrad: dy, input: zRef,
                                               slope: slopePointer, batch: x.n, channels: c, plane: x.h * x.w)
                    }
                } else if kind == "leaky" {
                    withPointers(g, dy, zRef) { g, dy, zRef in
                        leakyReLUBackwardReference(inputGrad: g, outputGrad: dy, input: zRef, count: x.count, negativeSlope: 0.2)
                    }
                } else {
                    g.update(from: dy)
                }
                withPointers(dxRef, gammaGradRef, betaGradRef, g) { dxRef, gammaGradRef, betaGradRef, g in
                    withPointers(x, meanRef, invRef, gamma) { x, meanRef, invRef, gamma in
                        batchNormBackwardReference(inputGrad: dxRef, gammaGrad: gammaGradRef, betaGrad: betaGradRef,
                                                   outputGrad: g, input: x, mean: meanRef, invStd: invRef,
                                                   gamma: gamma, batch: shape[0], channels: c, plane: shape[2] * shape[3], batchStatistics: true,
                                                   reduce: reduce, reducedCount: reduce == nil ? nil : 2 * shape[0] * shape[2] * shape[3])
                    }
                }
                withEachThreadCount {
                    let y = Tensor(shape: shape), mean = Tensor(shape: [c]), invStd = Tensor(shape: [c])
                    let running = (runningStart.0.copy(), runningStart.1.copy())
                    let counted = withPointers(y, mean, invStd, x) { y, mean, invStd, x in
                        withPointers(running.0, running.1, gamma, beta) { runningMean, runningVar, gamma, beta in
                            batchNormForwardTraining(
                                output: y, mean: mean, invStd: invStd, runningMean: runningMean,
                                runningVar: runningVar, input: x, gamma: gamma, beta: beta, activation: activation,
                                batch: shape[0], channels: c, plane: shape[2] * shape[3], eps: 1e-5, momentum: 0.1, reduce: reduce)
                        }
                    }
                    XCTAssertEqual(counted, (reduce == nil ? 1 : 2) * x.n * x.h * x.w)
                    assertClose(y.toArray(), yRef.toArray(), absolute: 1e-5, relative: 1e-5, "\(what) y")
                    assertClose(mean.toArray(), meanRef.toArray(), absolute: 1e-6, relative: 1e-5, "\(what) mean")
                    assertClose(invStd.toArray(), invRef.toArray(), absolute: 1e-6, relative: 1e-5, "\(what) invStd")
                    assertClose(running.0.toArray(), referenceRunning.0.toArray(), absolute: 1e-6, relative: 1e-5, "\(what) running mean")
                    assertClose(running.1.toArray(), referenceRunning.1.toArray(), absolute: 1e-6, relative: 1e-5, "\(what) running var")

                    let dx = Tensor(shape: shape)
                    let gammaGrad = Tensor(shape: [c]), betaGrad = Tensor(shape: [c]), slopeGrad = Tensor(shape: [c])
                    withPointers(dx, gammaGrad, betaGrad, slopeGrad) { dx, gammaGrad, betaGrad, slopeGrad in
                        withPointers(dy, x, mean, invStd) { dy, x, mean, invStd in withPointers(gamma, beta) { gamma, beta in
                            batchNormBackward(inputGrad: dx, gammaGrad: gammaGrad, betaGrad: betaGrad,
                                              slopeGrad: slopeGrad, outputGrad: dy, input: x, mean: mean,
                                              invStd: invStd, gamma: gamma, beta: beta, activation: activation,
                                              batch: shape[0], channels: c, plane: shape[2] * shape[3], batchStatistics: true,
                                              reduce: reduce, reducedCount: counted)
                        } }
                    }
                    assertClose(dx.toArray(), dxRef.toArray(), absolute: 2e-5, relative: 1e-4, "\(what) dx")
                    assertClose(gammaGrad.toArray(), gammaGradRef.toArray(), absolute: 1e-4, relative: 1e-5, "\(what) dgamma")
                    assertClose(betaGrad.toArray(), betaGradRef.toArray(), absolute: 1e-4, relative: 1e-5, "\(what) dbeta")
                    assertClose(slopeGrad.toArray(), slopeGradRef.toArray(), absolute: 1e-4, relative: 1e-5, "\(what) dslope")
                }
            } }
        }
    }

    func testFusedBatchNormEvaluationModeMatchesReferenceLoops() {
        var rng = SeededRandom(seed: 42)
        for shape in shapes {
            let c = shape[1], plane = shape[2] * shape[3]
            let x = random(shape, &rng, -2, 2), dy = random(shape, &rng)
            let gamma = random([c], &rng, 0.5, 1.5), beta = random([c], &rng, -0.5, 0.5)
            let runningMean = random([c], &rng, -0.3, 0.3), runningVar = random([c], &rng, 0.5, 2)
            let z = Tensor(shape: shape), yRef = Tensor(shape: shape), gRef = Tensor(shape: shape), dxRef = Tensor(shape: shape)
            withPointers(z, x) { z, x in withPointers(runningMean, runningVar, gamma, beta) { runningMean, runningVar, gamma, beta in
                batchNormForwardInferenceReference(output: z, input: x, runningMean: runningMean, runningVar: runningVar,
                                                   gamma: gamma, beta: beta, batch: shape[0], channels: c, plane: plane, eps: 1e-5)
            } }
            withPointers(yRef, gRef, dy, z) { yRef, gRef, dy, z in
                leakyReLUForwardReference(output: yRef, input: z, count: x.count, negativeSlope: 0.2)
                leakyReLUBackwardReference(inputGrad: gRef, outputGrad: dy, input: z, count: x.count, negativeSlope: 0.2)
            }
            let invStd = Tensor(shape: [c])
            for i in 0..<c { invStd[i] = 1 / (runningVar[i] + 1e-5).squareRoot() }
            withPointers(dxRef, gRef, x) { dxRef, gRef, x in withPointers(runningMean, invStd, gamma) { runningMean, invStd, gamma in
                batchNormBackwardReference(inputGrad: dxRef, gammaGrad: nil, betaGrad: nil, outputGrad: gRef,
                                           input: x, mean: runningMean, invStd: invStd, gamma: gamma,
                                           batch: shape[0], channels: c, plane: plane, batchStatistics: false)
            } }
            withEachThreadCount {
                let y = Tensor(shape: shape), dx = Tensor(shape: shape)
                withPointers(y, x) { y, x in withPointers(runningMean, runningVar, gamma, beta) { runningMean, runningVar, gamma, beta in
                    batchNormForwardInference(output: y, input: x, runningMean: runningMean, runningVar: runningVar,
                                              gamma: gamma, beta: beta, activation: .leakyReLU(negativeSlope: 0.2),
                                              batch: shape[0], channels: c, plane: plane, eps: 1e-5)
                } }
                assertClose(y.toArray(), yRef.toArray(), absolute: 1e-6, relative: 1e-5, "\(shape) eval y")
                withPointers(dx, dy, x) { dx, dy, x in withPointers(runningMean, invStd, gamma, beta) { runningMean, invStd, gamma, beta in
                    batchNormBackward(inputGrad: dx, gammaGrad: nil, betaGrad: nil, outputGrad: dy, input: x,
                                      mean: runningMean, invStd: invStd, gamma: gamma, beta: beta,
                                      activation: .leakyReLU(negativeSlope: 0.2), batch: shape[0], channels: c, plane: plane,
                                      batchStatistics: false)
                } }
                assertClose(dx.toArray(), dxRef.toArray(), absolute: 1e-6, relative: 1e-5, "\(shape) eval dx")
            }
        }
    }

    func testFusedLayerGradients() {
        for (mode, shape) in [(ForwardMode.training, [3, 4, 3, 5]), (.evaluation, [2, 3, 4, 3])] {
            let parameters = ParameterStore(), buffers = ParameterStore()
            let bn = BatchNorm2d(parameters, buffers: buffers, "bn", channels: shape[1])
            let prelu = PReLU(parameters, "act", channels: shape[1])
            var rng = SeededRandom(seed: 43)
            rng.fillUniform(parameters.value(bn.gamma), 0.5, 1.5)
            rng.fillUniform(parameters.value(bn.beta), -0.5, 0.5)
            rng.fillUniform(parameters.value(prelu.slope), -0.4, 0.6)
            rng.fillUniform(buffers.value(bn.runningMean), -0.3, 0.3)
            rng.fillUniform(buffers.value(bn.runningVar), 0.5, 2)
            checkGradients(BatchNormActivation(bn, .prelu(prelu)), store: parameters, inputShape: shape, mode: mode,
                           eps: 2e-3, tolerance: 3e-3)
            checkGradients(BatchNormActivation(bn, .leakyReLU(negativeSlope: 0.2)), inputShape: shape, mode: mode,
                           eps: 2e-3, tolerance: 3e-3)
        }
    }

    func testActivationsMatchReferenceLoops() {
        var rng = SeededRandom(seed: 44)
        for shape in shapes {
            let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
            let x = random(shape, &rng), dy = random(shape, &rng), slopes = random([c], &rng, -0.3, 0.6)
            let yRef = Tensor(shape: shape), dxRef = Tensor(shape: shape), slopeGradRef = Tensor(shape: [c])
            withPointers(x, dy, slopes) { x, dy, slopes in
                withPointers(yRef, dxRef, slopeGradRef) { yRef, dxRef, slopeGradRef in
                    preluForwardReference(output: yRef, input: x, slope: slopes, batch: n, channels: c, plane: plane)
                    preluBackwardReference(inputGrad: dxRef, slopeGrad: slopeGradRef, outputGrad: dy, input: x,
                                           slope: slopes, batch: n, channels: c, plane: plane)
                }
            }
            let leakyRef = Tensor(shape: shape), leakyGradRef = Tensor(shape: shape)
            withPointers(leakyRef, leakyGradRef, x, dy) { leakyRef, leakyGradRef, x, dy in
                leakyReLUForwardReference(output: leakyRef, input: x, count: n * c * plane, negativeSlope: 0.2)
                leakyReLUBackwardReference(inputGrad: leakyGradRef, outputGrad: dy, input: x, count: n * c * plane, negativeSlope: 0.2)
            }
            withEachThreadCount {
                let y = Tensor(shape: shape), dx = Tensor(shape: shape), slopeGrad = Tensor(shape: [c])
                withPointers(y, dx, slopeGrad) { y, dx, slopeGrad in withPointers(x, dy, slopes) { x, dy, slopes in
                    preluForward(output: y, input: x, slope: slopes, batch: n, channels: c, plane: plane)
                    preluBackward(inputGrad: dx, slopeGrad: slopeGrad, outputGrad: dy, input: x,
                                  slope: slopes, batch: n, channels: c, plane: plane)
                } }
                XCTAssertEqual(y.toArray(), yRef.toArray(), "\(shape) prelu y")   // pointwise: exact
                XCTAssertEqual(dx.toArray(), dxRef.toArray(), "\(shape) prelu dx")
                assertClose(slopeGrad.toArray(), slopeGradRef.toArray(), absolute: 1e-4, relative: 1e-5, "\(shape) dslope")
                withPointers(y, dx, x, dy) { y, dx, x, dy in
                    leakyReLUForward(output: y, input: x, count: n * c * plane, negativeSlope: 0.2)
                    leakyReLUBackward(inputGrad: dx, outputGrad: dy, input: x, count: n * c * plane, negativeSlope: 0.2)
                }
                XCTAssertEqual(y.toArray(), leakyRef.toArray(), "\(shape) leaky y")
                XCTAssertEqual(dx.toArray(), leakyGradRef.toArray(), "\(shape) leaky dx")
            }
        }
    }

    func testPixelShuffleMatchesReferenceLoops() {
        var rng = SeededRandom(seed: 45)
        for (shape, factor) in [([2, 8, 5, 3], 2), ([1, 18, 4, 5], 3), ([4, 256, 12, 12], 2)] {
            let x = random(shape, &rng)
            let outShape = [shape[0], shape[1] / (factor * factor), shape[2] * factor, shape[3] * factor]
            let yRef = Tensor(shape: outShape), backRef = Tensor(shape: shape)
            withPointers(x, yRef, backRef) { x, yRef, backRef in
                pixelShuffleReference(x, yRef, batch: shape[0], outChannels: outShape[1], inHeight: shape[2],
                                      inWidth: shape[3], factor: factor, inverse: false)
                pixelShuffleReference(yRef, backRef, batch: shape[0], outChannels: outShape[1], inHeight: shape[2],
                                      inWidth: shape[3], factor: factor, inverse: true)
            }
            XCTAssertEqual(backRef.toArray(), x.toArray())
            withEachThreadCount {
                let y = Tensor(shape: outShape), back = Tensor(shape: shape)
                withPointers(x, y, back) { x, y, back in
                    pixelShuffle(x, y, batch: shape[0], outChannels: outShape[1], inHeight: shape[2],
                                 inWidth: shape[3], factor: factor, inverse: false)
                    pixelShuffle(y, back, batch: shape[0], outChannels: outShape[1], inHeight: shape[2],
                                 inWidth: shape[3], factor: factor, inverse: true)
                }
                XCTAssertEqual(y.toArray(), yRef.toArray(), "\(shape) x\(factor)")
                XCTAssertEqual(back.toArray(), x.toArray(), "\(shape) x\(factor) inverse")
            }
        }
    }

    func testLossesMatchReferenceLoops() {
        var rng = SeededRandom(seed: 46)
        for shape in [[2, 3, 5, 7], [16, 3, 96, 96]] {
            let prediction = random(shape, &rng), target = random(shape, &rng)
            target[0] = prediction[0]  // a zero difference: L1's gradient is 0 there
            let gradRef = Tensor(shape: shape)
            let mseRef = Loss.mseReference(prediction: prediction, target: target, grad: gradRef, gradScale: 0.5)
            let l1GradRef = Tensor(shape: shape)
            let l1Ref = Loss.l1Reference(prediction: prediction, target: target, grad: l1GradRef, gradScale: 0.5)
            withEachThreadCount {
                let grad = Tensor(shape: shape)
                let mse = Loss.mse(prediction: prediction, target: target, grad: grad, gradScale: 0.5)
                XCTAssertEqual(mse, mseRef, accuracy: 1e-6 * mseRef)
                XCTAssertEqual(grad.toArray(), gradRef.toArray(), "\(shape) mse grad")
                let l1 = Loss.l1(prediction: prediction, target: target, grad: grad, gradScale: 0.5)
                XCTAssertEqual(l1, l1Ref, accuracy: 1e-6 * l1Ref)
                XCTAssertEqual(grad.toArray(), l1GradRef.toArray(), "\(shape) l1 grad")
                XCTAssertEqual(Loss.mse(prediction: prediction, target: target, grad: nil), mse)  // without a gradient
            }
        }
    }

    /// Adam over a network memory of one parameter `count` floats long, values from `start`.
    private func adamMemory(_ count: Int, start: Tensor, settings: AdamSettings = AdamSettings()) -> (ParameterStore, Adam) {
        let store = ParameterStore()
        let slot = store.register("p", shape: [count])
        load(start.toArray(), into: slot, of: store)
        let memory = NetworkMemory(parameters: store)
        memory.prepareForTraining(keepsPrevious: false)
        return (store, Adam(memory: memory, settings: settings))
    }

    func testAdamMatchesItsReferenceLoop() {
        var rng = SeededRandom(seed: 47)
        let count = 100_003   // a tail after the blocks of 8, and large enough to split
        for decay in [0.0, 0.01] {
            let settings = AdamSettings(weightDecay: decay)
            let start = random([count], &rng)
            let (store, fast) = adamMemory(count, start: start, settings: settings)
            let (referenceStore, reference) = adamMemory(count, start: start, settings: settings)
            withEachThreadCount {
                for step in 0..<3 {
                    let grads = random([count], &rng, -Float(step + 1), Float(step + 1)).toArray()
                    for adam in [fast, reference] { adam.memory.withGradients { _ = $0.update(fromContentsOf: grads) } }
                    fast.update(learningRate: 1e-3)
                    reference.updateReference(learningRate: 1e-3)
                }
            }
            XCTAssertEqual(fast.step, reference.step)
            let values = store.value(store.layout[0]).toArray(), referenceValues = referenceStore.value(referenceStore.layout[0]).toArray()
            assertClose(values, referenceValues, absolute: 0, relative: 1.2e-7, "values, decay \(decay)")
            let (fastMoments, referenceMoments) = (fast.memory.withMoments { [Array($0), Array($1)] },
                                                   reference.memory.withMoments { [Array($0), Array($1)] })
            assertClose(fastMoments[0], referenceMoments[0], absolute: 0, relative: 1.2e-7, "m")
            XCTAssertEqual(fastMoments[1], referenceMoments[1], "v")
        }
    }

    func testAdamGivesTheSameBitsForAnyThreadCount() {
        var rng = SeededRandom(seed: 48)
        let count = 200_005, grads = random([count], &rng).toArray(), start = random([count], &rng)
        var results: [[Float]] = []
        for threads in [1, 2] { BLASThreads.withThreads(threads) {
            let (store, adam) = adamMemory(count, start: start)
            for _ in 0..<3 {
                adam.memory.withGradients { _ = $0.update(fromContentsOf: grads) }
                adam.update(learningRate: 1e-3)
            }
            results.append(store.value(store.layout[0]).toArray())
        } }
        XCTAssertEqual(results[0], results[1])
    }

    func testAllFiniteFindsOneBadValueAnywhere() {
        let values = Tensor(shape: [200_001])
        XCTAssertTrue(values.withUnsafePointer { allFinite($0, count: values.count) })
        for (index, bad) in [(0, Float.nan), (123_457, .infinity), (200_000, -.infinity)] {
            values[index] = bad
            withEachThreadCount { XCTAssertFalse(values.withUnsafePointer { allFinite($0, count: values.count) }, "\(bad) at \(index)") }
            values[index] = 0
        }
    }
}

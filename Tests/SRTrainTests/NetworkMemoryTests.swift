// Each network's one allocation (NetworkMemory): the stores, the gradients and the moments are
// slices of it at the layout's offsets, the moves keep every value, and the step's undo is a
// flip of D's banks that leaves D exactly as it was.

import SRCore
import SRModels
import SRTrain
import XCTest

/// Fails with the number of differing values and the first one, not two whole arrays.
private func assertSameBits(_ a: [Float], _ b: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    guard a.count == b.count else { return XCTFail("\(message): \(a.count) values vs \(b.count)", file: file, line: line) }
    let differing = a.indices.filter { a[$0].bitPattern != b[$0].bitPattern }
    if let first = differing.first {
        XCTFail("\(message): \(differing.count) of \(a.count) values differ, the first at \(first): \(a[first]) vs \(b[first])", file: file, line: line)
    }
}

final class NetworkMemoryTests: XCTestCase {
    /// Where a store's slot starts, as an offset from `base`, in floats.
    private func offset(of tensor: Tensor, from base: UnsafeMutablePointer<Float>) -> Int {
        tensor.withUnsafePointer { UnsafePointer(base).distance(to: $0) }
    }

    func testStoresGradientsAndMomentsAreSlicesOfOneAllocation() {
        let discriminator = Discriminator(DiscriminatorConfig(patchSize: 32, baseChannels: 4, hidden: 16), seed: 1)
        let p = discriminator.parameters.count, s = discriminator.buffers.count
        XCTAssertGreaterThan(s, 0, "the discriminator has batch norms")
        let memory = discriminator.memory
        XCTAssertEqual(memory.layout.totalCount, p + (p + s), "gradients, then values and statistics")
        let before = memory.withModel { Array($0) }

        let step = SRGANStep(model: SuperResolver(Generator(GeneratorConfig(channels: 8, residualBlocks: 1), seed: 1), globalSkip: false),
                             discriminator: discriminator, contentLoss: try! ContentLoss(.mse, vggWeights: nil))
        XCTAssertEqual(memory.layout.totalCount, p + 2 * (3 * p + s), "gradients, then two banks of values, statistics and moments")
        XCTAssertEqual(step.generator.memory.layout.totalCount, 4 * step.generator.parameters.count + step.generator.buffers.count,
                       "G keeps no spare bank")
        XCTAssertEqual(memory.withModel { Array($0) }, before, "preparing for training keeps every value and statistic")

        memory.withLiveBank { bank in
            let base = bank.baseAddress!
            let last = discriminator.parameters.layout.last!, lastStatistic = discriminator.buffers.layout.last!
            XCTAssertEqual(offset(of: discriminator.parameters.value(last), from: base), last.offset)
            XCTAssertEqual(offset(of: discriminator.buffers.value(lastStatistic), from: base), p + lastStatistic.offset)
            memory.withMoments { first, second in
                XCTAssertEqual(UnsafePointer(base).distance(to: first.baseAddress!), p + s)
                XCTAssertEqual(UnsafePointer(base).distance(to: second.baseAddress!), 2 * p + s)
            }
            memory.withGradients { grads in
                XCTAssertEqual(offset(of: discriminator.parameters.grad(last), from: grads.baseAddress!), last.offset)
                XCTAssertEqual(grads.baseAddress!.distance(to: base), p, "the banks follow the gradients")
            }
        }
    }

    /// A G update that is skipped undoes D's update of the same step: D's values, moments and
    /// running statistics come back bit for bit (the banks flip back), and the next good step
    /// goes on from there as if the bad one had not happened.
    func testASkippedGeneratorUpdateLeavesTheDiscriminatorExactlyAsItWas() {
        func makeStep() -> SRGANStep {
            let generator = Generator(GeneratorConfig(channels: 8, residualBlocks: 1, scale: 2), seed: 3)
            let discriminator = Discriminator(DiscriminatorConfig(patchSize: 16, baseChannels: 4, hidden: 8), seed: 4)
            return SRGANStep(model: SuperResolver(generator, globalSkip: false), discriminator: discriminator,
                             contentLoss: try! ContentLoss(.mse, vggWeights: nil))
        }
        var rng = SeededRandom(seed: 5)
        let lr = Tensor(shape: [2, 3, 8, 8]), hr = Tensor(shape: [2, 3, 16, 16])
        rng.fillUniform(lr, -1, 1)
        rng.fillUniform(hr, -1, 1)
        let faulty = makeStep(), clean = makeStep()
        func discriminatorState(_ step: SRGANStep) -> [Float] {
            step.discriminator!.memory.withLiveBank { Array($0) }
        }
        for step in [faulty, clean] {
            _ = step.gan(lr: lr, hr: hr, generatorLearningRate: 1e-3, discriminatorLearningRate: 1e-3)
        }
        let before = discriminatorState(faulty)
        assertSameBits(before, discriminatorState(clean), "two steps built alike")
        faulty.injectFault = { store, network in if network == "generator" { store.withGradients { $0[0] = .nan } } }
        let skipped = faulty.gan(lr: lr, hr: hr, generatorLearningRate: 1e-3, discriminatorLearningRate: 1e-3)
        XCTAssertTrue(skipped.skipped)
        XCTAssertEqual(skipped.faultNetwork, "generator")
        assertSameBits(discriminatorState(faulty), before, "D's values, statistics and moments after the undo")
        XCTAssertEqual(faulty.discriminatorOptimizer!.step, clean.discriminatorOptimizer!.step)

        faulty.injectFault = nil
        for step in [faulty, clean] {
            let result = step.gan(lr: lr, hr: hr, generatorLearningRate: 1e-3, discriminatorLearningRate: 1e-3)
            XCTAssertFalse(result.skipped)
        }
        assertSameBits(discriminatorState(faulty), discriminatorState(clean), "D: the next step as if the bad one had not happened")
        assertSameBits(faulty.generator.memory.withLiveBank { Array($0) }, clean.generator.memory.withLiveBank { Array($0) }, "G likewise")
        XCTAssertNotEqual(discriminatorState(clean), before, "the good steps moved D")
    }
}

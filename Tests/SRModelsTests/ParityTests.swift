// Whole networks against PyTorch: the reference modules in Fixtures/reference_models.py, with the
// weights, inputs, outputs and gradients that Fixtures/make_model_fixtures.py recorded.

import Foundation
import SRCore
import SRModels
import XCTest

final class ParityTests: XCTestCase {
    /// Loads `name`.safetensors strictly into `network` and replays `name`_io.safetensors:
    /// training mode (batch statistics), then evaluation mode (running statistics).
    private func checkParity(_ network: Network, _ name: String, trainable: Bool = true,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let state = try SafetensorsFile(path: fixturePath("\(name).safetensors"))
        // The names are PyTorch's: the file holds exactly this network's state_dict.
        XCTAssertEqual(Set(state.entries.map(\.name)), Set(network.stateDictNames), file: file, line: line)
        try network.load(from: state, strict: true)
        let io = try SafetensorsFile(path: fixturePath("\(name)_io.safetensors"))
        let input = try io.tensor("input"), upstream = try io.tensor("upstream")

        for (mode, prefix) in [(ForwardMode.training, "train"), (.evaluation, "eval")] {
            network.parameters.zeroGrads()
            let output = network.forward(input, mode: mode)
            XCTAssertEqual(output.shape, upstream.shape, file: file, line: line)
            assertRelativeClose(output.toArray(), try io.floats("\(prefix).output"), 1e-4, "\(name) \(prefix) output", file: file, line: line)
            var loss = 0.0
            for i in 0..<output.count { loss += Double(output[i]) * Double(upstream[i]) }
            XCTAssertEqual(loss, Double(try io.floats("\(prefix).loss")[0]), accuracy: 1e-4 * max(1, abs(loss)), file: file, line: line)
            let inputGrad = network.backward(upstream, needInputGrad: true)!
            assertRelativeClose(inputGrad.toArray(), try io.floats("\(prefix).input_grad"), 1e-4, "\(name) \(prefix) input grad",
                                file: file, line: line)
            if trainable {
                for slot in network.parameters.layout {
                    assertRelativeClose(network.parameters.grad(slot).toArray(), try io.floats("\(prefix).grad.\(slot.name)"),
                                        1e-4, "\(name) \(prefix) grad \(slot.name)", file: file, line: line)
                }
            } else {
                // Frozen: there is no gradient memory at all, so none can have been computed.
                XCTAssertFalse(network.parameters.trainable, file: file, line: line)
                XCTAssertFalse(network.parameters.accumulatesGradients, file: file, line: line)
            }
            if mode == .training {
                for slot in network.buffers.layout {
                    assertRelativeClose(network.buffers.value(slot).toArray(), try io.floats("train.after.\(slot.name)"),
                                        1e-5, "\(name) running statistic \(slot.name)", file: file, line: line)
                }
                for bn in network.batchNorms { XCTAssertEqual(bn.numBatchesTracked, 4, file: file, line: line) }
            }
        }
    }

    func testGeneratorMatchesPyTorch() throws {
        try checkParity(Generator(GeneratorConfig(channels: 16, residualBlocks: 2, scale: 4), seed: 1), "generator")
    }

    func testResidualInResidualGeneratorMatchesPyTorch() throws {
        try checkParity(Generator(GeneratorConfig(channels: 8, residualBlocks: 2, residualGroups: 2, scale: 2), seed: 1),
                        "generator_rir")
    }

    func testGeneratorWithoutBatchNormMatchesPyTorch() throws {
        try checkParity(Generator(GeneratorConfig(channels: 8, residualBlocks: 2, scale: 2, batchNorm: false), seed: 1),
                        "generator_nobn")
    }

    func testGeneratorWithA3x3TailMatchesPyTorch() throws {
        try checkParity(Generator(GeneratorConfig(channels: 8, residualBlocks: 1, scale: 4, tailKernel: 3), seed: 1),
                        "generator_tail3")
    }

    func testColorizingUNetMatchesPyTorch() throws {
        try checkParity(UNetColorizer(ColorizerConfig(baseChannels: 4, depth: 3, outputChannels: 3), seed: 1), "unet")
    }

    private func colorizeConfig(colorizerOutputs: Int, scale: Int, tailKernel: Int) -> GeneratorConfig {
        var config = GeneratorConfig(channels: 8, residualBlocks: 1, scale: scale, tailKernel: tailKernel)
        config.kind = .colorize
        config.colorizer = ColorizerConfig(baseChannels: 4, depth: 3, outputChannels: colorizerOutputs)
        return config
    }

    func testColorizingGeneratorMatchesPyTorch() throws {
        try checkParity(Generator(colorizeConfig(colorizerOutputs: 3, scale: 4, tailKernel: 3), seed: 1), "colorize_generator")
    }

    func testUnbottleneckedColorizingGeneratorMatchesPyTorch() throws {
        try checkParity(Generator(colorizeConfig(colorizerOutputs: 8, scale: 2, tailKernel: 9), seed: 1), "colorize_generator_wide")
    }

    func testDiscriminatorMatchesPyTorch() throws {
        try checkParity(Discriminator(DiscriminatorConfig(patchSize: 32, baseChannels: 8, hidden: 32), seed: 1), "discriminator")
    }

    func testVGG19FeaturesMatchPyTorchAndComputeNoWeightGradients() throws {
        let phi54 = VGG19Features(layer: .phi54, widthDivisor: 16)
        XCTAssertEqual(phi54.lastFeatureIndex, 35)
        try checkParity(phi54, "vgg54", trainable: false)
        let phi22 = VGG19Features(layer: .phi22, widthDivisor: 16)
        XCTAssertEqual(phi22.lastFeatureIndex, 8)
        try checkParity(phi22, "vgg22", trainable: false)
    }

    /// Full-size (paper) networks have exactly PyTorch's state_dict names and shapes.
    func testPaperSizeNetworksHavePyTorchNamesAndShapes() throws {
        let url = URL(fileURLWithPath: fixturePath("paper_shapes.json"))
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [String: [Int]]]
        let networks: [(String, Network)] = [
            ("generator", Generator(GeneratorConfig(), seed: 1)),
            ("generator_rir", Generator(GeneratorConfig(residualBlocks: 3, residualGroups: 6), seed: 1)),
            ("discriminator", Discriminator(DiscriminatorConfig(), seed: 1)),
            ("vgg54", VGG19Features(layer: .phi54)),
            ("vgg22", VGG19Features(layer: .phi22)),
            ("colorize", Generator({ var config = GeneratorConfig(); config.kind = .colorize; return config }(), seed: 1)),
        ]
        for (name, network) in networks {
            var mine: [String: [Int]] = [:]
            for store in [network.parameters, network.buffers] {
                for slot in store.layout { mine[slot.name] = slot.shape }
            }
            for bn in network.batchNorms { mine["\(bn.name).num_batches_tracked"] = [] }
            XCTAssertEqual(mine, reference[name]!, name)
        }
    }

    func testInitialisationIsSeededAndFollowsPyTorchBounds() {
        let config = GeneratorConfig(channels: 8, residualBlocks: 1, scale: 2)
        let a = Generator(config, seed: 42), b = Generator(config, seed: 42), c = Generator(config, seed: 43)
        let values = { (g: Generator) in g.parameters.withValues { Array($0) } }
        XCTAssertEqual(values(a), values(b))
        XCTAssertNotEqual(values(a), values(c))
        let head = a.parameters.slot(named: "head.weight")!
        let bound = 1 / Float(3 * 81).squareRoot()
        let weights = a.parameters.value(head).toArray()
        XCTAssertTrue(weights.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(weights.map(abs).max()!, 0.9 * bound)  // uniform over the whole range
    }
}

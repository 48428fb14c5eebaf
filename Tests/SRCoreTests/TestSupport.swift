// Shared test helpers: finite-difference gradient checks, fixture loading, comparisons.

import Foundation
import SRCore
import XCTest

/// Central-difference gradient check of `layer` for the scalar loss L = sum(y * r), r random.
/// Compares dL/dx (and, when `store` is given, dL/dparameter for every parameter) with
/// (L(v + eps) - L(v - eps)) / (2 eps), the loss summed in double. `makeInput` lets a test keep
/// inputs away from kinks (ReLU at 0, ties in max pooling).
func checkGradients(
    _ layer: Layer, store: ParameterStore? = nil, inputShape: [Int], mode: ForwardMode = .training,
    eps: Float = 5e-3, tolerance: Float = 2e-3, seed: UInt64 = 7, maxChecks: Int = 400,
    makeInput: ((inout SeededRandom, Tensor) -> Void)? = nil,
    file: StaticString = #filePath, line: UInt = #line
) {
    var rng = SeededRandom(seed: seed)
    let input = Tensor(shape: inputShape)
    if let makeInput { makeInput(&rng, input) } else { rng.fillUniform(input, -1, 1) }
    let firstOutput = layer.forward(input, mode: mode)
    let weights = Tensor(shape: firstOutput.shape)
    rng.fillUniform(weights, -1, 1)

    func loss() -> Double {
        let y = layer.forward(input, mode: mode)
        var sum = 0.0
        for i in 0..<y.count { sum += Double(y[i]) * Double(weights[i]) }
        return sum
    }

    store?.zeroGrads()
    _ = layer.forward(input, mode: mode)
    let inputGrad = layer.backward(weights, needInputGrad: true)!
    XCTAssertEqual(inputGrad.shape, inputShape, "input gradient shape", file: file, line: line)

    func numeric(_ pointer: UnsafeMutablePointer<Float>) -> Float {
        let saved = pointer.pointee
        pointer.pointee = saved + eps
        let plus = loss()
        pointer.pointee = saved - eps
        let minus = loss()
        pointer.pointee = saved
        return Float((plus - minus) / (2 * Double(eps)))
    }

    func compare(_ what: String, count: Int, pointer: UnsafeMutablePointer<Float>, analytic: UnsafePointer<Float>) {
        var indices = Array(0..<count)
        if count > maxChecks {
            indices.shuffle(using: &rng)
            indices = Array(indices.prefix(maxChecks))
        }
        var largest: Float = 0
        var failures = 0
        for i in indices {
            let expected = numeric(pointer + i)
            largest = max(largest, abs(expected))
            if abs(analytic[i] - expected) > tolerance * (1 + abs(expected)) {
                failures += 1
                if failures <= 3 {
                    XCTFail("\(what)[\(i)]: analytic \(analytic[i]) vs numeric \(expected)", file: file, line: line)
                }
            }
        }
        // A check where every gradient is ~0 proves nothing: insist on a real signal.
        XCTAssertGreaterThan(largest, 1e-2, "\(what): all numeric gradients are ~0", file: file, line: line)
    }

    withPointers(input, inputGrad) { x, dx in compare("dL/dinput", count: input.count, pointer: x, analytic: dx) }
    if let store {
        // Snapshot analytic parameter gradients: the numeric passes run forward only.
        let grads = store.withGradients { Array($0) }
        grads.withUnsafeBufferPointer { analytic in
            store.withValues { values in
                for slot in store.layout {
                    compare("dL/d\(slot.name)", count: slot.count, pointer: values.baseAddress! + slot.offset,
                            analytic: analytic.baseAddress! + slot.offset)
                }
            }
        }
    }
}

/// Asserts |actual - expected| <= absolute + relative * |expected| element-wise.
func assertClose(_ actual: [Float], _ expected: [Float], absolute: Float = 1e-5, relative: Float = 1e-5,
                 _ what: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    var failures = 0
    for i in 0..<min(actual.count, expected.count) {
        if !(abs(actual[i] - expected[i]) <= absolute + relative * abs(expected[i])) {
            failures += 1
            if failures <= 3 {
                XCTFail("\(what)[\(i)]: \(actual[i]) vs expected \(expected[i])", file: file, line: line)
            }
        }
    }
}

/// A JSON fixture written by Fixtures/make_fixtures.py.
struct Fixture {
    let object: [String: Any]

    init(_ name: String) throws {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw NSError(domain: "fixture", code: 1, userInfo: [NSLocalizedDescriptionKey: "missing \(name).json"])
        }
        object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    init(object: [String: Any]) { self.object = object }

    func tensor(_ key: String) -> Tensor { Fixture.tensor(object[key]!) }

    func values(_ key: String) -> [Float] { tensor(key).toArray() }

    func double(_ key: String) -> Double { (object[key] as! NSNumber).doubleValue }

    func int(_ key: String) -> Int { (object[key] as! NSNumber).intValue }

    func cases(_ key: String = "cases") -> [Fixture] {
        (object[key] as! [[String: Any]]).map { Fixture(object: $0) }
    }

    func child(_ key: String) -> Fixture { Fixture(object: object[key] as! [String: Any]) }

    static func tensor(_ any: Any) -> Tensor {
        let dictionary = any as! [String: Any]
        let shape = (dictionary["shape"] as! [NSNumber]).map { $0.intValue }
        let values = (dictionary["values"] as! [NSNumber]).map { $0.floatValue }
        return Tensor(shape: shape, values: values)
    }
}

/// Copies `values` into the parameter slot.
func load(_ values: [Float], into slot: ParameterSlot, of store: ParameterStore) {
    precondition(values.count == slot.count, "\(values.count) values for \(slot.name)")
    store.withValues { target in for (i, v) in values.enumerated() { target[slot.offset + i] = v } }
}

func grad(_ slot: ParameterSlot, of store: ParameterStore) -> [Float] {
    store.withGradients { Array($0[slot.offset..<(slot.offset + slot.count)]) }
}

/// A layer's forward on a random input in [-1, 1) of `shape` and its backward from a random
/// upstream gradient of the output's shape, both drawn from `rng` in that order.
func forwardAndBackward(_ layer: Layer, inputShape shape: [Int], _ rng: inout SeededRandom)
    -> (input: Tensor, output: Tensor, upstream: Tensor, inputGrad: Tensor)
{
    let input = Tensor(shape: shape)
    rng.fillUniform(input, -1, 1)
    let output = layer.forward(input)
    let upstream = Tensor(shape: output.shape)
    rng.fillUniform(upstream, -1, 1)
    return (input, output, upstream, layer.backward(upstream))
}

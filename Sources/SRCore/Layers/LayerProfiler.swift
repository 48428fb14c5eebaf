// An opt-in stopwatch per layer. Inside `LayerProfiler.profiling(p) { ... }`, every Sequential times the
// forward and backward calls of its leaf layers (containers, Sequential and Residual, are walked
// through, so nothing is counted twice) and adds them up here, keyed by the network being run
// (Network sets `scope`) and a label naming the layer kind and its output shape. Callers add
// what happens outside the layers (all-reduce, data, validation) with `record` or `time`.
// Off (nil, the default), Sequential pays one load and one compare per call.

import Foundation

public final class LayerProfiler {
    public struct Entry: Sendable {
        public let scope: String
        public let label: String
        public var calls = 0
        public var forwardSeconds = 0.0
        public var backwardSeconds = 0.0
        public var totalSeconds: Double { forwardSeconds + backwardSeconds }
    }

    /// The profiler Sequential reports to; nil: profiling off. A task-local value: set for the
    /// duration of `profiling`, on the thread (or task) that calls it, and seen by nothing else.
    @TaskLocal public static var active: LayerProfiler?

    /// Runs `body` with `profiler` as `active` (nil: profiling paused inside `body`).
    public static func profiling<Result>(_ profiler: LayerProfiler?, _ body: () throws -> Result) rethrows -> Result {
        try $active.withValue(profiler, operation: body)
    }

    /// Which network the layers being timed belong to ("Generator", "Discriminator", ...).
    public var scope = ""
    /// In the order first seen.
    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]

    public init() {}

    public func reset() {
        entries = []
        index = [:]
    }

    /// Adds `seconds` under (scope, label): `backward` picks the column.
    public func record(_ label: String, seconds: Double, backward: Bool = false, scope: String? = nil, calls: Int = 1) {
        let scope = scope ?? self.scope
        let key = scope + "\u{1}" + label
        if index[key] == nil {
            index[key] = entries.count
            entries.append(Entry(scope: scope, label: label))
        }
        let i = index[key]!
        entries[i].calls += calls
        if backward { entries[i].backwardSeconds += seconds } else { entries[i].forwardSeconds += seconds }
    }

    /// Runs `body`, recording its wall time under `label` (an all-reduce, a data load, a validation).
    public func time<T>(_ label: String, scope: String? = nil, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { record(label, seconds: Self.seconds(since: start), scope: scope) }
        return try body()
    }

    /// Runs `body` with `scope` set (a network's forward or backward).
    public func within<T>(_ scope: String, _ body: () throws -> T) rethrows -> T {
        let outer = self.scope
        self.scope = scope
        defer { self.scope = outer }
        return try body()
    }

    func forward(_ layer: Layer, _ input: Tensor, mode: ForwardMode) -> Tensor {
        if layer is Sequential || layer is Residual { return layer.forward(input, mode: mode) }
        let start = DispatchTime.now().uptimeNanoseconds
        let output = layer.forward(input, mode: mode)
        record(Self.label(layer, output.shape), seconds: Self.seconds(since: start))
        return output
    }

    func backward(_ layer: Layer, _ outputGrad: Tensor, needInputGrad: Bool) -> Tensor? {
        if layer is Sequential || layer is Residual { return layer.backward(outputGrad, needInputGrad: needInputGrad) }
        let start = DispatchTime.now().uptimeNanoseconds
        let inputGrad = layer.backward(outputGrad, needInputGrad: needInputGrad)
        record(Self.label(layer, outputGrad.shape), seconds: Self.seconds(since: start), backward: true, calls: 0)
        return inputGrad
    }

    /// "Conv2d 3x3 64->64 /2 -> 48x48", "BatchNorm2d -> 64x24x24", "Linear 18432->1024".
    static func label(_ layer: Layer, _ outputShape: [Int]) -> String {
        let spatial = outputShape.count == 4 ? "\(outputShape[2])x\(outputShape[3])" : ""
        switch layer {
        case let conv as Conv2d:
            return "Conv2d \(conv.kernelSize)x\(conv.kernelSize) \(conv.inChannels)->\(conv.outChannels)"
                + (conv.stride > 1 ? " /\(conv.stride)" : "") + " -> \(spatial)"
        case let dense as Linear:
            return "Linear \(dense.inFeatures)->\(dense.outFeatures)"
        default:
            let kind = String(describing: type(of: layer))
            return outputShape.count == 4 ? "\(kind) -> \(outputShape[1])x\(spatial)" : kind
        }
    }

    static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

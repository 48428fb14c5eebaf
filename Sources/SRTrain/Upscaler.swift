// Super-resolution of an image of any size with bounded memory: the LR image is cut into tiles
// of `tile` x `tile` pixels; each is run through the generator with `overlap` pixels of context
// on every side (clamped at the image's edges) plus a blend band, and neighbouring tiles are
// cross-faded over `blend` LR pixels (linear weights that sum to one).
//
// Why the result equals the untiled one: the generator in inference mode is convolutions,
// affine batch norm, PReLU and pixel shuffles, so an output pixel depends only on LR pixels
// within its receptive radius (`receptiveRadius`, 40 LR pixels for the paper's SRResNet). With
// overlap >= that radius every tile computes exactly the pixels the whole image would, and the
// cross-fade mixes equal values: tiled and untiled differ only by float rounding (different GEMM
// shapes sum in different orders). A smaller overlap trades exactness for speed; the cross-fade
// then hides the seams. The global bicubic skip, when on, is added after the cross-fade, band by
// band with the whole image's taps (the same values as one whole-image resize), and the output
// range mapped, both by the model's own code (SRModels/GlobalSkip.swift); so an untiled upscale
// computes what SuperResolver's whole-image call does.
//
// The result is streamed: tiles run a band (a row of tiles) at a time, their cross-faded outputs
// are summed in a window of one band plus the blend, and each band's finished rows go to the
// caller (`upscale` writes them straight into the PNG) before the next band starts; the values
// equal the whole-image assembly (UpscalerReference.swift) bit for bit.
//
// Memory (`memoryEstimate`): the decoded input (12 bytes per LR pixel, 18 while it is decoded),
// twice one tile's activations (freed ones are kept for reuse), one being about (tile + 2 (overlap + blend))^2 x scale^2 x channels x 4 bytes x 5
// (the widest layers' inputs, outputs and convolution scratch; `peakBytesEstimate`), and the
// window: (tile + 2 blend) x scale rows of the output, 40 bytes per pixel (+16 with the global
// skip), PNG samples included. Before streaming, the whole output was assembled: 16 bytes per
// output pixel whatever the tile (a 7000x7000 input: 12.5 GB). Measured then with the paper's
// generator on a 512x384 input (one thread): peak RSS 0.99 GB at tile 96, 1.66 GB at tile 192.

import Foundation
import SRCore
import SRData
import SRModels

public final class Upscaler {
    public let model: TrainedModel
    /// LR pixels per tile side (0: the whole image at once).
    public var tile: Int
    /// LR pixels of context on each side of a tile.
    public var overlap: Int
    /// LR pixels over which neighbouring tiles are cross-faded.
    public var blend: Int

    public init(model: TrainedModel, tile: Int = 192, overlap: Int? = nil, blend: Int = 4) {
        self.model = model
        self.tile = tile
        self.overlap = overlap ?? Self.receptiveRadius(model.generator.config)
        self.blend = blend
    }

    /// LR pixels an output pixel of `config`'s generator can see, on each side.
    public static func receptiveRadius(_ config: GeneratorConfig) -> Int {
        let blocks = config.residualBlocks * max(config.residualGroups, 1)
        var radius = 4.0 + 2.0 * Double(blocks) + 1  // head 9x9, two 3x3 per block, body conv
        var factor = 1.0, level = config.scale
        while level > 1 {
            radius += 1 / factor  // the 3x3 conv of each upsampler, at its own resolution
            factor *= 2
            level /= 2
        }
        radius += Double(config.tailKernel / 2) / Double(config.scale)  // the tail (9x9 in the paper) at HR resolution
        return Int(radius.rounded(.up))
    }

    /// Bytes one tile's activations take at the widest layers (calibrated on measured peaks).
    public var peakBytesEstimate: Int {
        let side = (tile == 0 ? 4096 : tile) + 2 * (overlap + blend)
        let c = model.generator.config.channels, s = model.scale
        return 5 * 4 * c * side * side * s * s
    }

    /// Bytes an upscale of a `width` x `height` image holds at its peak, in parts (named for the
    /// message when they cannot be allocated).
    public func memoryEstimate(width: Int, height: Int) -> (total: Int, parts: [(name: String, bytes: Int)]) {
        let s = model.scale, outWidth = width * s
        let margin = overlap + blend
        let sideX = min((tile == 0 ? width : tile) + 2 * margin, width), sideY = min((tile == 0 ? height : tile) + 2 * margin, height)
        // Twice one tile's: freed activations are kept for reuse (TensorMemory), for the interior
        // tiles' size and the edge tiles' sizes alike.
        let activations = 2 * 5 * 4 * model.generator.config.channels * sideX * sideY * s * s
        let window = windowRows(height: height) * outWidth
        let parts: [(name: String, bytes: Int)] = [("the decoded input", 18 * width * height),
                     ("tile activations", activations),
                     ("the output window", window * (40 + (model.globalSkip ? 16 : 0)))]
        return (parts.reduce(0) { $0 + $1.bytes }, parts)
    }

    /// The tiles of an image `width` x `height`: core rectangles (x, y, w, h) in LR pixels.
    public func tiles(width: Int, height: Int) -> [(x: Int, y: Int, w: Int, h: Int)] {
        guard tile > 0 else { return [(0, 0, width, height)] }
        var out: [(Int, Int, Int, Int)] = []
        for y in stride(from: 0, to: height, by: tile) {
            for x in stride(from: 0, to: width, by: tile) { out.append((x, y, min(tile, width - x), min(tile, height - y))) }
        }
        return out
    }

    /// The SR image of `lr` (values in [0,1]), whole; `progress(done, total)` after each tile.
    public func upscale(_ lr: PlanarImage, progress: ((Int, Int) -> Void)? = nil) -> PlanarImage {
        let outWidth = lr.width * model.scale, outPlane = outWidth * lr.height * model.scale
        var values = [Float](repeating: 0, count: 3 * outPlane)
        var row = 0
        upscaleInBands(lr, progress: progress) { band, rows in
            for c in 0..<3 {
                values.withUnsafeMutableBufferPointer { target in
                    (target.baseAddress! + c * outPlane + row * outWidth).update(from: band.baseAddress! + c * rows * outWidth, count: rows * outWidth)
                }
            }
            row += rows
        }
        return PlanarImage(width: outWidth, height: lr.height * model.scale, values: values, isGray: lr.isGray, bitDepth: lr.bitDepth)
    }

    /// LR rows per band of tiles (the whole image when untiled).
    func bandRows(height: Int) -> Int { tile == 0 ? height : tile }

    /// HR rows the accumulation window holds: a band of tiles plus the blend on both sides.
    func windowRows(height: Int) -> Int { min((bandRows(height: height) + 2 * blend) * model.scale, height * model.scale) }

    /// The SR image of `lr`, streamed: `emit(band, rows)` receives the finished rows top to bottom,
    /// a band at a time, as (3, rows, width x scale) values in [0,1]; `progress(done, total)`
    /// after each tile. Only a window of one band of tiles (plus the blend) is held, never the
    /// whole result; the values equal `upscaleWhole`'s bit for bit (the same sums in the same order).
    public func upscaleInBands(_ lr: PlanarImage, progress: ((Int, Int) -> Void)? = nil,
                               emit: (UnsafeBufferPointer<Float>, Int) throws -> Void) rethrows {
        precondition(tile == 0 || tile >= 2 * blend, "tiles of at least twice the blend (\(2 * blend) LR pixels)")
        let s = model.scale, width = lr.width, height = lr.height
        let outWidth = width * s, outHeight = height * s
        let plan = tiles(width: width, height: height)
        let step = bandRows(height: height), capacity = windowRows(height: height)
        let windowPlane = capacity * outWidth
        var sum = [Float](repeating: 0, count: 3 * windowPlane)   // (3, capacity, outWidth), rows from windowStart
        var weights = [Float](repeating: 0, count: windowPlane)
        var band = [Float](repeating: 0, count: 3 * windowPlane)  // the finished rows, (3, rows, outWidth)
        let globalSkip = model.superResolver.skip
        var skip = [Float](repeating: 0, count: globalSkip == nil ? 0 : 3 * windowPlane)
        var scratch = [Float](repeating: 0, count: globalSkip == nil ? 0 : capacity * width)
        let margin = overlap + blend
        var windowStart = 0, done = 0
        for bandY in stride(from: 0, to: height, by: step) {
            for core in plan where core.y == bandY {
                accumulate(lr, core: core, margin: margin, windowStart: windowStart, capacity: capacity, sum: &sum, weights: &weights)
                done += 1
                progress?(done, plan.count)
            }
            // Final: every row above the next band's first written row.
            let finalEnd = bandY + step >= height ? outHeight : (bandY + step - blend) * s
            let rows = finalEnd - windowStart, plane = rows * outWidth
            if let globalSkip {
                lr.values.withUnsafeBufferPointer { input in
                    skip.withUnsafeMutableBufferPointer { output in
                        scratch.withUnsafeMutableBufferPointer {
                            globalSkip.bicubicRows(input.baseAddress!, height: height, width: width, rows: windowStart..<finalEnd,
                                                   output.baseAddress!, scratch: $0.baseAddress!)
                        }
                    }
                }
            }
            for c in 0..<3 {
                for i in 0..<plane { band[c * plane + i] = sum[c * windowPlane + i] / weights[i] }
            }
            band.withUnsafeMutableBufferPointer { values in
                skip.withUnsafeBufferPointer { OutputRange.toImage(values.baseAddress!, count: 3 * plane, bicubic: globalSkip == nil ? nil : $0.baseAddress!) }
            }
            try band.withUnsafeBufferPointer { try emit(UnsafeBufferPointer(rebasing: $0[0..<(3 * plane)]), rows) }
            // The rows the next band adds to move to the window's top; the rest is cleared.
            let kept = min((bandY + step + blend) * s, outHeight) - finalEnd
            for c in 0..<3 {
                let base = c * windowPlane
                for i in 0..<(kept * outWidth) { sum[base + i] = sum[base + plane + i] }
                for i in (kept * outWidth)..<windowPlane { sum[base + i] = 0 }
            }
            for i in 0..<(kept * outWidth) { weights[i] = weights[plane + i] }
            for i in (kept * outWidth)..<windowPlane { weights[i] = 0 }
            windowStart = finalEnd
        }
    }

    /// Runs the generator on one tile (core + margin, clamped to the image) and adds its
    /// cross-faded output into the window (`sum` (3, capacity, W*s), `weights` (capacity, W*s)).
    func accumulate(_ lr: PlanarImage, core: (x: Int, y: Int, w: Int, h: Int), margin: Int, windowStart: Int, capacity: Int,
                    sum: inout [Float], weights: inout [Float]) {
        let s = model.scale, width = lr.width, height = lr.height, outWidth = width * s
        let x0 = max(core.x - margin, 0), y0 = max(core.y - margin, 0)
        let x1 = min(core.x + core.w + margin, width), y1 = min(core.y + core.h + margin, height)
        let w = x1 - x0, h = y1 - y0
        let input = Tensor(shape: [1, 3, h, w])
        lr.values.withUnsafeBufferPointer { source in input.withUnsafeMutablePointer { tile in
            for c in 0..<3 {
                for row in 0..<h {
                    (tile + (c * h + row) * w).update(from: source.baseAddress! + c * width * height + (y0 + row) * width + x0, count: w)
                }
            }
        } }
        let output = model.generator.forward(input, mode: .inference)  // (1, 3, h*s, w*s) in [-1,1]
        // The region this tile writes: core + blend on sides with a neighbour; linear ramps there.
        // (Weights are normalised by their sum at the end, so clamping at the edges is harmless.)
        let bx0 = max(core.x - blend, 0), by0 = max(core.y - blend, 0)
        let bx1 = min(core.x + core.w + blend, width), by1 = min(core.y + core.h + blend, height)
        let ow = w * s, windowPlane = capacity * outWidth
        output.withUnsafePointer { srTile in
            for oy in (by0 * s)..<(by1 * s) {
                let wy = Self.ramp(Float(oy) + 0.5, low: Float(by0 * s), high: Float(by1 * s),
                                   fadeIn: core.y == 0 ? 0 : Float(2 * blend * s), fadeOut: core.y + core.h == height ? 0 : Float(2 * blend * s))
                for ox in (bx0 * s)..<(bx1 * s) {
                    let wx = Self.ramp(Float(ox) + 0.5, low: Float(bx0 * s), high: Float(bx1 * s),
                                       fadeIn: core.x == 0 ? 0 : Float(2 * blend * s), fadeOut: core.x + core.w == width ? 0 : Float(2 * blend * s))
                    let weight = wx * wy
                    let target = (oy - windowStart) * outWidth + ox
                    let local = (oy - y0 * s) * ow + (ox - x0 * s)
                    weights[target] += weight
                    for c in 0..<3 { sum[c * windowPlane + target] += weight * srTile[c * h * s * ow + local] }
                }
            }
        }
    }

    /// 0 -> 1 over `fadeIn` from `low`, 1 -> 0 over `fadeOut` up to `high`, 1 between.
    static func ramp(_ x: Float, low: Float, high: Float, fadeIn: Float, fadeOut: Float) -> Float {
        var weight: Float = 1
        if fadeIn > 0 { weight = min(weight, (x - low) / fadeIn) }
        if fadeOut > 0 { weight = min(weight, (high - x) / fadeOut) }
        return max(weight, 0)
    }
}

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
// then hides the seams. The global bicubic skip, when on, is computed on the whole image.
//
// Memory: one tile's activations, about (tile + 2 (overlap + blend))^2 x scale^2 x channels x 4
// bytes x 5 (the widest layers' inputs, outputs and convolution scratch; `peakBytesEstimate`),
// plus the output image being assembled: 16 bytes per output pixel (28 with the global skip),
// whatever the tile size. Measured with the paper's generator on a 512x384 input (one thread):
// peak RSS 0.99 GB at tile 96, 1.66 GB at tile 192 (1.16x the untiled time), 4.7 GB untiled.

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

    /// The tiles of an image `width` x `height`: core rectangles (x, y, w, h) in LR pixels.
    public func tiles(width: Int, height: Int) -> [(x: Int, y: Int, w: Int, h: Int)] {
        guard tile > 0 else { return [(0, 0, width, height)] }
        var out: [(Int, Int, Int, Int)] = []
        for y in stride(from: 0, to: height, by: tile) {
            for x in stride(from: 0, to: width, by: tile) { out.append((x, y, min(tile, width - x), min(tile, height - y))) }
        }
        return out
    }

    /// The SR image of `lr` (values in [0,1]); `progress(done, total)` after each tile.
    public func upscale(_ lr: PlanarImage, progress: ((Int, Int) -> Void)? = nil) -> PlanarImage {
        let s = model.scale, width = lr.width, height = lr.height
        let outWidth = width * s, outHeight = height * s, outPlane = outWidth * outHeight
        var sum = [Float](repeating: 0, count: 3 * outPlane)
        var weights = [Float](repeating: 0, count: outPlane)
        let plan = tiles(width: width, height: height)
        let margin = overlap + blend
        for (index, core) in plan.enumerated() {
            // The input region: core + margin, clamped to the image.
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
            let ow = w * s
            output.withUnsafePointer { srTile in
                for oy in (by0 * s)..<(by1 * s) {
                    let wy = Self.ramp(Float(oy) + 0.5, low: Float(by0 * s), high: Float(by1 * s),
                                       fadeIn: core.y == 0 ? 0 : Float(2 * blend * s), fadeOut: core.y + core.h == height ? 0 : Float(2 * blend * s))
                    for ox in (bx0 * s)..<(bx1 * s) {
                        let wx = Self.ramp(Float(ox) + 0.5, low: Float(bx0 * s), high: Float(bx1 * s),
                                           fadeIn: core.x == 0 ? 0 : Float(2 * blend * s), fadeOut: core.x + core.w == width ? 0 : Float(2 * blend * s))
                        let weight = wx * wy
                        let target = oy * outWidth + ox
                        let local = (oy - y0 * s) * ow + (ox - x0 * s)
                        weights[target] += weight
                        for c in 0..<3 { sum[c * outPlane + target] += weight * srTile[c * h * s * ow + local] }
                    }
                }
            }
            progress?(index + 1, plan.count)
        }
        let skip: [Float]? = model.globalSkip
            ? BicubicResizer(inHeight: height, inWidth: width, scale: Double(s)).resize(lr.values, channels: 3) : nil
        for i in 0..<outPlane {
            for c in 0..<3 {
                var value = sum[c * outPlane + i] / weights[i]
                if let skip { value += 2 * skip[c * outPlane + i] - 1 }
                sum[c * outPlane + i] = (value + 1) * 0.5
            }
        }
        return PlanarImage(width: outWidth, height: outHeight, values: sum, isGray: lr.isGray, bitDepth: lr.bitDepth)
    }

    /// 0 -> 1 over `fadeIn` from `low`, 1 -> 0 over `fadeOut` up to `high`, 1 between.
    static func ramp(_ x: Float, low: Float, high: Float, fadeIn: Float, fadeOut: Float) -> Float {
        var weight: Float = 1
        if fadeIn > 0 { weight = min(weight, (x - low) / fadeIn) }
        if fadeOut > 0 { weight = min(weight, (high - x) / fadeOut) }
        return max(weight, 0)
    }
}

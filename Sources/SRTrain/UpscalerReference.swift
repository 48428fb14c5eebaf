// The reference for the streamed upscale (Upscaler.swift): the same tiles and cross-fade with the
// whole result assembled in memory (16 bytes per output pixel, 28 with the global skip). Kept as
// the plain version the streamed one is tested against, bit for bit (UpscalerTests).

import Foundation
import SRCore
import SRData
import SRModels

extension Upscaler {
    /// The SR image of `lr` (values in [0,1]), every tile accumulated into whole-image buffers.
    public func upscaleWhole(_ lr: PlanarImage, progress: ((Int, Int) -> Void)? = nil) -> PlanarImage {
        let s = model.scale, width = lr.width, height = lr.height
        let outWidth = width * s, outHeight = height * s, outPlane = outWidth * outHeight
        var sum = [Float](repeating: 0, count: 3 * outPlane)
        var weights = [Float](repeating: 0, count: outPlane)
        let plan = tiles(width: width, height: height)
        for (index, core) in plan.enumerated() {
            accumulate(lr, core: core, margin: overlap + blend, windowStart: 0, capacity: outHeight, sum: &sum, weights: &weights)
            progress?(index + 1, plan.count)
        }
        for i in 0..<outPlane {
            for c in 0..<3 { sum[c * outPlane + i] /= weights[i] }
        }
        var skip = [Float](repeating: 0, count: model.globalSkip ? 3 * outPlane : 0)
        if let globalSkip = model.superResolver.skip {
            var scratch = [Float](repeating: 0, count: outHeight * width)
            lr.values.withUnsafeBufferPointer { input in
                skip.withUnsafeMutableBufferPointer { output in
                    scratch.withUnsafeMutableBufferPointer {
                        globalSkip.bicubicRows(input.baseAddress!, height: height, width: width, rows: 0..<outHeight, output.baseAddress!,
                                               scratch: $0.baseAddress!)
                    }
                }
            }
        }
        sum.withUnsafeMutableBufferPointer { values in
            skip.withUnsafeBufferPointer { OutputRange.toImage(values.baseAddress!, count: 3 * outPlane, bicubic: model.globalSkip ? $0.baseAddress! : nil) }
        }
        return PlanarImage(width: outWidth, height: outHeight, values: sum, isGray: lr.isGray, bitDepth: lr.bitDepth)
    }
}

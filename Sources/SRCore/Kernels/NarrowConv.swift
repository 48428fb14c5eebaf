// 3x3 "same" stride-1 convolutions with at most 4 output channels, computed directly on a padded
// copy of each image by the active path's kernels (CKernels narrow_body.h): the tiny preset's 3x3
// tail, 32 -> 3 channels at the output resolution. There the output-side product has 27 rows and
// im2col's 3, and sgemm ran them at 50 GFLOP/s on one thread of a 200 GFLOP/s core (AMD EPYC
// family 26 model 2, 2026-12-03). fp32 only: under bf16 the products stay on the bf16 paths.

import CKernels

public func usesNarrowDirect(_ g: ConvGeometry, _ options: ConvOptions) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding == 1
        && g.outChannels <= 4 && g.inChannels >= 8 && options.precision == .fp32
}

/// The padding of `channels` planes of g's input size (border 1).
private func padding(_ g: ConvGeometry, channels: Int) -> SamePadding {
    SamePadding(channels: channels, height: g.inHeight, width: g.inWidth, border: 1)
}

/// A zeroed buffer for one padded image, released after `body`; the border stays zero.
private func withPaddedBuffer(_ padding: SamePadding, _ body: (UnsafeMutablePointer<Float>) -> Void) {
    let count = padding.paddedCount
    let buffer = TensorMemory.allocate(count)
    defer { TensorMemory.release(buffer, count: count) }
    buffer.update(repeating: 0, count: count)
    body(buffer)
}

/// output (N,OC,H,W) = conv3x3(input (N,C,H,W), weight (OC,C,3,3)) + bias; an image's rows are
/// split over the kernel threads when they are worth it. `path`: the ISA path's kernels (tests
/// run each path the CPU runs; the layers use the active one).
public func narrowConvForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>?, _ g: ConvGeometry, path: ISAPath = KernelPath.active) {
    let kernels = path.kernels.pointee
    let pad = padding(g, channels: g.inChannels), pw = pad.paddedWidth
    let imageWork = Int(g.forwardFlops / Double(max(g.batch, 1)) / 2)
    withPaddedBuffer(pad) { padded in
        for n in 0..<g.batch {
            pad.pad(input + n * g.inChannels * g.inPlane, into: padded)
            let out = output + n * g.outChannels * g.outPlane
            forEachRange(g.outHeight, work: imageWork) { rows in
                kernels.conv3x3_narrow_forward(padded + rows.lowerBound * pw, pad.paddedPlane, pw, g.inChannels, rows.count,
                                               g.outWidth, weight, g.outChannels, bias, out + rows.lowerBound * g.outWidth,
                                               g.outPlane)
            }
        }
    }
}

/// Given outputGrad (N,OC,H,W): weightGrad += dL/dW, biasGrad += dL/db, inputGrad = dL/dx
/// (overwritten); each skipped when nil.
public func narrowConvBackward(inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
                        biasGrad: UnsafeMutablePointer<Float>?, outputGrad: UnsafePointer<Float>,
                        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry,
                        path: ISAPath = KernelPath.active) {
    let kernels = path.kernels.pointee
    if let biasGrad { addBiasGradient(outputGrad, g, into: biasGrad) }
    let imageWork = Int(g.forwardFlops / Double(max(g.batch, 1)) / 2)
    if let inputGrad {
        let pad = padding(g, channels: g.outChannels), pw = pad.paddedWidth
        withPaddedBuffer(pad) { paddedGrad in
            for n in 0..<g.batch {
                pad.pad(outputGrad + n * g.outChannels * g.outPlane, into: paddedGrad)
                let dx = inputGrad + n * g.inChannels * g.inPlane
                forEachRange(g.inHeight, work: imageWork) { rows in
                    kernels.conv3x3_narrow_input_grad(paddedGrad + rows.lowerBound * pw, pad.paddedPlane, pw, g.outChannels,
                                                      rows.count, g.inWidth, weight, g.inChannels,
                                                      dx + rows.lowerBound * g.inWidth, g.inPlane)
                }
            }
        }
    }
    if let weightGrad {
        let pad = padding(g, channels: g.inChannels)
        withPaddedBuffer(pad) { padded in
            for n in 0..<g.batch {
                pad.pad(input + n * g.inChannels * g.inPlane, into: padded)
                kernels.conv3x3_narrow_weight_grad(padded, pad.paddedPlane, pad.paddedWidth, g.inChannels, g.outHeight,
                                                   g.outWidth, outputGrad + n * g.outChannels * g.outPlane, g.outPlane,
                                                   g.outChannels, weightGrad)
            }
        }
    }
}

// FLOP counts of the benchmarked work, from the layer geometry alone (no pass is run): the
// forward FLOPs of a network are 2 x the multiply-adds of its convolutions
// (ConvGeometry.forwardFlops) and dense layers; element-wise layers (BN, activations, pixel
// shuffle, pooling, residual adds) are not counted, as is usual.
//
// A step's FLOPs from the forward FLOPs F of each network on one sample (backward of a
// convolution = weight gradient + input gradient = 2F; 1F when only one of them is computed):
//   SRResNet step: G forward + backward                                    = 3 F_G
//   SRGAN step:    G forward (F_G); D step: D on HR and on SR, forward and
//                  weight + input gradients (2 x 3 F_D); G step: D forward on SR and its input
//                  gradient only (2 F_D), VGG on HR and SR and the input gradient on SR (3 F_V),
//                  G backward (2 F_G)                                      = 3 F_G + 8 F_D + 3 F_V
// (The first layer of each network needs no input gradient; that small excess is ignored.)

import SRCore
import SRModels

enum BenchFlops {
    /// Forward FLOPs of `layer` on an input of `shape`, and the output shape.
    static func forward(_ layer: Layer, _ shape: [Int]) -> (flops: Double, shape: [Int]) {
        switch layer {
        case let network as Network:
            return forward(network.root, shape)
        case let sequence as Sequential:
            return sequence.layers.reduce((0, shape)) { sum, next in
                let step = forward(next, sum.1)
                return (sum.0 + step.flops, step.shape)
            }
        case let residual as Residual:
            return forward(residual.inner, shape)
        case let conv as Conv2d:
            let g = ConvGeometry(batch: shape[0], inChannels: shape[1], inHeight: shape[2], inWidth: shape[3],
                                 outChannels: conv.outChannels, kernelHeight: conv.kernelSize, kernelWidth: conv.kernelSize,
                                 stride: conv.stride, padding: conv.padding)
            return (g.forwardFlops, [shape[0], conv.outChannels, g.outHeight, g.outWidth])
        case let dense as Linear:
            return (2 * Double(shape[0] * dense.inFeatures * dense.outFeatures), [shape[0], dense.outFeatures])
        case let shuffle as PixelShuffle:
            let r = shuffle.factor
            return (0, [shape[0], shape[1] / (r * r), shape[2] * r, shape[3] * r])
        case is MaxPool2d:
            return (0, [shape[0], shape[1], shape[2] / 2, shape[3] / 2])
        case is Flatten:
            return (0, [shape[0], shape.dropFirst().reduce(1, *)])
        default:  // element-wise: the shape is kept
            return (0, shape)
        }
    }

    /// FLOPs of one training step per sample of `patch` x `patch` HR pixels (formulas above).
    static func stepPerSample(phase: BenchPhase, patch: Int, generator: Generator,
                              discriminator: Discriminator?, vgg: VGG19Features?) -> Double {
        let scale = generator.config.scale
        let g = forward(generator, [1, 3, patch / scale, patch / scale]).flops
        guard phase == .gan, let discriminator, let vgg else { return 3 * g }
        let d = forward(discriminator, [1, 3, patch, patch]).flops
        let v = forward(vgg, [1, 3, patch, patch]).flops
        return 3 * g + 8 * d + 3 * v
    }
}

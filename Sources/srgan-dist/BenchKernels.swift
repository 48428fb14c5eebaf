// `srgan-dist bench kernels`: forward and backward time of the convolution shapes SRGAN runs,
// next to raw sgemm measured in the same run, for each requested BLAS thread count.

import ArgumentParser
import Foundation
import SRCore

struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time the convolution kernels against raw sgemm on SRGAN's shapes.")

    @Option(help: "Images per batch (the paper trains with 16).")
    var batch = 16

    @Option(help: "Comma-separated BLAS thread counts to measure.")
    var threads = "1,2"

    @Option(help: "Timed repetitions per measurement (the median is reported).")
    var repeats = 3

    @Option(help: "Side of the square matrices of the raw sgemm measurement.")
    var gemmSize = 2048

    @Option(help: "Only the shapes whose name contains this text.")
    var only: String?

    @Flag(inversion: .prefixedNo, help: "Also time each 3x3 shape by im2col + sgemm (the path before Winograd).")
    var im2col = true

    func validate() throws {
        guard batch >= 1, repeats >= 1, gemmSize >= 64 else {
            throw ValidationError("--batch and --repeats must be at least 1 and --gemm-size at least 64")
        }
        guard threadCounts != nil else {
            throw ValidationError("--threads must be a comma-separated list of positive integers, e.g. 1,2")
        }
    }

    var threadCounts: [Int]? {
        let counts = threads.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return counts.map { $0! }
    }

    /// (name, inChannels, outChannels, kernel, map side)
    static let shapes: [(String, Int, Int, Int, Int)] = [
        ("conv3x3 64->64 on 24x24 (generator body)", 64, 64, 3, 24),
        ("conv3x3 64->64 on 48x48 (discriminator)", 64, 64, 3, 48),
        ("conv3x3 64->256 on 24x24 (upsampler)", 64, 256, 3, 24),
        ("conv3x3 64->256 on 48x48 (second upsampler)", 64, 256, 3, 48),
        ("conv3x3 128->128 on 48x48 (VGG19 block 2)", 128, 128, 3, 48),
        ("conv3x3 512->512 on 12x12 (VGG19 block 4)", 512, 512, 3, 12),
        ("conv3x3 32->32 on 12x12 (tiny preset body)", 32, 32, 3, 12),
        ("conv3x3 32->128 on 12x12 (tiny preset upsampler)", 32, 128, 3, 12),
        ("conv3x3 32->128 on 24x24 (tiny preset second upsampler)", 32, 128, 3, 24),
        ("conv3x3 32->3 on 48x48 (tiny preset output, direct)", 32, 3, 3, 48),
        ("conv9x9 64->3 on 96x96 (generator output)", 64, 3, 9, 96),
    ]

    func run() throws {
        let date = ISO8601DateFormatter().string(from: Date())
        print("srgan-dist bench kernels, \(date), batch \(batch), median of \(repeats)")
        print("| threads | kernel | forward ms | forward GFLOP/s | backward ms | backward GFLOP/s | vs sgemm |")
        print("|---|---|---|---|---|---|---|")
        for threadCount in threadCounts! { BLASThreads.withThreads(threadCount) {
            let gemmRate = SGEMMRate.measure(size: gemmSize, repeats: repeats)
            print("| \(threadCount) | sgemm \(gemmSize)x\(gemmSize)x\(gemmSize) | | \(format(gemmRate)) | | | 1.00 |")
            for (name, inChannels, outChannels, kernel, side) in Self.shapes where only.map({ name.contains($0) }) ?? true {
                for plain in (kernel == 3 && outChannels >= 8 && im2col ? [false, true] : [false]) {
                    let (forwardMs, backwardMs, flops) = measureConv(
                        inChannels: inChannels, outChannels: outChannels, kernel: kernel, side: side,
                        options: ConvOptions(winograd: !plain))
                    // Rates count the direct convolution's FLOPs, so faster algorithms show as more GFLOP/s.
                    let forwardRate = flops / forwardMs / 1e6
                    let backwardRate = 2 * flops / backwardMs / 1e6
                    let path = kernel == 3 && outChannels >= 8 ? (plain ? ", im2col" : ", Winograd") : ""
                    print("| \(threadCount) | \(name)\(path) | \(format(forwardMs)) | \(format(forwardRate)) | "
                          + "\(format(backwardMs)) | \(format(backwardRate)) | "
                          + "\(String(format: "%.2f", max(forwardRate, backwardRate) / gemmRate)) |")
                }
            }
        } }
        print("backward = weight, bias and input gradients (2x the forward FLOPs); GFLOP/s count the direct "
              + "convolution's FLOPs (Winograd does fewer); 'vs sgemm' = the faster direction's GFLOP/s over raw sgemm's")
    }

    /// Three significant digits at least: the tiny preset's layers take well under 0.1 ms.
    private func format(_ value: Double) -> String { String(format: value < 1 ? "%.3f" : "%.1f", value) }

    private static func median(_ samples: [Double]) -> Double { samples.sorted()[samples.count / 2] }

    private static func milliseconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    /// Median forward and backward milliseconds, and the forward FLOPs.
    private func measureConv(inChannels: Int, outChannels: Int, kernel: Int, side: Int, options: ConvOptions)
        -> (Double, Double, Double)
    {
        var rng = SeededRandom(seed: 2)
        let store = ParameterStore()
        let conv = Conv2d(store, "conv", inChannels: inChannels, outChannels: outChannels,
                          kernelSize: kernel, rng: &rng)
        conv.options = options
        let input = Tensor(shape: [batch, inChannels, side, side])
        rng.fillUniform(input, -1, 1)
        var output = conv.forward(input)  // warm-up
        let outputGrad = Tensor(shape: output.shape)
        rng.fillUniform(outputGrad, -1, 1)
        _ = conv.backward(outputGrad)
        let forwardMs = Self.median((0..<repeats).map { _ in Self.milliseconds { output = conv.forward(input) } })
        let backwardMs = Self.median((0..<repeats).map { _ in Self.milliseconds { _ = conv.backward(outputGrad) } })
        return (forwardMs, backwardMs, conv.geometry(for: input).forwardFlops)
    }
}

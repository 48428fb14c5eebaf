// Every ISA path of Sources/CKernels that this CPU runs, against the plain references of
// WinogradTileReference.swift, and the path choice (SRGAN_DIST_ISA). Paths the CPU cannot run
// are named in the log as not covered here: the same tests cover them on a CPU that has them.
//
// Error bound of a tile transform: each output is a sum of at most 36 products of a float input
// with small integer coefficients (exact), added in some order with or without fused
// multiply-adds; with unit roundoff u = 2^-24 its error is at most gamma_n * (|B^T| |d| |B|),
// gamma_n = n u / (1 - n u), n = 12 (two 6-term sums in sequence). Copies are exact.

import CKernels
import SRCore
import XCTest

private let unitRoundoff = 0x1p-24
private func gamma(_ n: Int) -> Double { Double(n) * unitRoundoff / (1 - Double(n) * unitRoundoff) }

func runnablePaths() -> [ISAPath] {
    let paths = ISAPath.allCases.filter { CPU.current.runs($0) }
    let skipped = ISAPath.allCases.filter { !CPU.current.runs($0) }
    if !skipped.isEmpty {
        print("KernelPathTests: \(CPU.current.summary) cannot run \(skipped.map(\.description).joined(separator: ", ")); not covered on this CPU")
    }
    return paths
}

func table(_ path: ISAPath) -> sr_kernels { sr_kernels_for(sr_isa(rawValue: UInt32(path.rawValue)))!.pointee }

private func randomBuffer(_ count: Int, _ rng: inout SeededRandom) -> [Float] {
    let t = Tensor(shape: [count])
    rng.fillUniform(t, -3, 3)
    return t.toArray()
}

/// |fast - reference| <= gamma(12) * bound + the smallest normal, elementwise.
private func assertWithinBound(_ fast: [Float], _ reference: [Float], _ bound: [Float], _ what: String,
                               file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(fast.count, reference.count)
    var worst = 0.0
    for i in fast.indices {
        let error = abs(Double(fast[i]) - Double(reference[i]))
        let allowed = gamma(12) * Double(bound[i]) + Double(Float.leastNormalMagnitude)
        worst = max(worst, error / allowed)
        if error > allowed {
            XCTFail("\(what): element \(i) is \(fast[i]), reference \(reference[i]), bound \(allowed)", file: file, line: line)
            return
        }
    }
    XCTAssertLessThanOrEqual(worst, 1, what, file: file, line: line)
}

final class KernelPathTests: XCTestCase {
    // channels: one vector of each width and tails (1, 5, 17), the networks' 64 and 67
    private let channelCounts = [1, 5, 8, 16, 17, 64, 67]

    func testWinogradInputTileOnEveryPath() {
        var rng = SeededRandom(seed: 11)
        for path in runnablePaths() {
            let kernels = table(path)
            for channels in channelCounts {
                // the tile inside a wider channels-last image (row stride 9 pixels), V planes of 3 tiles
                let rowStride = 9 * channels, plane = 3 * channels
                let image = randomBuffer(6 * rowStride, &rng)
                var fast = [Float](repeating: .nan, count: 36 * plane), reference = fast, bound = fast
                var scratch = [Float](repeating: .nan, count: 36 * channels)
                kernels.winograd_input_tile(image, rowStride, channels, &fast[channels], plane, &scratch)
                image.withUnsafeBufferPointer { d in
                    winogradInputTileReference(d.baseAddress!, rowStride: rowStride, channels: channels,
                                               v: &reference[channels], bound: &bound[channels], plane: plane)
                }
                let written = (0..<36).flatMap { xi in (xi * plane + channels)..<(xi * plane + 2 * channels) }
                assertWithinBound(written.map { fast[$0] }, written.map { reference[$0] }, written.map { bound[$0] },
                                  "\(path) input tile, \(channels) channels")
                // nothing outside the tile's slots was written
                let inside = Set(written)
                XCTAssertTrue(fast.indices.filter { !inside.contains($0) }.allSatisfy { fast[$0].isNaN }, "\(path) input tile wrote outside")
            }
        }
    }

    func testWinogradOutputTileOnEveryPath() {
        var rng = SeededRandom(seed: 12)
        for path in runnablePaths() {
            let kernels = table(path)
            for channels in channelCounts {
                let plane = 2 * channels, rowStride = 7 * channels
                let m = randomBuffer(36 * plane, &rng)
                var fast = [Float](repeating: .nan, count: 4 * rowStride), reference = fast, bound = fast
                var scratch = [Float](repeating: .nan, count: 24 * channels)
                kernels.winograd_output_tile(m, plane, channels, &fast, rowStride, &scratch)
                m.withUnsafeBufferPointer { source in
                    winogradOutputTileReference(source.baseAddress!, plane: plane, channels: channels,
                                                y: &reference, bound: &bound, rowStride: rowStride)
                }
                let written = (0..<4).flatMap { p in (p * rowStride)..<(p * rowStride + 4 * channels) }
                assertWithinBound(written.map { fast[$0] }, written.map { reference[$0] }, written.map { bound[$0] },
                                  "\(path) output tile, \(channels) channels")
            }
        }
    }

    func testWinogradOutputGradTileOnEveryPath() {
        var rng = SeededRandom(seed: 13)
        for path in runnablePaths() {
            let kernels = table(path)
            for channels in channelCounts {
                let rowStride = 5 * channels, plane = 2 * channels
                let y = randomBuffer(4 * rowStride, &rng)
                var fast = [Float](repeating: .nan, count: 36 * plane), reference = fast, bound = fast
                var scratch = [Float](repeating: .nan, count: 24 * channels)
                kernels.winograd_output_grad_tile(y, rowStride, channels, &fast, plane, &scratch)
                y.withUnsafeBufferPointer { source in
                    winogradOutputGradTileReference(source.baseAddress!, rowStride: rowStride, channels: channels,
                                                    dm: &reference, bound: &bound, plane: plane)
                }
                let written = (0..<36).flatMap { xi in (xi * plane)..<(xi * plane + channels) }
                assertWithinBound(written.map { fast[$0] }, written.map { reference[$0] }, written.map { bound[$0] },
                                  "\(path) output-gradient tile, \(channels) channels")
            }
        }
    }

    func testLayoutCopiesOnEveryPathAreExact() {
        var rng = SeededRandom(seed: 14)
        for path in runnablePaths() {
            let kernels = table(path)
            for (width, channels) in [(1, 1), (5, 3), (17, 8), (33, 64), (40, 67)] {
                let planeStride = width + 3
                let planes = randomBuffer(channels * planeStride, &rng), bias = randomBuffer(channels, &rng)
                var last = [Float](repeating: .nan, count: width * channels)
                kernels.planes_to_channels_last(planes, planeStride, width, channels, &last)
                for x in 0..<width {
                    for c in 0..<channels where last[x * channels + c] != planes[c * planeStride + x] {
                        return XCTFail("\(path) planes_to_channels_last (\(width), \(channels)) at x \(x) c \(c)")
                    }
                }
                for withBias in [false, true] {
                    var back = [Float](repeating: .nan, count: channels * planeStride)
                    bias.withUnsafeBufferPointer { b in
                        kernels.channels_last_to_planes(last, width, channels, withBias ? b.baseAddress : nil, &back, planeStride)
                    }
                    for c in 0..<channels {
                        for x in 0..<width {
                            let expected = planes[c * planeStride + x] + (withBias ? bias[c] : 0)
                            XCTAssertEqual(back[c * planeStride + x], expected, "\(path) channels_last_to_planes at c \(c) x \(x)")
                        }
                        // the plane's padding is left alone
                        XCTAssertTrue(back[(c * planeStride + width)..<((c + 1) * planeStride)].allSatisfy(\.isNaN))
                    }
                }
            }
        }
    }

    /// small_gemm against a double-precision product: |c - ab| <= gamma_k (|a| |b|) (+ |c0| with
    /// accumulate), over shapes with row and column tails and leading dimensions past the width.
    func testSmallGemmOnEveryPath() {
        var rng = SeededRandom(seed: 15)
        for path in runnablePaths() {
            let kernels = table(path)
            for (m, n, k) in [(1, 1, 1), (6, 16, 8), (7, 33, 5), (13, 64, 64), (25, 40, 17), (144, 32, 32), (11, 67, 130)] {
                let (lda, ldb, ldc) = (k + 3, n + 1, n + 2)
                let a = randomBuffer(m * lda, &rng), b = randomBuffer(k * ldb, &rng), c0 = randomBuffer(m * ldc, &rng)
                for accumulate in [false, true] {
                    var c = c0
                    kernels.small_gemm(m, n, k, a, lda, b, ldb, &c, ldc, accumulate ? 1 : 0)
                    for i in 0..<m {
                        for j in 0..<ldc {
                            guard j < n else {
                                XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j], "\(path) small_gemm wrote past column n")
                                continue
                            }
                            var exact = accumulate ? Double(c0[i * ldc + j]) : 0, magnitude = accumulate ? abs(exact) : 0
                            for p in 0..<k {
                                let term = Double(a[i * lda + p]) * Double(b[p * ldb + j])
                                exact += term
                                magnitude += abs(term)
                            }
                            let allowed = gamma(k + 1) * magnitude + Double(Float.leastNormalMagnitude)
                            if abs(Double(c[i * ldc + j]) - exact) > allowed {
                                return XCTFail("\(path) small_gemm (\(m), \(n), \(k)) at (\(i), \(j)): \(c[i * ldc + j]) vs \(exact), bound \(allowed)")
                            }
                        }
                    }
                }
            }
        }
    }

    func testPathChoice() throws {
        let cpu = CPU.current
        XCTAssertTrue(cpu.runs(.baseline))
        XCTAssertEqual(try KernelPath.choose(nil), cpu.bestPath)
        XCTAssertEqual(try KernelPath.choose(""), cpu.bestPath)
        XCTAssertEqual(try KernelPath.choose("baseline"), .baseline)
        XCTAssertEqual(try KernelPath.choose("BASELINE"), .baseline)
        XCTAssertThrowsError(try KernelPath.choose("sse9")) { error in
            XCTAssertTrue("\(error)".contains("SRGAN_DIST_ISA=sse9 is not a kernel path"), "\(error)")
            XCTAssertTrue("\(error)".contains("HINT:"), "\(error)")
        }
        for path in ISAPath.allCases where !cpu.runs(path) {
            XCTAssertThrowsError(try KernelPath.choose(path.description)) { error in
                XCTAssertTrue("\(error)".contains("cannot run"), "\(error)")
            }
        }
        // the widest path the CPU runs is the best; the process's path is the forced one or the best
        XCTAssertEqual(cpu.bestPath, ISAPath.allCases.last(where: cpu.runs))
        XCTAssertEqual(KernelPath.active, (try? KernelPath.choose(KernelPath.environmentValue)) ?? cpu.bestPath)
        // CPUID agrees with the kernel's view of the CPU
        if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            let flags = Set(flagsLine.split(separator: " ").map(String.init))
            for feature in ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "amx_bf16"] {
                XCTAssertEqual(cpu.features.contains(feature), flags.contains(feature), "feature \(feature): CPUID vs /proc/cpuinfo")
            }
            if let familyLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("cpu family") }) {
                XCTAssertEqual(Int(familyLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)), cpu.family)
            }
        }
    }
}

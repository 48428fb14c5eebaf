// The bf16 product (SRCore/Kernels/BF16Gemm.swift, Sources/CKernels/bf16_gemm.c) against its plain
// reference (BF16Reference.swift) and against the fp32 inputs' exact product, the rounding rule
// against hand-worked bits and against the instruction, and the refusal off the avx512 path.
// The kernel tests run where the CPU has AVX512-BF16 and the process runs the avx512 path; elsewhere
// they are skipped with a line saying so, and the refusal test checks that bf16Gemm throws.
//
// Error bounds (u = 2^-24, fp32's unit roundoff; gamma_n = n u / (1 - n u); S = sum_k |a_ik| |b_kj|):
// - Rounding to bf16 (8-bit significand, nearest) changes a normal x by at most 2^-8 |x|
//   (precisely 2^-8 / (1 + 2^-8) |x|); a product of two rounded inputs is exact in fp32 (8 + 8
//   significant bits <= 24), and differs from a_ik b_kj by at most (2 * 2^-8 + 2^-16) |a_ik b_kj|.
// - The kernel and the reference each add the K exact products and, when accumulating, c's old
//   value (K + 1 terms) in fp32, in some order: the error of each sum is at most gamma_K times the
//   sum of the terms' magnitudes, sum_k |bf16(a_ik) bf16(b_kj)| + |c_ij| <= (1 + 2^-8)^2 S + |c_ij|.
// - VDPBF16PS flushes denormal products and partial sums to zero: at most 2^-126 per product and
//   per addition, (2K + 1) 2^-126 in all (nothing at the magnitudes used here, written for honesty).
// So kernel against reference: |d| <= 2 gamma_K (sum_k |bf16(a) bf16(b)| + |c|) + (2K + 1) 2^-126;
// kernel against the exact product of the fp32 inputs (computed in double, whose own error is
// below 2^-50 S and neglected):
//   |c_bf16 - c_exact| <= (2^-7 + 2^-16) S + gamma_K ((1 + 2^-8)^2 S + |c|) + (2K + 1) 2^-126.

import CKernels
import SRCore
import XCTest

private let unitRoundoff = 0x1p-24
private func gamma(_ n: Int) -> Double { Double(n) * unitRoundoff / (1 - Double(n) * unitRoundoff) }

/// One product case: sizes, transposes, leading dimensions (at least the stored rows' lengths),
/// accumulate or not.
private struct ProductCase: CustomStringConvertible {
    let m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int, accumulate: Bool
    var transA = Transpose.none, transB = Transpose.none
    var description: String {
        "\(m)x\(n)x\(k)\(transA == .none ? "" : " a^T")\(transB == .none ? "" : " b^T") lda \(lda) ldb \(ldb) ldc \(ldc)"
            + (accumulate ? " accumulate" : "")
    }
    /// Rows of the stored a and b.
    var aRows: Int { transA == .none ? m : max(k, 1) }
    var bRows: Int { transB == .none ? max(k, 1) : n }
    func aElement(_ a: [Float], _ i: Int, _ p: Int) -> Float { transA == .none ? a[i * lda + p] : a[p * lda + i] }
    func bElement(_ b: [Float], _ p: Int, _ j: Int) -> Float { transB == .none ? b[p * ldb + j] : b[j * ldb + p] }
    func transposed(_ a: Bool, _ b: Bool, lda: Int, ldb: Int) -> ProductCase {
        var t = ProductCase(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, accumulate: accumulate)
        t.transA = a ? .transposed : .none
        t.transB = b ? .transposed : .none
        return t
    }
}

final class BF16Tests: XCTestCase {
    /// Skips unless this process runs the bf16 kernel.
    private func requireKernel() throws {
        if let refusal = BF16Products.refusal {
            throw XCTSkip("BF16Tests: the bf16 kernel does not run in this process (\(refusal)); not covered here")
        }
    }

    // Hand-worked values: (input bits, bf16 bits). 1 = 0x3f80_0000; its bf16 ulp is 2^-7, so
    // 0x3f80_8000 (1 + 2^-8) lies exactly half-way between 0x3f80 and 0x3f81.
    private static let handValues: [(UInt32, UInt16, String)] = [
        (0x3f80_0000, 0x3f80, "1 is exact"),
        (0xbfc0_0000, 0xbfc0, "-1.5 is exact"),
        (0x3f80_7fff, 0x3f80, "just below half-way rounds down"),
        (0x3f80_8000, 0x3f80, "half-way between 0x3f80 (even) and 0x3f81: to even, down"),
        (0x3f81_8000, 0x3f82, "half-way between 0x3f81 and 0x3f82 (even): to even, up"),
        (0x3f80_8001, 0x3f81, "just above half-way rounds up"),
        (0xbf80_8001, 0xbf81, "negative: magnitude rounds the same way"),
        (0x3fff_ffff, 0x4000, "rounding up carries into the exponent (1.99999988 -> 2)"),
        (0x7f7f_7fff, 0x7f7f, "just below half-way under the largest bf16 stays finite"),
        (0x7f7f_8000, 0x7f80, "half-way above the largest bf16 (odd 0x7f7f) goes to infinity"),
        (0x7f7f_ffff, 0x7f80, "the largest float rounds to infinity"),
        (0x7f80_0000, 0x7f80, "infinity stays"),
        (0xff80_0000, 0xff80, "-infinity stays"),
        (0x7fc0_0000, 0x7fc0, "quiet NaN stays"),
        (0x7f80_0001, 0x7fc0, "signalling NaN with only low payload bits: made quiet, still NaN"),
        (0xffa1_2345, 0xffe1, "negative NaN: sign and top payload kept, quiet bit set"),
        (0x0000_0000, 0x0000, "zero"),
        (0x8000_0000, 0x8000, "negative zero keeps its sign"),
        (0x0000_0001, 0x0000, "smallest denormal: zero"),
        (0x007f_ffff, 0x0000, "largest denormal: zero (the instruction treats denormals as zero)"),
        (0x807f_ffff, 0x8000, "negative denormal: negative zero"),
        (0x0080_0000, 0x0080, "smallest normal is exact"),
        (0x0080_8000, 0x0080, "smallest normal, half-way: to even"),
    ]

    func testReferenceRoundingOnHandWorkedValues() {
        for (input, expected, what) in Self.handValues {
            let got = BFloat16Reference.bits(Float(bitPattern: input))
            XCTAssertEqual(got, expected, "\(String(input, radix: 16)): \(what): got \(String(got, radix: 16))")
        }
        XCTAssertTrue(BFloat16Reference.round(.nan).isNaN)
        XCTAssertEqual(BFloat16Reference.round(3.0), 3.0)
        // 1/3 = 0x3eaaaaab: dropped half 0xaaab is above 0x8000, so the kept 0x3eaa rounds up.
        XCTAssertEqual(BFloat16Reference.bits(1.0 / 3.0), 0x3eab)
    }

    /// The instruction the kernel packs with gives the reference's bits, on the hand values and on
    /// random bit patterns of every class (normal, denormal, zero, infinity, NaN).
    func testInstructionRoundingMatchesReference() throws {
        try requireKernel()
        var inputs = Self.handValues.map { Float(bitPattern: $0.0) }
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for i in 0..<200_003 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var bits = UInt32(truncatingIfNeeded: state >> 32)
            switch i % 5 {
            case 1: bits &= 0x807f_ffff                      // denormal or zero
            case 2: bits |= 0x7f80_0000                      // infinity or NaN
            case 3: bits = (bits & 0xffff_0000) | 0x8000     // exact ties
            default: break                                   // anything, mostly normal
            }
            inputs.append(Float(bitPattern: bits))
        }
        var out = [UInt16](repeating: 0, count: inputs.count)
        sr_bf16_round(inputs, &out, inputs.count)
        var mismatches = 0
        for i in inputs.indices where out[i] != BFloat16Reference.bits(inputs[i]) {
            mismatches += 1
            if mismatches <= 5 {
                XCTFail("bf16 of \(String(inputs[i].bitPattern, radix: 16)): instruction \(String(out[i], radix: 16)), reference \(String(BFloat16Reference.bits(inputs[i]), radix: 16))")
            }
        }
        XCTAssertEqual(mismatches, 0, "of \(inputs.count) inputs")
    }

    private static let cases: [ProductCase] = [
        ProductCase(m: 1, n: 1, k: 1, lda: 1, ldb: 1, ldc: 1, accumulate: false),
        ProductCase(m: 8, n: 32, k: 2, lda: 2, ldb: 32, ldc: 32, accumulate: false),      // one register block
        ProductCase(m: 7, n: 33, k: 3, lda: 5, ldb: 40, ldc: 35, accumulate: true),       // ragged, odd k, strides
        ProductCase(m: 9, n: 31, k: 17, lda: 17, ldb: 31, ldc: 31, accumulate: false),
        ProductCase(m: 17, n: 65, k: 577, lda: 580, ldb: 65, ldc: 70, accumulate: true),  // k one past a cache block, odd
        ProductCase(m: 130, n: 40, k: 1201, lda: 1201, ldb: 40, ldc: 40, accumulate: false), // m across MC, k across 3 blocks
        ProductCase(m: 5, n: 1100, k: 9, lda: 9, ldb: 1103, ldc: 1100, accumulate: true), // n across 5 column blocks
        ProductCase(m: 64, n: 96, k: 576, lda: 576, ldb: 96, ldc: 96, accumulate: false), // an im2col shape
        ProductCase(m: 3, n: 4, k: 0, lda: 1, ldb: 4, ldc: 4, accumulate: false),          // empty sum: zeros
        // transposed inputs (the backward's products): ragged panels, odd k, strides, blocks
        ProductCase(m: 7, n: 33, k: 3, lda: 9, ldb: 5, ldc: 35, accumulate: true).transposed(true, true, lda: 9, ldb: 5),
        ProductCase(m: 13, n: 70, k: 37, lda: 15, ldb: 70, ldc: 70, accumulate: false).transposed(true, false, lda: 15, ldb: 70),
        ProductCase(m: 20, n: 45, k: 600, lda: 600, ldb: 603, ldc: 45, accumulate: true).transposed(false, true, lda: 600, ldb: 603),
        ProductCase(m: 64, n: 64, k: 1201, lda: 64, ldb: 64, ldc: 64, accumulate: true).transposed(true, false, lda: 64, ldb: 64), // Winograd dU
        ProductCase(m: 64, n: 576, k: 300, lda: 300, ldb: 300, ldc: 576, accumulate: true).transposed(false, true, lda: 300, ldb: 300), // conv dW
        ProductCase(m: 577, n: 40, k: 64, lda: 577, ldb: 40, ldc: 40, accumulate: false).transposed(true, false, lda: 577, ldb: 40), // conv dX
    ]

    private func inputs(_ shape: ProductCase, seed: UInt64) -> (a: [Float], b: [Float], c: [Float]) {
        var rng = SeededRandom(seed: seed)
        func random(_ count: Int, _ low: Float, _ high: Float) -> [Float] {
            let t = Tensor(shape: [max(count, 1)])
            rng.fillUniform(t, low, high)
            return Array(t.toArray().prefix(count))
        }
        return (random(shape.aRows * shape.lda, -2, 2), random(shape.bRows * shape.ldb, -2, 2),
                random(shape.m * shape.ldc, -1, 1))
    }

    func testKernelAgainstReferenceAndExactProduct() throws {
        try requireKernel()
        var bf16Visible = false
        for (index, shape) in Self.cases.enumerated() {
            let (a, b, c0) = inputs(shape, seed: 100 + UInt64(index))
            var fast = c0, reference = c0
            try bf16Gemm(shape.transA, shape.transB, m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.lda, b: b,
                         ldb: shape.ldb, c: &fast, ldc: shape.ldc, accumulate: shape.accumulate)
            BFloat16Reference.gemm(shape.transA, shape.transB, m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.lda, b: b, ldb: shape.ldb,
                                   c: &reference, ldc: shape.ldc, accumulate: shape.accumulate)
            let flush = Double(2 * shape.k + 1) * 0x1p-126
            var worstReference = 0.0, worstExact = 0.0
            for i in 0..<shape.m {
                for j in 0..<shape.n {
                    var exact = 0.0, magnitude = 0.0, roundedMagnitude = 0.0
                    for p in 0..<shape.k {
                        let x = Double(shape.aElement(a, i, p)), y = Double(shape.bElement(b, p, j))
                        exact += x * y
                        magnitude += abs(x * y)
                        roundedMagnitude += abs(Double(BFloat16Reference.round(Float(x))) * Double(BFloat16Reference.round(Float(y))))
                    }
                    let old = shape.accumulate ? Double(c0[i * shape.ldc + j]) : 0
                    exact += old
                    let got = Double(fast[i * shape.ldc + j])
                    let againstReference = 2 * gamma(shape.k) * (roundedMagnitude + abs(old)) + flush
                    let againstExact = (0x1p-7 + 0x1p-16) * magnitude
                        + gamma(shape.k) * ((1 + 0x1p-8) * (1 + 0x1p-8) * magnitude + abs(old)) + flush
                    let dReference = abs(got - Double(reference[i * shape.ldc + j])), dExact = abs(got - exact)
                    worstReference = max(worstReference, dReference / againstReference)
                    worstExact = max(worstExact, dExact / againstExact)
                    // further from the exact product than fp32 summation alone could be: bf16 inputs
                    if dExact > gamma(shape.k) * (magnitude + abs(old)) + flush { bf16Visible = true }
                }
            }
            XCTAssertLessThanOrEqual(worstReference, 1, "\(shape): against the reference, worst error / bound")
            XCTAssertLessThanOrEqual(worstExact, 1, "\(shape): against the exact product, worst error / bound")
            // what lies outside c's m x n block (the leading-dimension gap) is untouched
            for i in 0..<shape.m {
                for j in shape.n..<shape.ldc where fast[i * shape.ldc + j] != c0[i * shape.ldc + j] {
                    XCTFail("\(shape): c[\(i)][\(j)] outside the product was written")
                }
            }
            print("BF16Tests \(shape): worst error / bound \(worstReference) (reference), \(worstExact) (exact product)")
        }
        XCTAssertTrue(bf16Visible, "no element differs from the exact product by more than fp32 summation could: the inputs were not rounded to bf16")
    }

    /// One thread and two threads (the split along rows and along 32-column panels) give the same
    /// bits: each element's sum is computed by one thread in the same order.
    func testThreadSplitsGiveTheSameBits() throws {
        try requireKernel()
        for shape in [ProductCase(m: 40, n: 1000, k: 70, lda: 70, ldb: 1000, ldc: 1000, accumulate: false),
                      ProductCase(m: 999, n: 64, k: 64, lda: 64, ldb: 64, ldc: 64, accumulate: true),
                      ProductCase(m: 40, n: 1000, k: 70, lda: 40, ldb: 70, ldc: 1000, accumulate: true).transposed(true, true, lda: 40, ldb: 70)] {
            let (a, b, c0) = inputs(shape, seed: 7)
            var one = c0, two = c0
            try BLASThreads.withThreads(1) {
                try bf16Gemm(shape.transA, shape.transB, m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.lda, b: b,
                             ldb: shape.ldb, c: &one, accumulate: shape.accumulate)
            }
            try BLASThreads.withThreads(2) {
                try bf16Gemm(shape.transA, shape.transB, m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.lda, b: b,
                             ldb: shape.ldb, c: &two, accumulate: shape.accumulate)
            }
            XCTAssertEqual(one, two, "\(shape)")
        }
    }

    func testRefusalOffTheAVX512PathAndWithoutBF16() {
        for path in [ISAPath.baseline, .avx2] {
            let refusal = BF16Products.refusal(path: path, cpuRunsBF16: true)
            XCTAssertNotNil(refusal, "\(path)")
            let text = refusal.map { "\($0)" } ?? ""
            XCTAssertTrue(text.contains("bf16 products run on the avx512 kernel path only") && text.contains("runs the \(path) path")
                          && text.contains("HINT: unset SRGAN_DIST_ISA"), text)
        }
        let missing = BF16Products.refusal(path: .avx512, cpuRunsBF16: false).map { "\($0)" } ?? ""
        XCTAssertTrue(missing.contains("bf16 products need AVX512-BF16 (VDPBF16PS), which this CPU lacks") && missing.contains("HINT:"), missing)
        XCTAssertNil(BF16Products.refusal(path: .avx512, cpuRunsBF16: true))
        // This process: the kernel runs exactly when the path is avx512 on a CPU with AVX512-BF16
        // (run the tests with SRGAN_DIST_ISA=avx2 to see the refusal taken).
        XCTAssertEqual(BF16Products.available, KernelPath.active == .avx512 && CPU.current.runsBF16)
        if !BF16Products.available {
            var c: [Float] = [42]
            XCTAssertThrowsError(try bf16Gemm(m: 1, n: 1, k: 1, a: [1], b: [1], c: &c)) { error in
                XCTAssertTrue("\(error)".contains("HINT:"), "\(error)")
            }
            XCTAssertEqual(c, [42], "the refused call wrote c")
        }
    }
}

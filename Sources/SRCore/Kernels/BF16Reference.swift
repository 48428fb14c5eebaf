// The plain reference of the bf16 product (BF16Gemm.swift, Sources/CKernels/bf16_gemm.c): the
// rounding rule of VCVTNE2PS2BF16 written out on the bits, and the product as a loop over k in
// fp32 on the rounded inputs. Products of two bfloat16 values (8-bit significands) are exact
// in fp32 (24 bits), so only the order of the additions differs from the kernel.

public enum BFloat16Reference {
    /// The bfloat16 bits of x (the top half of a float): normal numbers round to nearest, ties to
    /// even (past the largest bfloat16, 0x1.fep127, they become infinity); infinities stay;
    /// a NaN stays NaN, made quiet (sign and the top 6 payload bits kept); zero and denormal
    /// inputs become zero of the same sign, as the instruction does (it treats denormals as zero).
    public static func bits(_ x: Float) -> UInt16 {
        let u = x.bitPattern
        let exponent = u & 0x7f80_0000
        if exponent == 0x7f80_0000 {
            return u & 0x007f_ffff != 0 ? UInt16(u >> 16) | 0x0040 : UInt16(u >> 16)
        }
        if exponent == 0 { return UInt16(u >> 16) & 0x8000 }
        // Adding just under half an ulp of bf16, plus one more when the kept part is odd, carries
        // into the kept part exactly when the dropped half is above one half, or one half and odd.
        let rounded = u &+ 0x7fff &+ ((u >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    /// The float whose bits are `bits` followed by 16 zero bits.
    public static func float(bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// x rounded to the nearest bfloat16, as a float.
    public static func round(_ x: Float) -> Float { float(bits: bits(x)) }

    /// c (m, n) = bf16(op(a)) (m, k) x bf16(op(b)) (k, n), plus c when `accumulate`: each sum over
    /// k in ascending order in fp32, then added to c; row-major, op(x) = x or x^T, leading
    /// dimensions lda, ldb, ldc of the stored matrices (as in BLAS).
    public static func gemm(_ transA: Transpose = .none, _ transB: Transpose = .none, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let x = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let y = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    sum += round(x) * round(y)
                }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum
            }
        }
    }
}

// srgan-dist's own hot kernels in C, compiled once per x86 vector ISA from one source
// (kernels_body.h) and chosen once at start-up by what the CPU has (cpu.c). Swift reaches them
// through `sr_kernels_for`, a table of function pointers per ISA: SRCore/Kernels/ISA.swift
// picks the table, tests call each table the CPU can run against the Swift reference kernels.
//
// Layouts follow the Winograd F(4x4, 3x3) path (SRCore/Kernels/WinogradConv.swift): channel
// vectors are innermost, so every transform is a loop over `channels` contiguous floats.
#ifndef SRGAN_SRKERNELS_H
#define SRGAN_SRKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The vector ISA paths, widest first. Numbers are stable (tests and logs use them).
typedef enum {
    SR_ISA_BASELINE = 0,  // x86-64 baseline: SSE2, 4 floats
    SR_ISA_AVX2 = 1,      // AVX2 + FMA, 8 floats (Haswell, Zen 1-3)
    SR_ISA_AVX512 = 2,    // AVX-512 F/BW/DQ/VL, 16 floats (Skylake-SP .. Sapphire Rapids, Zen 4+)
    SR_ISA_COUNT = 3
} sr_isa;

/// What the CPU and the operating system support (CPUID and XGETBV).
typedef struct {
    int family, model, stepping;   // display family and model, as lscpu prints them
    char vendor[13];               // "GenuineIntel", "AuthenticAMD", ...
    char brand[49];                // "AMD EPYC 7B12", "Intel(R) Xeon(R) Platinum 8488C", ...
    int sse3, ssse3, sse41, sse42, avx, avx2, fma, f16c;
    int avx512f, avx512dq, avx512bw, avx512vl, avx512vnni, avx512bf16, avx512fp16;
    int amx_tile, amx_bf16, amx_int8;
    int os_avx, os_avx512, os_amx; // the OS saves the wider registers (XCR0; AMX: arch_prctl)
} sr_cpu_info;

void sr_cpu_detect(sr_cpu_info *info);

/// The widest path `info` can run.
sr_isa sr_isa_best(const sr_cpu_info *info);

/// Whether `info` can run `isa`.
int sr_isa_runs_on(sr_isa isa, const sr_cpu_info *info);

/// The kernels of one path. All pointers non-null, no aliasing between inputs and outputs.
typedef struct {
    sr_isa isa;
    const char *name;  // "avx512", "avx2", "baseline"

    /// Winograd input tile: the 6x6 channel vectors d[r * row_stride + c * channels] (r, c < 6)
    /// -> V[xi] = (B^T d B)[xi] at v + xi * plane, xi = 6i + k < 36. scratch: 36 * channels floats.
    void (*winograd_input_tile)(const float *d, ptrdiff_t row_stride, ptrdiff_t channels,
                                float *v, ptrdiff_t plane, float *scratch);

    /// Winograd output tile: M[xi] at m + xi * plane -> Y = A^T M A, the 4x4 channel vectors
    /// y[p * row_stride + q * channels] (p, q < 4). scratch: 24 * channels floats.
    void (*winograd_output_tile)(const float *m, ptrdiff_t plane, ptrdiff_t channels,
                                 float *y, ptrdiff_t row_stride, float *scratch);

    /// Winograd output-gradient tile: dY, the 4x4 channel vectors y[p * row_stride + q * channels]
    /// -> dM = A dY A^T at dm + xi * plane. scratch: 24 * channels floats.
    void (*winograd_output_grad_tile)(const float *y, ptrdiff_t row_stride, ptrdiff_t channels,
                                      float *dm, ptrdiff_t plane, float *scratch);

    /// Channels-last rows to planes: out[c * plane_stride + x] = in[x * channels + c] + bias[c]
    /// for x < width, c < channels (bias may be NULL).
    void (*channels_last_to_planes)(const float *in, ptrdiff_t width, ptrdiff_t channels,
                                    const float *bias, float *out, ptrdiff_t plane_stride);

    /// Planes to channels-last rows: out[x * channels + c] = in[c * plane_stride + x].
    void (*planes_to_channels_last)(const float *in, ptrdiff_t plane_stride, ptrdiff_t width,
                                    ptrdiff_t channels, float *out);

    /// c (m, n) = a (m, k) x b (k, n), plus c itself when `accumulate`; row-major, leading
    /// dimensions lda, ldb, ldc. For the Winograd products (SRCore's gemm picks it by shape).
    void (*small_gemm)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                       const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate);

    /// MaxPool2d(2), one output row: y[i] = max of the window r0[2i], r0[2i+1], r1[2i], r1[2i+1]
    /// (i < out_width) and code[i] its position 0..3 in that order; the first maximum on ties, a
    /// NaN over any number.
    void (*max_pool2_row)(const float *r0, const float *r1, ptrdiff_t out_width, float *y, unsigned char *code);

    /// Its gradient: dy[i] to the window position code[i] names in the input-gradient rows dx0, dx1,
    /// 0 to the window's other three (every element of 2 * out_width columns of both rows written).
    void (*max_pool2_row_grad)(const float *dy, const unsigned char *code, ptrdiff_t out_width,
                               float *dx0, float *dx1);

    /// PixelShuffle(2) on one output row: out[2w] = even[w], out[2w + 1] = odd[w] (w < width);
    /// deinterleave2_row is its inverse (and gradient). Copies: exact on every path.
    void (*interleave2_row)(const float *even, const float *odd, ptrdiff_t width, float *out);
    void (*deinterleave2_row)(const float *in, ptrdiff_t width, float *even, float *odd);

    /// 3x3 "same" convolution with out_channels <= 4 (narrow_body.h) on a zero-padded image p
    /// (planes padded_plane apart, rows padded_width apart, at the first output row's top tap
    /// row): out[oc * out_plane + r * width + x] for r < rows, x < width; bias may be NULL.
    void (*conv3x3_narrow_forward)(const float *p, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t channels,
                                   ptrdiff_t rows, ptrdiff_t width, const float *weight, ptrdiff_t out_channels,
                                   const float *bias, float *out, ptrdiff_t out_plane);

    /// Its input gradient (overwritten) from the zero-padded output gradient q (border 1, laid
    /// out as p): dx[c * plane + r * width + x] for c < channels, r < rows, x < width.
    void (*conv3x3_narrow_input_grad)(const float *q, ptrdiff_t padded_plane, ptrdiff_t padded_width,
                                      ptrdiff_t out_channels, ptrdiff_t rows, ptrdiff_t width, const float *weight,
                                      ptrdiff_t channels, float *dx, ptrdiff_t plane);

    /// Its weight gradient, added into dw (OC, C, 3, 3), from p as in the forward and the output
    /// gradient dy (planes dy_plane apart, rows width apart).
    void (*conv3x3_narrow_weight_grad)(const float *p, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t channels,
                                       ptrdiff_t rows, ptrdiff_t width, const float *dy, ptrdiff_t dy_plane,
                                       ptrdiff_t out_channels, float *dw);

    /// Batch-norm passes over one plane of n floats (norm_body.h), with z = x * scale + shift and
    /// the activation y = z > 0 ? z : slope * z (slope 1: none). Sums in float lanes; the caller
    /// adds planes up in double. span_sum: sum x. span_squared_deviation: sum (x - center)^2.
    /// span_sum_and_squares: sums[0] = sum x, sums[1] = sum x^2.
    float (*span_sum)(const float *x, ptrdiff_t n);
    float (*span_squared_deviation)(const float *x, ptrdiff_t n, float center);
    void (*span_sum_and_squares)(const float *x, ptrdiff_t n, float *sums);

    /// y = act(x * scale + shift) (y may be x).
    void (*affine_activate)(const float *x, ptrdiff_t n, float scale, float shift, float slope, float *y);

    /// Backward sums with g = dL/dz = z > 0 ? dy : slope * dy: sums[0] = sum g, sums[1] = sum g
    /// (x - mean), sums[2] = sum over z <= 0 of dy z (a PReLU slope's gradient).
    void (*norm_grad_sums)(const float *dy, const float *x, ptrdiff_t n, float mean, float scale, float shift,
                           float slope, float *sums);

    /// dx = a g + b + k (x - mean) (dx may be dy).
    void (*norm_input_grad)(const float *dy, const float *x, ptrdiff_t n, float mean, float scale, float shift,
                            float slope, float a, float b, float k, float *dx);

} sr_kernels;

/// The table of `isa` (NULL for an unknown value). Calling a table the CPU cannot run faults.
const sr_kernels *sr_kernels_for(sr_isa isa);

/// Whether `info` runs the bf16 product (bf16_gemm.c): the avx512 path's features plus
/// AVX512-BF16 (VDPBF16PS, VCVTNE2PS2BF16). Not part of the tables above, whose fp32 kernels
/// stay the same on every CPU of a path.
int sr_bf16_runs_on(const sr_cpu_info *info);

/// c (m, n) = op(a) (m, k) x op(b) (k, n), plus c itself when `accumulate`; row-major fp32,
/// op(x) = x, or x^T when its flag is non-zero (lda, ldb are the stored matrices' row lengths, as
/// in BLAS). a and b are rounded to bfloat16 (nearest, ties to even) as they are packed, the
/// products summed in fp32. Returns 0, or -1 when its packing buffer (kept per thread: 288 kB for
/// b, 1152 bytes per row of a, at most about 4.3 MB) cannot be allocated. Only where
/// sr_bf16_runs_on: elsewhere it faults.
int sr_bf16_gemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                 const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate);

/// out[i] = the bfloat16 bits of x[i] for i < count, by the instruction the product packs with
/// (VCVTNE2PS2BF16), so tests can check its rounding. Only where sr_bf16_runs_on.
void sr_bf16_round(const float *x, unsigned short *out, ptrdiff_t count);

/// glibc's malloc: blocks from `mmap_threshold` bytes up come from mmap, and the heap is trimmed
/// when `trim_threshold` bytes at its top are free (elsewhere a no-op).
void sr_keep_freed_memory(size_t mmap_threshold, size_t trim_threshold);

/// 1 when this build runs under AddressSanitizer (`swift build --sanitize=address` compiles the C
/// targets with -fsanitize=address too), else 0: TensorMemory then frees every buffer at once, so
/// ASan sees a use of a released tensor's memory instead of a recycled buffer.
int sr_address_sanitizer_active(void);

#ifdef __cplusplus
}
#endif
#endif

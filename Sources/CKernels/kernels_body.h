// The kernel bodies, included once per ISA by isa_*.c with SR_FN(name) naming that path's copy
// and a `#pragma clang attribute` giving every function the path's target features, so the
// loops over channel vectors vectorise at that width. Plain loops over `channels` contiguous
// floats: the compiler's vectoriser, not intrinsics, picks the instructions, so one source
// serves every path and the Swift reference kernels check each of them.
//
// Winograd F(4x4, 3x3) (Lavin & Gray 2016), the matrices of WinogradConv.swift:
//   B^T (6x6) rows:  [4 0 -5 0 1 0] [0 -4 -4 1 1 0] [0 4 -4 -1 1 0] [0 -2 -1 2 1 0] [0 2 -1 -2 1 0] [0 4 0 -5 0 1]
//   A^T (4x6) rows:  [1 1 1 1 1 0] [0 1 -1 2 -2 0] [0 1 1 4 4 0] [0 1 -1 8 -8 1]

#include <stddef.h>

#define SR_RESTRICT __restrict__

// out_i = (B^T d)_i for six channel vectors d_j = d + j * d_stride, outputs o + i * o_stride.
static inline void SR_FN(input_column)(const float *SR_RESTRICT d, ptrdiff_t d_stride,
                                       float *SR_RESTRICT o, ptrdiff_t o_stride, ptrdiff_t n) {
    const float *d0 = d, *d1 = d + d_stride, *d2 = d + 2 * d_stride;
    const float *d3 = d + 3 * d_stride, *d4 = d + 4 * d_stride, *d5 = d + 5 * d_stride;
    float *o0 = o, *o1 = o + o_stride, *o2 = o + 2 * o_stride;
    float *o3 = o + 3 * o_stride, *o4 = o + 4 * o_stride, *o5 = o + 5 * o_stride;
    for (ptrdiff_t c = 0; c < n; c++) {
        float a0 = d0[c], a1 = d1[c], a2 = d2[c], a3 = d3[c], a4 = d4[c], a5 = d5[c];
        o0[c] = 4 * a0 - 5 * a2 + a4;
        o1[c] = -4 * (a1 + a2) + a3 + a4;
        o2[c] = 4 * (a1 - a2) - a3 + a4;
        o3[c] = 2 * (a3 - a1) - a2 + a4;
        o4[c] = 2 * (a1 - a3) - a2 + a4;
        o5[c] = 4 * a1 - 5 * a3 + a5;
    }
}

// out_q = (A^T m)_q for six channel vectors in, four out.
static inline void SR_FN(output_column)(const float *SR_RESTRICT m, ptrdiff_t m_stride,
                                        float *SR_RESTRICT o, ptrdiff_t o_stride, ptrdiff_t n) {
    const float *m0 = m, *m1 = m + m_stride, *m2 = m + 2 * m_stride;
    const float *m3 = m + 3 * m_stride, *m4 = m + 4 * m_stride, *m5 = m + 5 * m_stride;
    float *o0 = o, *o1 = o + o_stride, *o2 = o + 2 * o_stride, *o3 = o + 3 * o_stride;
    for (ptrdiff_t c = 0; c < n; c++) {
        float a0 = m0[c], a1 = m1[c], a2 = m2[c], a3 = m3[c], a4 = m4[c], a5 = m5[c];
        o0[c] = a0 + a1 + a2 + a3 + a4;
        o1[c] = a1 - a2 + 2 * (a3 - a4);
        o2[c] = a1 + a2 + 4 * (a3 + a4);
        o3[c] = a1 - a2 + 8 * (a3 - a4) + a5;
    }
}

// out_i = (A y)_i for four channel vectors in, six out (the adjoint of output_column).
static inline void SR_FN(output_grad_column)(const float *SR_RESTRICT y, ptrdiff_t y_stride,
                                             float *SR_RESTRICT o, ptrdiff_t o_stride, ptrdiff_t n) {
    const float *y0 = y, *y1 = y + y_stride, *y2 = y + 2 * y_stride, *y3 = y + 3 * y_stride;
    float *o0 = o, *o1 = o + o_stride, *o2 = o + 2 * o_stride;
    float *o3 = o + 3 * o_stride, *o4 = o + 4 * o_stride, *o5 = o + 5 * o_stride;
    for (ptrdiff_t c = 0; c < n; c++) {
        float a0 = y0[c], a1 = y1[c], a2 = y2[c], a3 = y3[c];
        o0[c] = a0;
        o1[c] = a0 + a1 + a2 + a3;
        o2[c] = a0 - a1 + a2 - a3;
        o3[c] = a0 + 2 * a1 + 4 * a2 + 8 * a3;
        o4[c] = a0 - 2 * a1 + 4 * a2 - 8 * a3;
        o5[c] = a3;
    }
}

// d: 6x6 channel vectors (row stride row_stride, column stride channels) -> V[xi] at v + xi * plane.
static void SR_FN(winograd_input_tile)(const float *d, ptrdiff_t row_stride, ptrdiff_t channels,
                                       float *v, ptrdiff_t plane, float *scratch) {
    // scratch[i][j] = (B^T d)[i][j], i-major: row i of the half-transformed tile at scratch + 6 i C
    for (int j = 0; j < 6; j++)
        SR_FN(input_column)(d + j * channels, row_stride, scratch + j * channels, 6 * channels, channels);
    // V[6i + k] = (B^T d B)[i][k]
    for (int i = 0; i < 6; i++)
        SR_FN(input_column)(scratch + 6 * i * channels, channels, v + 6 * i * plane, plane, channels);
}

// M[xi] at m + xi * plane -> Y (4x4 channel vectors, row stride row_stride, column stride channels).
static void SR_FN(winograd_output_tile)(const float *m, ptrdiff_t plane, ptrdiff_t channels,
                                        float *y, ptrdiff_t row_stride, float *scratch) {
    // scratch[i][q] = (M A)[i][q] at scratch + (4 i + q) C
    for (int i = 0; i < 6; i++)
        SR_FN(output_column)(m + 6 * i * plane, plane, scratch + 4 * i * channels, channels, channels);
    // Y[p][q] = (A^T M A)[p][q]
    for (int q = 0; q < 4; q++)
        SR_FN(output_column)(scratch + q * channels, 4 * channels, y + q * channels, row_stride, channels);
}

// dY (4x4 channel vectors) -> dM[xi] = (A dY A^T)[xi] at dm + xi * plane.
static void SR_FN(winograd_output_grad_tile)(const float *y, ptrdiff_t row_stride, ptrdiff_t channels,
                                             float *dm, ptrdiff_t plane, float *scratch) {
    // scratch[i][q] = (A dY)[i][q] at scratch + (4 i + q) C
    for (int q = 0; q < 4; q++)
        SR_FN(output_grad_column)(y + q * channels, row_stride, scratch + q * channels, 4 * channels, channels);
    // dM[6i + k] = (A dY A^T)[i][k]
    for (int i = 0; i < 6; i++)
        SR_FN(output_grad_column)(scratch + 4 * i * channels, channels, dm + 6 * i * plane, plane, channels);
}

// 8x8 transposes in vector registers: clang's generic vectors, lowered to each path's
// instructions (two SSE registers per vector on the baseline path). rows[i] = row i in, out[j]
// = column j. The unpack / 64-bit shuffle / 128-bit lane sequence of the usual AVX transpose.
typedef float SR_FN(v8) __attribute__((vector_size(32), aligned(4)));

static inline void SR_FN(transpose8)(SR_FN(v8) r[8]) {
    SR_FN(v8) t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = __builtin_shufflevector(u[j], u[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[j + 4] = __builtin_shufflevector(u[j], u[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

// in (width, channels) -> out planes (channels, plane_stride), + bias[c]: 8x8 blocks of
// (pixels, channels) through registers, then the edges one value at a time.
static void SR_FN(channels_last_to_planes)(const float *SR_RESTRICT in, ptrdiff_t width, ptrdiff_t channels,
                                           const float *SR_RESTRICT bias, float *SR_RESTRICT out,
                                           ptrdiff_t plane_stride) {
    ptrdiff_t c8 = channels - channels % 8, x8 = width - width % 8;
    for (ptrdiff_t c0 = 0; c0 < c8; c0 += 8) {
        SR_FN(v8) b = {0, 0, 0, 0, 0, 0, 0, 0};
        if (bias) __builtin_memcpy(&b, bias + c0, sizeof b);
        for (ptrdiff_t x0 = 0; x0 < x8; x0 += 8) {
            SR_FN(v8) r[8];
            for (int i = 0; i < 8; i++) {
                __builtin_memcpy(&r[i], in + (x0 + i) * channels + c0, sizeof r[i]);
                r[i] += b;
            }
            SR_FN(transpose8)(r);
            for (int j = 0; j < 8; j++) __builtin_memcpy(out + (c0 + j) * plane_stride + x0, &r[j], sizeof r[j]);
        }
        for (ptrdiff_t c = c0; c < c0 + 8; c++)
            for (ptrdiff_t x = x8; x < width; x++) out[c * plane_stride + x] = in[x * channels + c] + (bias ? bias[c] : 0.0f);
    }
    for (ptrdiff_t c = c8; c < channels; c++) {
        float b = bias ? bias[c] : 0.0f;
        for (ptrdiff_t x = 0; x < width; x++) out[c * plane_stride + x] = in[x * channels + c] + b;
    }
}

// in planes (channels, plane_stride) -> out (width, channels), the same blocks the other way.
static void SR_FN(planes_to_channels_last)(const float *SR_RESTRICT in, ptrdiff_t plane_stride, ptrdiff_t width,
                                           ptrdiff_t channels, float *SR_RESTRICT out) {
    ptrdiff_t c8 = channels - channels % 8, x8 = width - width % 8;
    for (ptrdiff_t x0 = 0; x0 < x8; x0 += 8) {
        for (ptrdiff_t c0 = 0; c0 < c8; c0 += 8) {
            SR_FN(v8) r[8];
            for (int i = 0; i < 8; i++) __builtin_memcpy(&r[i], in + (c0 + i) * plane_stride + x0, sizeof r[i]);
            SR_FN(transpose8)(r);
            for (int j = 0; j < 8; j++) __builtin_memcpy(out + (x0 + j) * channels + c0, &r[j], sizeof r[j]);
        }
        for (ptrdiff_t x = x0; x < x0 + 8; x++)
            for (ptrdiff_t c = c8; c < channels; c++) out[x * channels + c] = in[c * plane_stride + x];
    }
    for (ptrdiff_t x = x8; x < width; x++)
        for (ptrdiff_t c = 0; c < channels; c++) out[x * channels + c] = in[c * plane_stride + x];
}

// C (M, N) = A (M, K) x B (K, N) (+ C when accumulate), row-major with leading dimensions, for the
// Winograd products (M = tiles, N and K = channels, 8..512): no packing and no separate beta pass,
// which on these shapes cost OpenBLAS as much as half its kernel time. Register blocks of
// SR_MR rows x 2 vectors of columns; B's column panel (K x 2 vectors) stays in L1 across a pass
// over A's rows. Columns past the last whole panel go through the plain loop below.
#define SR_MR 6
typedef float SR_FN(vec) __attribute__((vector_size(SR_VLEN * 4), aligned(4)));

static inline SR_FN(vec) SR_FN(load)(const float *p) {
    SR_FN(vec) v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline void SR_FN(store)(float *p, SR_FN(vec) v) { __builtin_memcpy(p, &v, sizeof v); }

static void SR_FN(small_gemm)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *SR_RESTRICT a, ptrdiff_t lda,
                              const float *SR_RESTRICT b, ptrdiff_t ldb, float *SR_RESTRICT c, ptrdiff_t ldc,
                              int accumulate) {
    const ptrdiff_t nr = 2 * SR_VLEN, panels = n / nr;
    for (ptrdiff_t panel = 0; panel < panels; panel++) {
        const ptrdiff_t j = panel * nr;
        ptrdiff_t i = 0;
        for (; i + SR_MR <= m; i += SR_MR) {
            SR_FN(vec) acc[SR_MR][2];
            for (int r = 0; r < SR_MR; r++) acc[r][0] = acc[r][1] = (SR_FN(vec)){0};
            const float *arow = a + i * lda;
            for (ptrdiff_t p = 0; p < k; p++) {
                SR_FN(vec) b0 = SR_FN(load)(b + p * ldb + j), b1 = SR_FN(load)(b + p * ldb + j + SR_VLEN);
                for (int r = 0; r < SR_MR; r++) {
                    float x = arow[r * lda + p];
                    acc[r][0] += x * b0;
                    acc[r][1] += x * b1;
                }
            }
            for (int r = 0; r < SR_MR; r++) {
                float *crow = c + (i + r) * ldc + j;
                if (accumulate) {
                    acc[r][0] += SR_FN(load)(crow);
                    acc[r][1] += SR_FN(load)(crow + SR_VLEN);
                }
                SR_FN(store)(crow, acc[r][0]);
                SR_FN(store)(crow + SR_VLEN, acc[r][1]);
            }
        }
        for (; i < m; i++) {  // the last rows, one at a time
            SR_FN(vec) acc0 = {0}, acc1 = {0};
            for (ptrdiff_t p = 0; p < k; p++) {
                float x = a[i * lda + p];
                acc0 += x * SR_FN(load)(b + p * ldb + j);
                acc1 += x * SR_FN(load)(b + p * ldb + j + SR_VLEN);
            }
            float *crow = c + i * ldc + j;
            if (accumulate) {
                acc0 += SR_FN(load)(crow);
                acc1 += SR_FN(load)(crow + SR_VLEN);
            }
            SR_FN(store)(crow, acc0);
            SR_FN(store)(crow + SR_VLEN, acc1);
        }
    }
    for (ptrdiff_t i = 0; i < m; i++) {  // the columns past the last panel
        for (ptrdiff_t jj = panels * nr; jj < n; jj++) {
            float sum = accumulate ? c[i * ldc + jj] : 0.0f;
            for (ptrdiff_t p = 0; p < k; p++) sum += a[i * lda + p] * b[p * ldb + jj];
            c[i * ldc + jj] = sum;
        }
    }
}

#include "pool_body.h"
#include "narrow_body.h"
#include "norm_body.h"

const sr_kernels SR_FN(table) = {
    .isa = SR_THIS_ISA,
    .name = SR_THIS_NAME,
    .winograd_input_tile = SR_FN(winograd_input_tile),
    .winograd_output_tile = SR_FN(winograd_output_tile),
    .winograd_output_grad_tile = SR_FN(winograd_output_grad_tile),
    .channels_last_to_planes = SR_FN(channels_last_to_planes),
    .planes_to_channels_last = SR_FN(planes_to_channels_last),
    .small_gemm = SR_FN(small_gemm),
    .max_pool2_row = SR_FN(max_pool2_row),
    .max_pool2_row_grad = SR_FN(max_pool2_row_grad),
    .interleave2_row = SR_FN(interleave2_row),
    .deinterleave2_row = SR_FN(deinterleave2_row),
    .conv3x3_narrow_forward = SR_FN(conv3x3_narrow_forward),
    .conv3x3_narrow_input_grad = SR_FN(conv3x3_narrow_input_grad),
    .conv3x3_narrow_weight_grad = SR_FN(conv3x3_narrow_weight_grad),
    .span_sum = SR_FN(span_sum),
    .span_squared_deviation = SR_FN(span_squared_deviation),
    .span_sum_and_squares = SR_FN(span_sum_and_squares),
    .affine_activate = SR_FN(affine_activate),
    .norm_grad_sums = SR_FN(norm_grad_sums),
    .norm_input_grad = SR_FN(norm_input_grad),
};

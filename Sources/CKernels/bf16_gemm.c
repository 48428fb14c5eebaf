// The bf16 product on AVX512-BF16 (Cooper Lake, Sapphire Rapids, Zen 4): c (m, n) (+)= a (m, k) x
// b (k, n), row-major fp32 in and out. Both inputs are rounded to bfloat16 while they are packed
// (VCVTNE2PS2BF16: round to nearest, ties to even), the products are summed in fp32 by VDPBF16PS.
// Compiled for these features only; callers check sr_bf16_runs_on first (SRCore/Kernels/
// BF16Gemm.swift refuses otherwise), and the fp32 tables of cpu.c do not include it.
//
// Either input may be transposed (op(x) = x or x^T, as in BLAS); the packing reads it either way.
// Packed layouts, per cache block of KC rows of op(b) (kp = KC / 2 pairs of k):
//   b: panels of NR = 32 columns; in a panel, pair p holds for each column j the two bf16
//      (b[2p][j], b[2p+1][j]) next to each other, the K-pair interleave VDPBF16PS reads:
//      panel[p * 64 + 2j + {0, 1}].
//   a: panels of MR = 8 rows; pair p of row i is one 32-bit word (a[i][2p], a[i][2p+1]) at
//      panel[p * MR + i], broadcast to all 16 lanes.
// Where pairs lie along rows of the stored matrix (a, or b transposed), 8 rows are converted 16
// floats at a time and their pair words transposed 8 x 8 in registers.
// An odd k and the ragged edges are padded with zeros, which add nothing to the sums.
//
// Rounding (VCVTNE2PS2BF16, as the Intel SDM defines it and as BF16Tests checks against the
// Swift reference): normal numbers to nearest, ties to even (values past the largest bf16 become
// infinity); infinities kept; NaN kept NaN (quiet bit set, sign and top payload kept); zero and
// denormal inputs become zero of the same sign. VDPBF16PS also flushes denormal products and sums.
#include "srkernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sr_bf16_runs_on(const sr_cpu_info *c) {
    return sr_isa_runs_on(SR_ISA_AVX512, c) && c->avx512bf16;
}

#if defined(__x86_64__)
#include <immintrin.h>
#include <pthread.h>

#define SR_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// Register block MR x NR (2 MR accumulators); cache blocks: KC = 576, the k of a 3x3 convolution
// of 64 channels, so c is written once; a KC x NC block of b (288 kB) stays in L2 (1 MB on Zen 4),
// a KC x NR panel (36 kB) mostly in L1 across MC rows of a. Chosen by bench/bf16 on Zen 4
// (docs/architecture.md, "bf16 products"). MR is 8: the packing routines transpose 8 x 8 blocks.
#ifndef SR_BF16_KC
#define SR_BF16_KC 576
#endif
#ifndef SR_BF16_MC
#define SR_BF16_MC 128
#endif
#ifndef SR_BF16_NC
#define SR_BF16_NC 256
#endif
enum { MR = 8, NR = 32, KC = SR_BF16_KC, MC = SR_BF16_MC, NC = SR_BF16_NC };
// rows of a per pass over a block of b: whole a panels
enum { MCB = MC / MR * MR > MR ? MC / MR * MR : MR };
// rows of a packed at once: at most 4 MB of packed a per thread (the whole m for every shape
// the networks make; a larger m packs b once per such block of rows)
enum { A_BLOCK_BYTES = 1 << 22 };

// Interleaves the bf16 halves of cvtne2ps(hi, lo): [lo0..lo15, hi0..hi15] -> [lo0, hi0, lo1, hi1, ...].
SR_BF16_TARGET static inline __m512i interleave_pairs(__m512i halves) {
    const __m512i index = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(index, halves);
}

// The same for 8 + 8: [lo0..lo7, hi0..hi7] -> [lo0, hi0, ..., lo7, hi7].
SR_BF16_TARGET static inline __m256i interleave_pairs8(__m256i halves) {
    const __m256i index = _mm256_set_epi16(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
    return _mm256_permutexvar_epi16(index, halves);
}

SR_BF16_TARGET static inline __mmask16 lanes(ptrdiff_t count) {
    return count >= 16 ? (__mmask16)0xffff : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

SR_BF16_TARGET static inline __mmask8 lanes8(ptrdiff_t count) {
    return count >= 8 ? (__mmask8)0xff : count <= 0 ? (__mmask8)0 : (__mmask8)((1u << count) - 1);
}

// 16 consecutive floats (masked: missing ones are zero) -> 8 words, word t the bf16 pair (x[2t], x[2t+1]).
SR_BF16_TARGET static inline __m256i pairs_of_16(const float *x, __mmask16 mask) {
    return (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, x));
}

// r[i] word j -> r[j] word i (the 8 x 8 transpose of 32-bit words).
SR_BF16_TARGET static inline void transpose8x8(__m256i r[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int h = 0; h < 8; h += 4) {
        u[h] = _mm256_unpacklo_epi64(t[h], t[h + 2]);
        u[h + 1] = _mm256_unpackhi_epi64(t[h], t[h + 2]);
        u[h + 2] = _mm256_unpacklo_epi64(t[h + 1], t[h + 3]);
        u[h + 3] = _mm256_unpackhi_epi64(t[h + 1], t[h + 3]);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm256_permute2x128_si256(u[j], u[j + 4], 0x20);
        r[j + 4] = _mm256_permute2x128_si256(u[j], u[j + 4], 0x31);
    }
}

// Eight rows of x (row i at x + i * ld, rows from `rows` on read as zero), k columns from 0 to kc:
// pair words transposed, pair p's 8 words (one per row) stored at out + p * stride.
SR_BF16_TARGET static void pack_rows_of_pairs(const float *x, ptrdiff_t ld, ptrdiff_t rows, ptrdiff_t kc,
                                              uint32_t *out, ptrdiff_t stride) {
    for (ptrdiff_t q = 0; q < kc; q += 16) {
        __mmask16 mask = lanes(kc - q);
        __m256i r[8];
        for (int i = 0; i < 8; i++) r[i] = i < rows ? pairs_of_16(x + i * ld + q, mask) : _mm256_setzero_si256();
        transpose8x8(r);
        ptrdiff_t count = (kc - q + 1) / 2 < 8 ? (kc - q + 1) / 2 : 8;
        for (ptrdiff_t t = 0; t < count; t++) _mm256_storeu_si256((__m256i *)(out + (q / 2 + t) * stride), r[t]);
    }
}

// op(b) rows 0 .. kc, columns 0 .. nc -> panels of NR columns (kc may be odd: the last pair's
// second row is zero; nc need not be a multiple of NR: missing columns are zero). b points at
// op(b)'s element (0, 0): b[kk * ldb + j] when not transposed, b[j * ldb + kk] when transposed.
SR_BF16_TARGET static void pack_b(int transposed, const float *b, ptrdiff_t ldb, ptrdiff_t kc, ptrdiff_t nc,
                                  uint16_t *out) {
    ptrdiff_t kp = (kc + 1) / 2;
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += NR) {
        uint16_t *panel = out + (j0 / NR) * kp * 2 * NR;
        if (transposed) {
            // column j of op(b) is row j of b: 8 columns at a time, transposed into the pair rows
            for (ptrdiff_t jj = 0; jj < NR; jj += 8)
                pack_rows_of_pairs(b + (j0 + jj) * ldb, ldb, nc - j0 - jj, kc, (uint32_t *)panel + jj, NR);
            continue;
        }
        __mmask16 m0 = lanes(nc - j0), m1 = lanes(nc - j0 - 16);
        for (ptrdiff_t p = 0; p < kp; p++) {
            const float *r0 = b + 2 * p * ldb + j0, *r1 = r0 + ldb;
            int second = 2 * p + 1 < kc;
            __m512 lo0 = _mm512_maskz_loadu_ps(m0, r0), lo1 = _mm512_maskz_loadu_ps(m1, r0 + 16);
            __m512 hi0 = second ? _mm512_maskz_loadu_ps(m0, r1) : _mm512_setzero_ps();
            __m512 hi1 = second ? _mm512_maskz_loadu_ps(m1, r1 + 16) : _mm512_setzero_ps();
            __m512i v0 = interleave_pairs((__m512i)_mm512_cvtne2ps_pbh(hi0, lo0));
            __m512i v1 = interleave_pairs((__m512i)_mm512_cvtne2ps_pbh(hi1, lo1));
            _mm512_store_si512((void *)(panel + p * 64), v0);
            _mm512_store_si512((void *)(panel + p * 64 + 32), v1);
        }
    }
}

// op(a) rows 0 .. mc, columns 0 .. kc -> panels of MR rows (missing rows and the odd column are
// zero). a points at op(a)'s element (0, 0): a[i * lda + kk], or a[kk * lda + i] when transposed.
SR_BF16_TARGET static void pack_a(int transposed, const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t kc,
                                  uint32_t *out) {
    ptrdiff_t kp = (kc + 1) / 2;
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        uint32_t *panel = out + (i0 / MR) * kp * MR;
        if (!transposed) {
            pack_rows_of_pairs(a + i0 * lda, lda, mc - i0, kc, panel, MR);
            continue;
        }
        // rows i0 .. i0 + 8 of op(a) are 8 consecutive floats of two rows of a per pair
        __mmask8 mask = lanes8(mc - i0);
        for (ptrdiff_t p = 0; p < kp; p++) {
            __m256 lo = _mm256_maskz_loadu_ps(mask, a + 2 * p * lda + i0);
            __m256 hi = 2 * p + 1 < kc ? _mm256_maskz_loadu_ps(mask, a + (2 * p + 1) * lda + i0) : _mm256_setzero_ps();
            _mm256_storeu_si256((__m256i *)(panel + p * MR), interleave_pairs8((__m256i)_mm256_cvtne2ps_pbh(hi, lo)));
        }
    }
}

// c (mr <= MR, nr <= NR) (+)= one a panel x one b panel over kp pairs. The accumulator array is
// indexed by constants only once the loops unroll, so clang keeps it in 2 MR zmm registers.
SR_BF16_TARGET static void micro_kernel(ptrdiff_t kp, const uint32_t *ap, const uint16_t *bp, float *c,
                                        ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr, int accumulate) {
    __m512 acc[MR][2];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < kp; p++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)(bp + p * 64));
        __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(bp + p * 64 + 32));
        const uint32_t *ar = ap + p * MR;
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)ar[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *ci = c + i * ldc;
        __m512 v0 = acc[i][0], v1 = acc[i][1];
        if (accumulate) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, ci));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, ci + 16));
        }
        _mm512_mask_storeu_ps(ci, m0, v0);
        _mm512_mask_storeu_ps(ci + 16, m1, v1);
    }
}

// Each thread's packing buffer, kept between calls (the networks make thousands of small
// products a step) and freed when the thread ends.
typedef struct { unsigned char *bytes; size_t size; } work_buffer;
static pthread_key_t work_key;
static pthread_once_t work_once = PTHREAD_ONCE_INIT;

static void work_free(void *value) {
    work_buffer *w = value;
    free(w->bytes);
    free(w);
}

static void work_key_make(void) { (void)pthread_key_create(&work_key, work_free); }

static unsigned char *work_get(size_t bytes) {
    (void)pthread_once(&work_once, work_key_make);
    work_buffer *w = pthread_getspecific(work_key);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w || pthread_setspecific(work_key, w) != 0) {
            free(w);
            return NULL;
        }
    }
    if (w->size < bytes) {
        free(w->bytes);
        w->size = 0;
        w->bytes = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!w->bytes) return NULL;
        w->size = bytes;
    }
    return w->bytes;
}

SR_BF16_TARGET static int bf16_gemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                                    ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                    int accumulate) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {
        if (!accumulate)
            for (ptrdiff_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
        return 0;
    }
    // Whole register panels: packing pads the last one of a block with zeros. The rows of a are
    // packed once per block of k (all m of them up to A_BLOCK_BYTES), not once per block of
    // columns: with NC = 256 the 9216 columns of a 96x96 map would repack a 36 times.
    ptrdiff_t ncMax = ((n < NC ? n : NC) + NR - 1) / NR * NR;
    ptrdiff_t kpMax = ((k < KC ? k : KC) + 1) / 2;
    ptrdiff_t maLimit = A_BLOCK_BYTES / (ptrdiff_t)(kpMax * MR * sizeof(uint32_t)) * MR;
    if (maLimit < MCB) maLimit = MCB;
    ptrdiff_t maMax = ((m < maLimit ? m : maLimit) + MR - 1) / MR * MR;
    size_t bBytes = (size_t)(kpMax * 2 * ncMax) * sizeof(uint16_t);
    size_t aBytes = (size_t)(kpMax * maMax) * sizeof(uint32_t);
    unsigned char *work = work_get(bBytes + aBytes);
    if (!work) return -1;
    uint16_t *bPacked = (uint16_t *)work;
    uint32_t *aPacked = (uint32_t *)(work + bBytes);
    for (ptrdiff_t k0 = 0; k0 < k; k0 += KC) {
        ptrdiff_t kc = k - k0 < KC ? k - k0 : KC, kp = (kc + 1) / 2;
        int add = accumulate || k0 > 0;
        for (ptrdiff_t ia = 0; ia < m; ia += maMax) {
            ptrdiff_t ma = m - ia < maMax ? m - ia : maMax;
            pack_a(transA, transA ? a + k0 * lda + ia : a + ia * lda + k0, lda, ma, kc, aPacked);
            for (ptrdiff_t j0 = 0; j0 < n; j0 += NC) {
                ptrdiff_t nc = n - j0 < NC ? n - j0 : NC;
                pack_b(transB, transB ? b + j0 * ldb + k0 : b + k0 * ldb + j0, ldb, kc, nc, bPacked);
                for (ptrdiff_t i0 = 0; i0 < ma; i0 += MCB) {
                    ptrdiff_t mc = ma - i0 < MCB ? ma - i0 : MCB;
                    for (ptrdiff_t jr = 0; jr < nc; jr += NR)
                        for (ptrdiff_t ir = 0; ir < mc; ir += MR)
                            micro_kernel(kp, aPacked + ((i0 + ir) / MR) * kp * MR, bPacked + (jr / NR) * kp * 2 * NR,
                                         c + (ia + i0 + ir) * ldc + j0 + jr, ldc, mc - ir < MR ? mc - ir : MR,
                                         nc - jr < NR ? nc - jr : NR, add);
                }
            }
        }
    }
    return 0;
}

SR_BF16_TARGET static void bf16_round(const float *x, uint16_t *out, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i += 32) {
        __m512 lo = _mm512_maskz_loadu_ps(lanes(count - i), x + i);
        __m512 hi = _mm512_maskz_loadu_ps(lanes(count - i - 16), x + i + 16);
        __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
        __mmask32 keep = count - i >= 32 ? 0xffffffffu : (__mmask32)((1ull << (count - i)) - 1);
        _mm512_mask_storeu_epi16(out + i, keep, v);
    }
}

int sr_bf16_gemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                 const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate) {
    return bf16_gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void sr_bf16_round(const float *x, unsigned short *out, ptrdiff_t count) { bf16_round(x, out, count); }

#else
int sr_bf16_gemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                 const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate) {
    (void)transA; (void)transB; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc; (void)accumulate;
    return -2;
}
void sr_bf16_round(const float *x, unsigned short *out, ptrdiff_t count) { (void)x; (void)out; (void)count; }
#endif

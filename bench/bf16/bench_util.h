// Shared by the bf16 bench programs of this folder: a monotonic clock and fp32 -> bf16 rounding
// (nearest, ties to even; the benches feed it finite normal numbers only).
#ifndef SRGAN_BENCH_BF16_UTIL_H
#define SRGAN_BENCH_BF16_UTIL_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static inline uint16_t to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

// a (m, k), b (k, n) uniform in [-0.5, 0.5] (the same values in every program), their bf16
// copies ah, bh, and room for c (m, n).
static inline void bench_inputs(long m, long n, long k, float **a, float **b, float **c, uint16_t **ah, uint16_t **bh) {
    *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
    *ah = malloc(2 * m * k), *bh = malloc(2 * k * n);
    srand(1);
    for (long i = 0; i < m * k; i++) (*ah)[i] = to_bf16((*a)[i] = rand() / (float)RAND_MAX - 0.5f);
    for (long i = 0; i < k * n; i++) (*bh)[i] = to_bf16((*b)[i] = rand() / (float)RAND_MAX - 0.5f);
}

// The products SRGAN's 3x3 convolutions make, (m, n, k):
// im2col, (cout, H*W) = (cout, cin*9) x (cin*9, H*W) with 48x48 and 96x96 maps;
// Winograd F(4x4, 3x3), (tiles, cout) = (tiles, cin) x (cin, cout), 64 channels.
static const long bench_shapes[][3] = {
    {64, 2304, 576}, {64, 9216, 576}, {256, 2304, 576}, {128, 9216, 576}, {256, 9216, 576},
    {288, 64, 64}, {576, 64, 64}, {2304, 64, 64}, {4608, 64, 64},
};
enum { bench_shape_count = sizeof bench_shapes / sizeof bench_shapes[0] };
#endif

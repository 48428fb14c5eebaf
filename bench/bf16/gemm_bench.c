// GFLOP/s of the products SRGAN's convolutions make: fp32 cblas_sgemm (the system OpenBLAS, one
// thread per part) against srgan-dist's bf16 kernel (Sources/CKernels/bf16_gemm.c), at 1 and 2
// threads. With 2 threads both split C the way SRCore's parallelGemm does (the longer side, one
// single-threaded call per part, on OpenMP's kept threads). Prints one line per shape: m n k threads sgemm bf16 ratio.
// Build and run: see bench/bf16/README.md.
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "srkernels.h"

typedef struct { int bf16; long m, n, k, part, parts; const float *a, *b; float *c; } job;

static void *run(void *arg) {
    job *j = arg;
    long split_rows = j->m >= j->n, length = split_rows ? j->m : j->n;
    long start = length * j->part / j->parts, end = length * (j->part + 1) / j->parts;
    if (split_rows) {
        const float *a = j->a + start * j->k;
        float *c = j->c + start * j->n;
        if (j->bf16) sr_bf16_gemm(end - start, j->n, j->k, a, j->k, j->b, j->n, c, j->n, 0);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, end - start, j->n, j->k, 1, a, j->k, j->b, j->n, 0, c, j->n);
    } else {
        const float *b = j->b + start;
        float *c = j->c + start;
        if (j->bf16) sr_bf16_gemm(j->m, end - start, j->k, j->a, j->k, b, j->n, c, j->n, 0);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, end - start, j->k, 1, j->a, j->k, b, j->n, 0, c, j->n);
    }
    return NULL;
}

// Best of 5 timings of enough repetitions to take ~0.1 s each.
static double gflops(int bf16, long m, long n, long k, int threads, const float *a, const float *b, float *c) {
    job jobs[8];
    for (int t = 0; t < threads; t++) jobs[t] = (job){bf16, m, n, k, t, threads, a, b, c};
    double flop = 2.0 * m * n * k, best = 1e30;
    long reps = (long)(0.1e9 * 30 / flop) + 1;
    for (int round = 0; round < 6; round++) {
        double t0 = now();
        for (long r = 0; r < reps; r++) {
            // OpenMP keeps its threads between calls, as Dispatch does for SRCore's parallelGemm.
#pragma omp parallel for num_threads(threads) schedule(static, 1)
            for (int t = 0; t < threads; t++) run(&jobs[t]);
        }
        double dt = (now() - t0) / reps;
        if (round > 0 && dt < best) best = dt;  // round 0 warms up
    }
    return flop / best * 1e-9;
}

int main(int argc, char **argv) {
    int max_threads = argc > 1 ? atoi(argv[1]) : 2;
    sr_cpu_info cpu;
    sr_cpu_detect(&cpu);
    printf("# %s (family %d model %d), avx512bf16 %d; OpenBLAS %s, core %s\n", cpu.brand, cpu.family, cpu.model,
           sr_bf16_runs_on(&cpu), openblas_get_config(), openblas_get_corename());
    if (!sr_bf16_runs_on(&cpu)) return 1;
    openblas_set_num_threads(1);
    printf("# m n k threads sgemm_gflops bf16_gflops bf16/sgemm\n");
    for (size_t s = 0; s < bench_shape_count; s++) {
        long m = bench_shapes[s][0], n = bench_shapes[s][1], k = bench_shapes[s][2];
        float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
        srand(1);
        for (long i = 0; i < m * k; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
        for (long i = 0; i < k * n; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
        for (int threads = 1; threads <= max_threads; threads++) {
            double f = gflops(0, m, n, k, threads, a, b, c), h = gflops(1, m, n, k, threads, a, b, c);
            printf("%ld %ld %ld %d %.1f %.1f %.2f\n", m, n, k, threads, f, h, h / f);
            fflush(stdout);
        }
        free(a); free(b); free(c);
    }
    return 0;
}

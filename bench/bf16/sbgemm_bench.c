// OpenBLAS 0.3.31 (PyPI's cmeel-openblas, dlopened from the path given as argv[1], so nothing of
// srgan-dist links it) on SRGAN's convolution products: its cblas_sgemm (fp32) and cblas_sbgemm
// (bf16 inputs, converted beforehand outside the timing, fp32 output), with its own threads
// (openblas_set_num_threads 1, then 2). Prints: m n k threads sgemm sbgemm (GFLOP/s).
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

enum { RowMajor = 101, NoTrans = 111 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*sbgemm_fn)(int, int, int, int, int, int, float, const uint16_t *, int, const uint16_t *, int, float, float *, int);
static sgemm_fn sgemm;
static sbgemm_fn sbgemm;

static double time_it(int half, long m, long n, long k, const void *a, const void *b, float *c) {
    double flop = 2.0 * m * n * k, best = 1e30;
    long reps = (long)(0.1e9 * 30 / flop) + 1;
    for (int round = 0; round < 6; round++) {
        double t0 = now();
        for (long r = 0; r < reps; r++) {
            if (half) sbgemm(RowMajor, NoTrans, NoTrans, m, n, k, 1.f, a, k, b, n, 0.f, c, n);
            else sgemm(RowMajor, NoTrans, NoTrans, m, n, k, 1.f, a, k, b, n, 0.f, c, n);
        }
        double dt = (now() - t0) / reps;
        if (round > 0 && dt < best) best = dt;
    }
    return flop / best * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: sbgemm_bench PATH/libopenblas.so.0\n"); return 2; }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
    sbgemm = (sbgemm_fn)dlsym(lib, "cblas_sbgemm");
    void (*set_threads)(int) = (void (*)(int))dlsym(lib, "openblas_set_num_threads");
    char *(*config)(void) = (char *(*)(void))dlsym(lib, "openblas_get_config");
    char *(*core)(void) = (char *(*)(void))dlsym(lib, "openblas_get_corename");
    if (!sgemm || !set_threads) { fprintf(stderr, "no cblas_sgemm or openblas_set_num_threads in %s\n", argv[1]); return 1; }
    printf("# %s, core %s\n", config ? config() : "?", core ? core() : "?");
    // A build without BUILD_BFLOAT16 declares cblas_sbgemm in its cblas.h but does not export it.
    if (!sbgemm) printf("# %s exports no cblas_sbgemm: sbgemm column is 0\n", argv[1]);
    printf("# m n k threads sgemm sbgemm\n");
    for (size_t s = 0; s < bench_shape_count; s++) {
        long m = bench_shapes[s][0], n = bench_shapes[s][1], k = bench_shapes[s][2];
        float *a, *b, *c;
        uint16_t *ah, *bh;
        bench_inputs(m, n, k, &a, &b, &c, &ah, &bh);
        for (int threads = 1; threads <= 2; threads++) {
            set_threads(threads);
            double f = time_it(0, m, n, k, a, b, c), h = sbgemm ? time_it(1, m, n, k, ah, bh, c) : 0;
            printf("%ld %ld %ld %d %.1f %.1f\n", m, n, k, threads, f, h);
            fflush(stdout);
        }
        free(a); free(b); free(c); free(ah); free(bh);
    }
    return 0;
}

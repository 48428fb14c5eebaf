// oneDNN (Debian's libdnnl-dev 2.6.3) on SRGAN's convolution products, as bench/bf16/gemm_bench.c
// measures srgan-dist's kernel: dnnl_sgemm (fp32), a matmul primitive on bf16 inputs with fp32
// output (inputs converted beforehand, outside the timing), and an fp32 matmul with the bf16
// fpmath mode (oneDNN converts inside). Threads: OMP_NUM_THREADS (oneDNN's own OpenMP split).
// ONEDNN_VERBOSE=1 prints the implementation (ISA) each primitive runs.
// Prints: m n k threads sgemm matmul_bf16 matmul_f32_fpmath_bf16 (GFLOP/s).
#include <dnnl.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define CHECK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { fprintf(stderr, "%s: %d\n", #x, s_); exit(1); } } while (0)

static dnnl_engine_t engine;
static dnnl_stream_t stream;

typedef struct { long m, n, k; const float *a, *b; float *c; dnnl_primitive_t prim; dnnl_exec_arg_t args[3]; int kind; } bench;

static void run_once(bench *x) {
    if (x->kind == 0)
        CHECK(dnnl_sgemm('N', 'N', x->m, x->n, x->k, 1.f, x->a, x->k, x->b, x->n, 0.f, x->c, x->n));
    else {
        CHECK(dnnl_primitive_execute(x->prim, stream, 3, x->args));
        CHECK(dnnl_stream_wait(stream));
    }
}

static double time_it(bench *x) {
    double flop = 2.0 * x->m * x->n * x->k, best = 1e30;
    long reps = (long)(0.1e9 * 30 / flop) + 1;
    for (int round = 0; round < 6; round++) {
        double t0 = now();
        for (long r = 0; r < reps; r++) run_once(x);
        double dt = (now() - t0) / reps;
        if (round > 0 && dt < best) best = dt;
    }
    return flop / best * 1e-9;
}

static dnnl_primitive_t matmul(long m, long n, long k, dnnl_data_type_t in, int fpmath_bf16) {
    dnnl_memory_desc_t a, b, c;
    dnnl_dims_t da = {m, k}, db = {k, n}, dc = {m, n};
    CHECK(dnnl_memory_desc_init_by_tag(&a, 2, da, in, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&b, 2, db, in, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&c, 2, dc, dnnl_f32, dnnl_ab));
    dnnl_matmul_desc_t desc;
    CHECK(dnnl_matmul_desc_init(&desc, &a, &b, NULL, &c));
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    if (fpmath_bf16) CHECK(dnnl_primitive_attr_set_fpmath_mode(attr, dnnl_fpmath_mode_bf16));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL));
    const char *impl;
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    fprintf(stderr, "# matmul %ldx%ldx%ld %s%s: %s\n", m, n, k, in == dnnl_bf16 ? "bf16" : "f32",
            fpmath_bf16 ? " fpmath bf16" : "", impl);
    dnnl_primitive_t prim;
    CHECK(dnnl_primitive_create(&prim, pd));
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    return prim;
}

static dnnl_memory_t memory(long rows, long cols, dnnl_data_type_t type, void *data) {
    dnnl_memory_desc_t d;
    dnnl_dims_t dims = {rows, cols};
    CHECK(dnnl_memory_desc_init_by_tag(&d, 2, dims, type, dnnl_ab));
    dnnl_memory_t mem;
    CHECK(dnnl_memory_create(&mem, &d, engine, data));
    return mem;
}

int main(void) {
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    const dnnl_version_t *v = dnnl_version();
    printf("# oneDNN %d.%d.%d, %d OpenMP threads\n", v->major, v->minor, v->patch, omp_get_max_threads());
    printf("# m n k threads sgemm matmul_bf16 matmul_f32_fpmath_bf16\n");
    for (size_t s = 0; s < bench_shape_count; s++) {
        long m = bench_shapes[s][0], n = bench_shapes[s][1], k = bench_shapes[s][2];
        float *a, *b, *c;
        uint16_t *ah, *bh;
        bench_inputs(m, n, k, &a, &b, &c, &ah, &bh);
        bench f = {m, n, k, a, b, c, NULL, {{0}}, 0};
        bench h = {m, n, k, a, b, c, matmul(m, n, k, dnnl_bf16, 0),
                   {{DNNL_ARG_SRC, memory(m, k, dnnl_bf16, ah)}, {DNNL_ARG_WEIGHTS, memory(k, n, dnnl_bf16, bh)},
                    {DNNL_ARG_DST, memory(m, n, dnnl_f32, c)}}, 1};
        bench g = {m, n, k, a, b, c, matmul(m, n, k, dnnl_f32, 1),
                   {{DNNL_ARG_SRC, memory(m, k, dnnl_f32, a)}, {DNNL_ARG_WEIGHTS, memory(k, n, dnnl_f32, b)},
                    {DNNL_ARG_DST, memory(m, n, dnnl_f32, c)}}, 1};
        printf("%ld %ld %ld %d %.1f %.1f %.1f\n", m, n, k, omp_get_max_threads(), time_it(&f), time_it(&h), time_it(&g));
        fflush(stdout);
    }
    return 0;
}

// The avx512 path: kernels_body.h compiled with avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt.
#include "srkernels.h"

#define SR_FN(name) sr_avx512_##name
#define SR_THIS_ISA SR_ISA_AVX512
#define SR_THIS_NAME "avx512"
#define SR_VLEN 16
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt"))), apply_to = function)
#endif
#include "kernels_body.h"
#if defined(__x86_64__)
#pragma clang attribute pop
#endif

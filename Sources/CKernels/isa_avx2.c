// The avx2 path: kernels_body.h compiled with avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt.
#include "srkernels.h"

#define SR_FN(name) sr_avx2_##name
#define SR_THIS_ISA SR_ISA_AVX2
#define SR_THIS_NAME "avx2"
#define SR_VLEN 8
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt"))), apply_to = function)
#endif
#include "kernels_body.h"
#if defined(__x86_64__)
#pragma clang attribute pop
#endif

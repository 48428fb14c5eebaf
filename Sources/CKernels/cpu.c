// CPU feature detection (CPUID, XGETBV) and the per-ISA kernel tables.
#include "srkernels.h"

#include <string.h>

extern const sr_kernels sr_baseline_table, sr_avx2_table, sr_avx512_table;

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static void cpuid(unsigned leaf, unsigned subleaf, unsigned r[4]) {
    __cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
}

static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

void sr_cpu_detect(sr_cpu_info *info) {
    memset(info, 0, sizeof *info);
    unsigned r[4];
    cpuid(0, 0, r);
    unsigned max_leaf = r[0];
    memcpy(info->vendor, &r[1], 4);
    memcpy(info->vendor + 4, &r[3], 4);
    memcpy(info->vendor + 8, &r[2], 4);
    if (max_leaf >= 1) {
        cpuid(1, 0, r);
        unsigned base_family = (r[0] >> 8) & 0xf, base_model = (r[0] >> 4) & 0xf;
        info->family = (int)(base_family == 0xf ? base_family + ((r[0] >> 20) & 0xff) : base_family);
        info->model = (int)((base_family == 0x6 || base_family == 0xf) ? (((r[0] >> 16) & 0xf) << 4) + base_model
                                                                       : base_model);
        info->stepping = (int)(r[0] & 0xf);
        unsigned ecx = r[2];
        info->sse3 = (ecx >> 0) & 1;
        info->ssse3 = (ecx >> 9) & 1;
        info->fma = (ecx >> 12) & 1;
        info->sse41 = (ecx >> 19) & 1;
        info->sse42 = (ecx >> 20) & 1;
        info->avx = (ecx >> 28) & 1;
        info->f16c = (ecx >> 29) & 1;
        int osxsave = (ecx >> 27) & 1;
        if (osxsave) {
            unsigned long long xcr0 = xgetbv0();
            info->os_avx = (xcr0 & 0x6) == 0x6;               // SSE and AVX state
            info->os_avx512 = (xcr0 & 0xe6) == 0xe6;          // + opmask, ZMM_Hi256, Hi16_ZMM
            info->os_amx = (xcr0 & 0x60000) == 0x60000;       // XTILECFG, XTILEDATA (permission is per process)
        }
    }
    if (max_leaf >= 7) {
        cpuid(7, 0, r);
        unsigned ebx = r[1], ecx = r[2], edx = r[3], subleaves = r[0];
        info->avx2 = (ebx >> 5) & 1;
        info->avx512f = (ebx >> 16) & 1;
        info->avx512dq = (ebx >> 17) & 1;
        info->avx512bw = (ebx >> 30) & 1;
        info->avx512vl = (ebx >> 31) & 1;
        info->avx512vnni = (ecx >> 11) & 1;
        info->avx512fp16 = (edx >> 23) & 1;
        info->amx_bf16 = (edx >> 22) & 1;
        info->amx_tile = (edx >> 24) & 1;
        info->amx_int8 = (edx >> 25) & 1;
        if (subleaves >= 1) {
            cpuid(7, 1, r);
            info->avx512bf16 = (r[0] >> 5) & 1;
        }
    }
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++) {
            cpuid(0x80000002u + i, 0, r);
            memcpy(info->brand + 16 * i, r, 16);
        }
        info->brand[48] = 0;
        // trim the padding some CPUs put around the name
        size_t start = 0, length = strlen(info->brand);
        while (start < length && info->brand[start] == ' ') start++;
        memmove(info->brand, info->brand + start, length - start + 1);
        length = strlen(info->brand);
        while (length > 0 && info->brand[length - 1] == ' ') info->brand[--length] = 0;
    }
}
#else
void sr_cpu_detect(sr_cpu_info *info) {
    memset(info, 0, sizeof *info);
    strcpy(info->vendor, "unknown");
    strcpy(info->brand, "not an x86 CPU");
}
#endif

int sr_isa_runs_on(sr_isa isa, const sr_cpu_info *c) {
    switch (isa) {
    case SR_ISA_BASELINE:
        return 1;
    case SR_ISA_AVX2:
        return c->os_avx && c->avx && c->avx2 && c->fma && c->f16c;
    case SR_ISA_AVX512:
        return sr_isa_runs_on(SR_ISA_AVX2, c) && c->os_avx512 && c->avx512f && c->avx512dq && c->avx512bw &&
               c->avx512vl;
    default:
        return 0;
    }
}

sr_isa sr_isa_best(const sr_cpu_info *info) {
    for (int isa = SR_ISA_COUNT - 1; isa > SR_ISA_BASELINE; isa--)
        if (sr_isa_runs_on((sr_isa)isa, info)) return (sr_isa)isa;
    return SR_ISA_BASELINE;
}

const sr_kernels *sr_kernels_for(sr_isa isa) {
    switch (isa) {
    case SR_ISA_BASELINE: return &sr_baseline_table;
    case SR_ISA_AVX2: return &sr_avx2_table;
    case SR_ISA_AVX512: return &sr_avx512_table;
    default: return NULL;
    }
}

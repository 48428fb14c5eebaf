// The baseline path: kernels_body.h compiled with the baseline x86-64 features (SSE2).
#include "srkernels.h"

#define SR_FN(name) sr_baseline_##name
#define SR_THIS_ISA SR_ISA_BASELINE
#define SR_THIS_NAME "baseline"
#define SR_VLEN 4
#include "kernels_body.h"

// malloc settings for a training process (glibc): see TensorMemory.keepFreedMemory; and whether
// the build is instrumented by AddressSanitizer (TensorMemory.pooling).
#include "srkernels.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void sr_keep_freed_memory(size_t mmap_threshold, size_t trim_threshold) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, (int)trim_threshold);
#else
    (void)mmap_threshold;
    (void)trim_threshold;
#endif
}

// clang says __has_feature(address_sanitizer), gcc defines __SANITIZE_ADDRESS__.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SR_ADDRESS_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SR_ADDRESS_SANITIZER)
#define SR_ADDRESS_SANITIZER 1
#endif

int sr_address_sanitizer_active(void) {
#if defined(SR_ADDRESS_SANITIZER)
    return 1;
#else
    return 0;
#endif
}

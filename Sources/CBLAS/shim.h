// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). pkg-config "openblas" adds the include
// folder that holds OpenBLAS's own cblas.h, which also declares openblas_set_num_threads.
#ifndef SRGAN_CBLAS_SHIM_H
#define SRGAN_CBLAS_SHIM_H
#include <cblas.h>
#endif

// libpng 1.6 (Debian: libpng-dev). Swift code does not call libpng directly: it goes through
// CPNGShim, which owns the setjmp/longjmp error handling that libpng requires.
#ifndef SRGAN_CLIBPNG_SHIM_H
#define SRGAN_CLIBPNG_SHIM_H
#include <png.h>
#endif

// liblz4's block API (Debian: liblz4-dev). LZ4_COMPRESSBOUND is a function-like macro; Swift calls
// the function LZ4_compressBound instead, so nothing needs shimming yet.
#ifndef SRGAN_CLZ4_SHIM_H
#define SRGAN_CLZ4_SHIM_H
#include <lz4.h>
#endif

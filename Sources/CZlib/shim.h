// zlib (Debian: zlib1g-dev, which libpng needs anyway): its crc32() checksums shard blocks,
// indexes and whole shard files.
#ifndef SRGAN_CZLIB_SHIM_H
#define SRGAN_CZLIB_SHIM_H
#include <zlib.h>
#endif

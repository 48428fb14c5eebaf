// libdeflate (Debian: libdeflate-dev): its CRC-32 (carry-less multiply on x86, the same values as
// zlib's crc32) checksums shard blocks, indexes and whole shard files.
#ifndef SRGAN_CLIBDEFLATE_SHIM_H
#define SRGAN_CLIBDEFLATE_SHIM_H
#include <libdeflate.h>
#endif

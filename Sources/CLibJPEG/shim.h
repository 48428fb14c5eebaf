// libjpeg-turbo's libjpeg API (Debian: libjpeg62-turbo-dev). Swift code does not call it
// directly: it goes through CJPEGShim, which owns the setjmp/longjmp error handling.
#ifndef SRGAN_CLIBJPEG_SHIM_H
#define SRGAN_CLIBJPEG_SHIM_H
#include <stdio.h>  // jpeglib.h uses FILE and size_t without including them
#include <jpeglib.h>
#include <jerror.h>
#endif

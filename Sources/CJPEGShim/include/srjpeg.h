// JPEG decoding through libjpeg-turbo with its setjmp error handling kept on the C side.
// Every function returns 0 on success and -1 on failure; on failure `message` holds one line
// (libjpeg's own words, or ours) and nothing is leaked. Decoder settings (docs/jpeg.md): the
// accurate integer DCT (JDCT_ISLOW) and fancy (triangle-filter) chroma upsampling, libjpeg's
// defaults and Pillow's.
#ifndef SRGAN_SRJPEG_H
#define SRGAN_SRJPEG_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t width;      // after the EXIF orientation is applied
    uint32_t height;
    uint8_t *pixels;     // RGB8, row-major, width*height*3 bytes; free with srjpeg_free
    int components;      // colour components stored in the file: 1 (gray) or 3 (YCbCr or RGB)
    int progressive;     // 1 if the file is progressive (multi-scan)
    int orientation;     // EXIF orientation 1..8 as found in the file (1 when absent or unreadable)
    int warnings;        // corrupt-data warnings libjpeg recovered from while decoding
} srjpeg_image;

// Refusals, with a message: CMYK/YCCK files, component counts other than 1 and 3, sample
// precision other than 8, images whose width*height exceeds max_pixels (checked from the header,
// before pixel memory is allocated), more than SRJPEG_MAX_SCANS scans, and truncated files
// (libjpeg would pad them with gray; we refuse).
#define SRJPEG_MAX_SCANS 1000

// Decodes a baseline or progressive JPEG to RGB8 (gray becomes three equal channels) and applies
// the EXIF orientation, so the pixels are upright as a viewer shows them.
int srjpeg_read_rgb8(const char *path, uint64_t max_pixels, srjpeg_image *out,
                     char *message, size_t message_size);

// Reads only the header (up to the first scan): the fields of `out` except pixels and warnings,
// width and height already oriented. CMYK and unsupported files are refused here too.
int srjpeg_read_header(const char *path, srjpeg_image *out, char *message, size_t message_size);

// The EXIF orientation (1..8) in an APP1 segment's payload ("Exif\0\0" then a TIFF structure),
// or 1 when there is none or the structure is malformed. Never reads outside [data, data+length).
int srjpeg_exif_orientation(const uint8_t *data, size_t length);

// Pixels of `source` (width x height RGB8 as stored) rearranged into `target` as EXIF
// `orientation` asks (orientations 5..8 swap the sides). `target` holds width*height*3 bytes.
void srjpeg_orient(uint8_t *target, const uint8_t *source, uint32_t width, uint32_t height,
                   int orientation);

void srjpeg_free(uint8_t *pixels);

#endif

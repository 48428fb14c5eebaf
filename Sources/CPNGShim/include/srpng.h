// PNG decode/encode through libpng with its setjmp error handling kept on the C side.
// Every function returns 0 on success and -1 on failure; on failure `message` holds one line
// (libpng's own words, or ours) and nothing is leaked.
#ifndef SRGAN_SRPNG_H
#define SRGAN_SRPNG_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t width;
    uint32_t height;
    uint8_t *pixels;         // RGB8, row-major, width*height*3 bytes; free with srpng_free
    int source_bit_depth;    // bit depth stored in the file (1, 2, 4, 8 or 16)
    int source_color_type;   // PNG colour type stored in the file (0 gray, 2 RGB, 3 palette, 4 GA, 6 RGBA)
    int source_interlaced;   // 1 if the file is Adam7-interlaced
} srpng_image;

// Decodes any PNG (8/16 bit; gray, gray+alpha, palette, RGB, RGBA; interlaced or not) to RGB8:
// gray becomes three equal channels, alpha is dropped, 16-bit samples are scaled to 8 bits.
// Files whose width*height exceeds max_pixels are refused before any pixel memory is allocated.
int srpng_read_rgb8(const char *path, uint64_t max_pixels, srpng_image *out,
                    char *message, size_t message_size);

// The same decoding to RGB with 16-bit samples (native-endian uint16 in `pixels`, 6 bytes per
// pixel): 16-bit files keep their precision, 8-bit samples are expanded (x * 257).
int srpng_read_rgb16(const char *path, uint64_t max_pixels, srpng_image *out,
                     char *message, size_t message_size);

// Reads only the header: width, height and the source fields of `out` (pixels stays NULL).
int srpng_read_header(const char *path, srpng_image *out, char *message, size_t message_size);

// Encodes 8-bit pixels (channels 1 = gray, 3 = RGB), row-major, to a PNG file at `path`.
int srpng_write8(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                 int channels, char *message, size_t message_size);

// srpng_write8 at zlib compression level `level` (0 to 9; -1 is libpng's default, 6). The level
// changes only the file's size and the time to write it, never a pixel.
int srpng_write8_level(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                       int channels, int level, char *message, size_t message_size);

// Encodes any PNG layout libpng writes, for tests and tools that need one: bit_depth 8 or 16
// (16-bit samples are native-endian uint16), color_type 0 gray, 2 RGB, 3 palette (8-bit indices,
// `palette` holds palette_count RGB triplets), 4 gray+alpha, 6 RGBA; interlaced = Adam7.
int srpng_write_general(const char *path, const void *samples, uint32_t width, uint32_t height,
                        int bit_depth, int color_type, int interlaced,
                        const uint8_t *palette, int palette_count,
                        char *message, size_t message_size);

// A PNG written a band of rows at a time, so an image never has to be whole in memory:
// non-interlaced, bit_depth 8 or 16, color_type 0 (gray) or 2 (RGB); samples as for
// srpng_write_general. open returns NULL on failure (message says why); after a failed
// write the writer only accepts close.
typedef struct srpng_row_writer srpng_row_writer;

srpng_row_writer *srpng_row_writer_open(const char *path, uint32_t width, uint32_t height,
                                        int bit_depth, int color_type,
                                        char *message, size_t message_size);

// Writes the next `count` rows (count * width * channels samples, row-major).
int srpng_row_writer_write(srpng_row_writer *writer, const void *rows, uint32_t count,
                           char *message, size_t message_size);

// Ends the file once every row was written (else fails) and frees the writer in every case.
int srpng_row_writer_close(srpng_row_writer *writer, char *message, size_t message_size);

void srpng_free(uint8_t *pixels);

#endif

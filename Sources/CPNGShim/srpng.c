// libpng reports errors by calling an error function that must not return; the documented way
// out is longjmp to a setjmp point. That control flow cannot cross Swift frames, so it stays here:
// each entry point sets its jump buffer, and the error function copies libpng's message out
// before jumping back.
#include "srpng.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *message;
    size_t message_size;
} srpng_errors;

static void set_message(char *message, size_t size, const char *text) {
    if (message != NULL && size > 0) {
        snprintf(message, size, "%s", text);
    }
}

static void on_error(png_structp png, png_const_charp text) {
    srpng_errors *errors = (srpng_errors *)png_get_error_ptr(png);
    set_message(errors->message, errors->message_size, text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;  // warnings (e.g. an unknown chunk) do not stop decoding
}

// State that must survive a longjmp lives behind a pointer, not in locals modified after setjmp.
typedef struct {
    FILE *file;
    png_structp png;
    png_infop info;
    uint8_t *pixels;
    png_bytep *rows;
} srpng_read_state;

static void release_read(srpng_read_state *state) {
    if (state->png != NULL) {
        png_destroy_read_struct(&state->png, state->info != NULL ? &state->info : NULL, NULL);
    }
    if (state->file != NULL) fclose(state->file);
    free(state->rows);
    free(state->pixels);
}

static int open_for_read(const char *path, srpng_read_state *state, srpng_errors *errors) {
    state->file = fopen(path, "rb");
    if (state->file == NULL) {
        set_message(errors->message, errors->message_size, "cannot open file for reading");
        return -1;
    }
    uint8_t signature[8];
    if (fread(signature, 1, 8, state->file) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        set_message(errors->message, errors->message_size, "not a PNG file (bad signature)");
        return -1;
    }
    state->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, errors, on_error, on_warning);
    if (state->png == NULL) {
        set_message(errors->message, errors->message_size, "out of memory creating the PNG reader");
        return -1;
    }
    state->info = png_create_info_struct(state->png);
    if (state->info == NULL) {
        set_message(errors->message, errors->message_size, "out of memory creating the PNG reader");
        return -1;
    }
    return 0;
}

// Reads the chunks before the image data and fills the header fields of `out`. May longjmp.
static void read_info(srpng_read_state *state, srpng_image *out) {
    png_init_io(state->png, state->file);
    png_set_sig_bytes(state->png, 8);
    png_read_info(state->png, state->info);
    out->width = png_get_image_width(state->png, state->info);
    out->height = png_get_image_height(state->png, state->info);
    out->source_bit_depth = png_get_bit_depth(state->png, state->info);
    out->source_color_type = png_get_color_type(state->png, state->info);
    out->source_interlaced = png_get_interlace_type(state->png, state->info) != PNG_INTERLACE_NONE;
}

int srpng_read_header(const char *path, srpng_image *out, char *message, size_t message_size) {
    srpng_errors errors = {message, message_size};
    srpng_read_state *state = calloc(1, sizeof(srpng_read_state));
    if (state == NULL) return -1;
    memset(out, 0, sizeof(*out));
    int status = -1;
    if (open_for_read(path, state, &errors) == 0) {
        if (setjmp(png_jmpbuf(state->png)) == 0) {
            read_info(state, out);
            status = 0;
        }
    }
    release_read(state);
    free(state);
    return status;
}

static int read_rgb(const char *path, uint64_t max_pixels, int sixteen, srpng_image *out,
                    char *message, size_t message_size) {
    srpng_errors errors = {message, message_size};
    srpng_read_state *state = calloc(1, sizeof(srpng_read_state));
    if (state == NULL) return -1;
    memset(out, 0, sizeof(*out));
    int status = -1;
    if (open_for_read(path, state, &errors) == 0) {
        if (setjmp(png_jmpbuf(state->png)) == 0) {
            read_info(state, out);
            uint64_t pixel_count = (uint64_t)out->width * (uint64_t)out->height;
            if (pixel_count > max_pixels) {
                snprintf(message, message_size,
                         "image is %ux%u = %llu pixels, above the limit of %llu pixels",
                         out->width, out->height, (unsigned long long)pixel_count,
                         (unsigned long long)max_pixels);
            } else {
                png_set_expand(state->png);          // palette -> RGB, gray < 8 bit -> 8, tRNS -> alpha
                if (sixteen) {
                    png_set_expand_16(state->png);   // 8 -> 16 bits (x * 257)
                    png_set_swap(state->png);        // PNG big-endian -> native little-endian
                } else {
                    png_set_scale_16(state->png);    // 16 -> 8 bits, rounded
                }
                png_set_strip_alpha(state->png);     // alpha is dropped, not composited
                png_set_gray_to_rgb(state->png);     // gray -> three equal channels
                png_set_interlace_handling(state->png);
                png_read_update_info(state->png, state->info);
                size_t row_bytes = png_get_rowbytes(state->png, state->info);
                size_t sample_bytes = sixteen ? 2 : 1;
                if (row_bytes != (size_t)out->width * 3 * sample_bytes) {
                    snprintf(message, message_size, "unexpected row size %zu after conversion to RGB",
                             row_bytes);
                } else {
                    state->pixels = malloc(pixel_count * 3 * sample_bytes);
                    state->rows = malloc(sizeof(png_bytep) * out->height);
                    if (state->pixels == NULL || state->rows == NULL) {
                        set_message(message, message_size, "out of memory for the decoded pixels");
                    } else {
                        for (uint32_t y = 0; y < out->height; y++) {
                            state->rows[y] = state->pixels + (size_t)y * row_bytes;
                        }
                        png_read_image(state->png, state->rows);
                        png_read_end(state->png, NULL);
                        out->pixels = state->pixels;
                        state->pixels = NULL;  // ownership passes to the caller
                        status = 0;
                    }
                }
            }
        }
    }
    release_read(state);
    free(state);
    if (status != 0) {
        out->pixels = NULL;
    }
    return status;
}

int srpng_read_rgb8(const char *path, uint64_t max_pixels, srpng_image *out,
                    char *message, size_t message_size) {
    return read_rgb(path, max_pixels, 0, out, message, message_size);
}

int srpng_read_rgb16(const char *path, uint64_t max_pixels, srpng_image *out,
                     char *message, size_t message_size) {
    return read_rgb(path, max_pixels, 1, out, message, message_size);
}

typedef struct {
    FILE *file;
    png_structp png;
    png_infop info;
    png_bytep *rows;
} srpng_write_state;

/* Ends a write, whole-image or by rows: libpng's structs freed, the file closed; a failed close
   (a full disk flushing its last bytes) turns a success into an error. Returns the status. */
static int close_png_writer(png_structp *png, png_infop *info, FILE *file, int status, char *message, size_t message_size) {
    if (*png != NULL) {
        png_destroy_write_struct(png, *info != NULL ? info : NULL);
    }
    if (file != NULL && fclose(file) != 0 && status == 0) {
        set_message(message, message_size, "error closing the file (disk full?)");
        status = -1;
    }
    return status;
}

static int channels_of(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 0;
    }
}

static int write_png(const char *path, const void *samples, uint32_t width, uint32_t height,
                     int bit_depth, int color_type, int interlaced,
                     const uint8_t *palette, int palette_count, int level,
                     char *message, size_t message_size) {
    srpng_errors errors = {message, message_size};
    int channels = channels_of(color_type);
    if (channels == 0 || (bit_depth != 8 && bit_depth != 16) ||
        (color_type == PNG_COLOR_TYPE_PALETTE && (bit_depth != 8 || palette == NULL ||
                                                  palette_count < 1 || palette_count > 256))) {
        set_message(message, message_size, "unsupported bit depth, colour type or palette");
        return -1;
    }
    srpng_write_state *state = calloc(1, sizeof(srpng_write_state));
    if (state == NULL) return -1;
    int status = -1;
    size_t row_bytes = (size_t)width * channels * (bit_depth / 8);
    state->file = fopen(path, "wb");
    if (state->file == NULL) {
        set_message(message, message_size, "cannot open file for writing");
    } else {
        state->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, on_error, on_warning);
        if (state->png != NULL) state->info = png_create_info_struct(state->png);
        state->rows = malloc(sizeof(png_bytep) * (height > 0 ? height : 1));
        if (state->png == NULL || state->info == NULL || state->rows == NULL) {
            set_message(message, message_size, "out of memory creating the PNG writer");
        } else if (setjmp(png_jmpbuf(state->png)) == 0) {
            png_init_io(state->png, state->file);
            png_set_IHDR(state->png, state->info, width, height, bit_depth, color_type,
                         interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                         PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
            if (color_type == PNG_COLOR_TYPE_PALETTE) {
                png_color colors[256];
                for (int i = 0; i < palette_count; i++) {
                    colors[i].red = palette[3 * i];
                    colors[i].green = palette[3 * i + 1];
                    colors[i].blue = palette[3 * i + 2];
                }
                png_set_PLTE(state->png, state->info, colors, palette_count);
            }
            if (level >= 0) png_set_compression_level(state->png, level);
            png_write_info(state->png, state->info);
            if (bit_depth == 16) png_set_swap(state->png);  // native little-endian -> PNG big-endian
            for (uint32_t y = 0; y < height; y++) {
                state->rows[y] = (png_bytep)((const uint8_t *)samples + (size_t)y * row_bytes);
            }
            png_write_image(state->png, state->rows);  // handles Adam7 passes itself
            png_write_end(state->png, NULL);
            status = 0;
        }
    }
    status = close_png_writer(&state->png, &state->info, state->file, status, message, message_size);
    free(state->rows);
    free(state);
    return status;
}

int srpng_write_general(const char *path, const void *samples, uint32_t width, uint32_t height,
                        int bit_depth, int color_type, int interlaced,
                        const uint8_t *palette, int palette_count,
                        char *message, size_t message_size) {
    return write_png(path, samples, width, height, bit_depth, color_type, interlaced, palette, palette_count, -1,
                     message, message_size);
}

int srpng_write8_level(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                       int channels, int level, char *message, size_t message_size) {
    if (channels != 1 && channels != 3) {
        set_message(message, message_size, "only 1 (gray) or 3 (RGB) channels can be written");
        return -1;
    }
    if (level < -1 || level > 9) {
        set_message(message, message_size, "zlib compression level must be -1 (default) or 0 to 9");
        return -1;
    }
    return write_png(path, pixels, width, height, 8, channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, 0, NULL, 0,
                     level, message, message_size);
}

int srpng_write8(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                 int channels, char *message, size_t message_size) {
    return srpng_write8_level(path, pixels, width, height, channels, -1, message, message_size);
}

struct srpng_row_writer {
    srpng_errors errors;  // the message buffer of the call in progress
    FILE *file;
    png_structp png;
    png_infop info;
    size_t row_bytes;
    uint32_t height;
    uint32_t written;
    int failed;
};

srpng_row_writer *srpng_row_writer_open(const char *path, uint32_t width, uint32_t height,
                                        int bit_depth, int color_type,
                                        char *message, size_t message_size) {
    if ((bit_depth != 8 && bit_depth != 16) ||
        (color_type != PNG_COLOR_TYPE_GRAY && color_type != PNG_COLOR_TYPE_RGB)) {
        set_message(message, message_size, "unsupported bit depth or colour type for row writing");
        return NULL;
    }
    srpng_row_writer *writer = calloc(1, sizeof(srpng_row_writer));
    if (writer == NULL) {
        set_message(message, message_size, "out of memory creating the PNG writer");
        return NULL;
    }
    writer->errors.message = message;
    writer->errors.message_size = message_size;
    writer->row_bytes = (size_t)width * channels_of(color_type) * (bit_depth / 8);
    writer->height = height;
    writer->file = fopen(path, "wb");
    if (writer->file == NULL) {
        set_message(message, message_size, "cannot open file for writing");
        free(writer);
        return NULL;
    }
    writer->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer->errors, on_error, on_warning);
    if (writer->png != NULL) writer->info = png_create_info_struct(writer->png);
    if (writer->png == NULL || writer->info == NULL) {
        set_message(message, message_size, "out of memory creating the PNG writer");
        writer->failed = 1;
        srpng_row_writer_close(writer, NULL, 0);
        return NULL;
    }
    if (setjmp(png_jmpbuf(writer->png)) != 0) {
        writer->failed = 1;
        srpng_row_writer_close(writer, NULL, 0);
        return NULL;
    }
    png_init_io(writer->png, writer->file);
    png_set_IHDR(writer->png, writer->info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(writer->png, writer->info);
    if (bit_depth == 16) png_set_swap(writer->png);  // native little-endian -> PNG big-endian
    return writer;
}

int srpng_row_writer_write(srpng_row_writer *writer, const void *rows, uint32_t count,
                           char *message, size_t message_size) {
    writer->errors.message = message;
    writer->errors.message_size = message_size;
    if (writer->failed || count > writer->height - writer->written) {
        set_message(message, message_size, writer->failed ? "the PNG writer failed earlier" : "more rows than the image has");
        return -1;
    }
    if (setjmp(png_jmpbuf(writer->png)) != 0) {
        writer->failed = 1;
        return -1;
    }
    for (uint32_t y = 0; y < count; y++) {
        png_write_row(writer->png, (png_const_bytep)((const uint8_t *)rows + (size_t)y * writer->row_bytes));
    }
    writer->written += count;
    return 0;
}

int srpng_row_writer_close(srpng_row_writer *writer, char *message, size_t message_size) {
    writer->errors.message = message;
    writer->errors.message_size = message_size;
    int status = -1;
    if (!writer->failed && writer->written != writer->height) {
        set_message(message, message_size, "the image was not written to its last row");
    } else if (!writer->failed) {
        if (setjmp(png_jmpbuf(writer->png)) == 0) {
            png_write_end(writer->png, NULL);
            status = 0;
        }
    }
    status = close_png_writer(&writer->png, &writer->info, writer->file, status, message, message_size);
    free(writer);
    return status;
}

void srpng_free(uint8_t *pixels) { free(pixels); }

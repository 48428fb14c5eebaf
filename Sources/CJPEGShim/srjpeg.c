// libjpeg reports errors through error_exit, which must not return; the documented way out is
// longjmp to a setjmp point. That control flow cannot cross Swift frames, so it stays here: each
// entry point sets its jump buffer, and the error handler copies libjpeg's message out before
// jumping back. State that must survive the jump lives in one heap struct.
#include "srjpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_decompress_struct decoder;
    struct jpeg_error_mgr errors;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int decoder_created;
    FILE *file;
    uint8_t *stored;     // pixels as stored in the file
    uint8_t *oriented;   // after the EXIF orientation
    char *message;
    size_t message_size;
    int warnings;
} srjpeg_state;

static void set_message(char *message, size_t size, const char *text) {
    if (message != NULL && size > 0) snprintf(message, size, "%s", text);
}

static void on_error(j_common_ptr common) {
    srjpeg_state *state = (srjpeg_state *)common->client_data;
    char text[JMSG_LENGTH_MAX];
    common->err->format_message(common, text);
    set_message(state->message, state->message_size, text);
    longjmp(state->jump, 1);
}

// Warnings (msg_level -1) are corrupt data libjpeg recovers from. A premature end of file is one
// of them: libjpeg pads the missing rows with gray, which would train on made-up pixels, so it is
// an error here. Trace messages (msg_level >= 0) are ignored.
static void on_message(j_common_ptr common, int level) {
    srjpeg_state *state = (srjpeg_state *)common->client_data;
    if (level != -1) return;
    if (common->err->msg_code == JWRN_JPEG_EOF) {
        set_message(state->message, state->message_size,
                    "truncated JPEG: the file ends before its last scan is complete");
        longjmp(state->jump, 1);
    }
    state->warnings += 1;
}

// A progressive file may declare any number of scans, each a pass over the whole coefficient
// buffer; a few kilobytes of scans can cost minutes. Refuse beyond SRJPEG_MAX_SCANS.
static void on_progress(j_common_ptr common) {
    srjpeg_state *state = (srjpeg_state *)common->client_data;
    if (common->is_decompressor && state->decoder.input_scan_number > SRJPEG_MAX_SCANS) {
        snprintf(state->message, state->message_size,
                 "progressive JPEG with more than %d scans (refused as a decoding bomb)", SRJPEG_MAX_SCANS);
        longjmp(state->jump, 1);
    }
}

static void release(srjpeg_state *state) {
    if (state->decoder_created) jpeg_destroy_decompress(&state->decoder);
    if (state->file != NULL) fclose(state->file);
    free(state->stored);
    free(state->oriented);
    free(state);
}

static uint32_t read16(const uint8_t *p, int little) {
    return little ? (uint32_t)p[0] | ((uint32_t)p[1] << 8) : ((uint32_t)p[0] << 8) | (uint32_t)p[1];
}

static uint32_t read32(const uint8_t *p, int little) {
    return little ? read16(p, 1) | (read16(p + 2, 1) << 16) : (read16(p, 0) << 16) | read16(p + 2, 0);
}

int srjpeg_exif_orientation(const uint8_t *data, size_t length) {
    static const uint8_t exif[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (data == NULL || length < 6 + 8 || memcmp(data, exif, 6) != 0) return 1;
    const uint8_t *tiff = data + 6;
    uint64_t size = length - 6;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    if (read16(tiff + 2, little) != 42) return 1;
    uint64_t ifd = read32(tiff + 4, little);
    if (ifd < 8 || ifd + 2 > size) return 1;
    uint32_t entries = read16(tiff + ifd, little);
    for (uint32_t i = 0; i < entries; i++) {
        uint64_t entry = ifd + 2 + 12 * (uint64_t)i;
        if (entry + 12 > size) return 1;
        if (read16(tiff + entry, little) != 0x0112) continue;
        uint32_t type = read16(tiff + entry + 2, little), count = read32(tiff + entry + 4, little);
        if (type != 3 || count != 1) return 1;   // SHORT, one value, stored in the entry itself
        uint32_t value = read16(tiff + entry + 8, little);
        return value >= 1 && value <= 8 ? (int)value : 1;
    }
    return 1;
}

static int swaps_sides(int orientation) { return orientation >= 5 && orientation <= 8; }

void srjpeg_orient(uint8_t *target, const uint8_t *source, uint32_t width, uint32_t height,
                   int orientation) {
    // Output is (outWidth x outHeight); each output pixel (x, y) is read from source (sx, sy).
    uint32_t outWidth = swaps_sides(orientation) ? height : width;
    uint32_t outHeight = swaps_sides(orientation) ? width : height;
    for (uint32_t y = 0; y < outHeight; y++) {
        for (uint32_t x = 0; x < outWidth; x++) {
            uint32_t sx, sy;
            switch (orientation) {
            case 2: sx = width - 1 - x; sy = y; break;                    // mirrored left-right
            case 3: sx = width - 1 - x; sy = height - 1 - y; break;       // rotated 180
            case 4: sx = x; sy = height - 1 - y; break;                   // mirrored top-bottom
            case 5: sx = y; sy = x; break;                                // transposed
            case 6: sx = y; sy = height - 1 - x; break;                   // needs 90 clockwise
            case 7: sx = width - 1 - y; sy = height - 1 - x; break;       // transversed
            case 8: sx = width - 1 - y; sy = x; break;                    // needs 90 anticlockwise
            default: sx = x; sy = y; break;
            }
            const uint8_t *from = source + ((size_t)sy * width + sx) * 3;
            uint8_t *to = target + ((size_t)y * outWidth + x) * 3;
            to[0] = from[0];
            to[1] = from[1];
            to[2] = from[2];
        }
    }
}

static srjpeg_state *open_state(const char *path, char *message, size_t message_size) {
    srjpeg_state *state = calloc(1, sizeof(srjpeg_state));
    if (state == NULL) {
        set_message(message, message_size, "out of memory creating the JPEG reader");
        return NULL;
    }
    state->message = message;
    state->message_size = message_size;
    state->file = fopen(path, "rb");
    if (state->file == NULL) {
        set_message(message, message_size, "cannot open file for reading");
        release(state);
        return NULL;
    }
    uint8_t signature[3];
    if (fread(signature, 1, 3, state->file) != 3 || signature[0] != 0xFF || signature[1] != 0xD8 || signature[2] != 0xFF) {
        set_message(message, message_size, "not a JPEG file (bad signature)");
        release(state);
        return NULL;
    }
    rewind(state->file);
    return state;
}

// Reads the header and fills `out`'s header fields; refuses what we do not decode. May longjmp.
static void read_header(srjpeg_state *state, srjpeg_image *out) {
    struct jpeg_decompress_struct *decoder = &state->decoder;
    decoder->err = jpeg_std_error(&state->errors);
    state->errors.error_exit = on_error;
    state->errors.emit_message = on_message;
    jpeg_create_decompress(decoder);
    state->decoder_created = 1;
    decoder->client_data = state;
    state->progress.progress_monitor = on_progress;
    decoder->progress = &state->progress;
    jpeg_stdio_src(decoder, state->file);
    jpeg_save_markers(decoder, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(decoder, TRUE);
    if (decoder->jpeg_color_space == JCS_CMYK || decoder->jpeg_color_space == JCS_YCCK) {
        set_message(state->message, state->message_size,
                    "CMYK JPEG (print separation): not supported, only gray and RGB/YCbCr JPEGs are");
        longjmp(state->jump, 1);
    }
    if (decoder->num_components != 1 && decoder->num_components != 3) {
        snprintf(state->message, state->message_size, "JPEG with %d colour components: only 1 (gray) or 3 are supported",
                 decoder->num_components);
        longjmp(state->jump, 1);
    }
    out->orientation = 1;
    for (jpeg_saved_marker_ptr marker = decoder->marker_list; marker != NULL; marker = marker->next) {
        if (marker->marker == JPEG_APP0 + 1) {
            int found = srjpeg_exif_orientation(marker->data, marker->data_length);
            if (found != 1) {
                out->orientation = found;
                break;
            }
        }
    }
    out->components = decoder->num_components;
    out->progressive = jpeg_has_multiple_scans(decoder) ? 1 : 0;
    int swap = swaps_sides(out->orientation);
    out->width = swap ? decoder->image_height : decoder->image_width;
    out->height = swap ? decoder->image_width : decoder->image_height;
}

// Decodes the pixels after read_header and hands them to `out`. May longjmp.
static void decode_pixels(srjpeg_state *state, uint64_t max_pixels, srjpeg_image *out) {
    struct jpeg_decompress_struct *decoder = &state->decoder;
    char *message = state->message;
    size_t message_size = state->message_size;
    uint64_t pixel_count = (uint64_t)decoder->image_width * (uint64_t)decoder->image_height;
    if (pixel_count > max_pixels) {
        snprintf(message, message_size, "image is %ux%u = %llu pixels, above the limit of %llu pixels",
                 out->width, out->height, (unsigned long long)pixel_count, (unsigned long long)max_pixels);
        longjmp(state->jump, 1);
    }
    decoder->out_color_space = JCS_RGB;    // gray is expanded to three equal channels
    decoder->dct_method = JDCT_ISLOW;      // accurate integer IDCT (libjpeg's and Pillow's default)
    decoder->do_fancy_upsampling = TRUE;   // triangle-filter chroma upsampling (also the default)
    jpeg_start_decompress(decoder);
    if (decoder->output_components != 3) {
        set_message(message, message_size, "unexpected component count after conversion to RGB");
        longjmp(state->jump, 1);
    }
    size_t row_bytes = (size_t)decoder->output_width * 3;
    state->stored = malloc(row_bytes * decoder->output_height);
    if (state->stored == NULL) {
        set_message(message, message_size, "out of memory for the decoded pixels");
        longjmp(state->jump, 1);
    }
    while (decoder->output_scanline < decoder->output_height) {
        JSAMPROW row = state->stored + (size_t)decoder->output_scanline * row_bytes;
        jpeg_read_scanlines(decoder, &row, 1);
    }
    jpeg_finish_decompress(decoder);
    if (out->orientation != 1) {
        state->oriented = malloc(row_bytes * decoder->output_height);
        if (state->oriented == NULL) {
            set_message(message, message_size, "out of memory for the oriented pixels");
            longjmp(state->jump, 1);
        }
        srjpeg_orient(state->oriented, state->stored, decoder->output_width, decoder->output_height, out->orientation);
        out->pixels = state->oriented;
        state->oriented = NULL;  // ownership passes to the caller
    } else {
        out->pixels = state->stored;
        state->stored = NULL;
    }
    out->warnings = state->warnings;
}

// The header, and the pixels unless header_only.
static int read_jpeg(const char *path, int header_only, uint64_t max_pixels, srjpeg_image *out,
                     char *message, size_t message_size) {
    memset(out, 0, sizeof(*out));
    srjpeg_state *state = open_state(path, message, message_size);
    if (state == NULL) return -1;
    volatile int status = -1;
    if (setjmp(state->jump) == 0) {
        read_header(state, out);
        if (!header_only) decode_pixels(state, max_pixels, out);
        status = 0;
    }
    release(state);
    if (status != 0) out->pixels = NULL;
    return status;
}

int srjpeg_read_header(const char *path, srjpeg_image *out, char *message, size_t message_size) {
    return read_jpeg(path, 1, 0, out, message, message_size);
}

int srjpeg_read_rgb8(const char *path, uint64_t max_pixels, srjpeg_image *out,
                     char *message, size_t message_size) {
    return read_jpeg(path, 0, max_pixels, out, message, message_size);
}

void srjpeg_free(uint8_t *pixels) { free(pixels); }

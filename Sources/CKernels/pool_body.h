// MaxPool2d(2) and PixelShuffle(2) row kernels, included by kernels_body.h (once per ISA). A window's position is a
// code 0..3 (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right): one byte per output instead
// of a 4-byte input index, and backward writes each 2x2 block once instead of clearing the whole
// input gradient and scattering into it. Plain loops the vectoriser widens (stride-2 loads and
// stores, selects), as in the rest of this file.

// y[i] = the maximum of the window r0[2i], r0[2i+1], r1[2i], r1[2i+1] for i < out_width, and
// code[i] its position: the first maximum on ties, a NaN over any number (the last NaN of
// several), as the Swift reference maxPool2Forward.
static void SR_FN(max_pool2_row)(const float *SR_RESTRICT r0, const float *SR_RESTRICT r1, ptrdiff_t out_width,
                                 float *SR_RESTRICT y, unsigned char *SR_RESTRICT code) {
    for (ptrdiff_t i = 0; i < out_width; i++) {
        float best = r0[2 * i], v1 = r0[2 * i + 1], v2 = r1[2 * i], v3 = r1[2 * i + 1];
        int k = 0;
        int take = (v1 > best) | (v1 != v1);
        best = take ? v1 : best;
        k = take ? 1 : k;
        take = (v2 > best) | (v2 != v2);
        best = take ? v2 : best;
        k = take ? 2 : k;
        take = (v3 > best) | (v3 != v3);
        best = take ? v3 : best;
        k = take ? 3 : k;
        y[i] = best;
        code[i] = (unsigned char)k;
    }
}

// The gradient of one output row: dx0[2i], dx0[2i+1], dx1[2i], dx1[2i+1] = dy[i] at the position
// code[i] names and 0 at the other three, for i < out_width (an odd input's last column and row
// are the caller's to clear).
static void SR_FN(max_pool2_row_grad)(const float *SR_RESTRICT dy, const unsigned char *SR_RESTRICT code,
                                      ptrdiff_t out_width, float *SR_RESTRICT dx0, float *SR_RESTRICT dx1) {
    for (ptrdiff_t i = 0; i < out_width; i++) {
        float g = dy[i];
        int k = code[i];
        dx0[2 * i] = k == 0 ? g : 0.0f;
        dx0[2 * i + 1] = k == 1 ? g : 0.0f;
        dx1[2 * i] = k == 2 ? g : 0.0f;
        dx1[2 * i + 1] = k == 3 ? g : 0.0f;
    }
}

// PixelShuffle(2) on one output row: out[2w] = even[w], out[2w + 1] = odd[w] for w < width (the
// two sub-channels j = 0, 1 of one row i), and its inverse, which is also its gradient.
static void SR_FN(interleave2_row)(const float *SR_RESTRICT even, const float *SR_RESTRICT odd, ptrdiff_t width,
                                   float *SR_RESTRICT out) {
    for (ptrdiff_t w = 0; w < width; w++) {
        out[2 * w] = even[w];
        out[2 * w + 1] = odd[w];
    }
}

static void SR_FN(deinterleave2_row)(const float *SR_RESTRICT in, ptrdiff_t width, float *SR_RESTRICT even,
                                     float *SR_RESTRICT odd) {
    for (ptrdiff_t w = 0; w < width; w++) {
        even[w] = in[2 * w];
        odd[w] = in[2 * w + 1];
    }
}

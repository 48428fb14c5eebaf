// 3x3 "same" convolutions with at most 4 output channels, computed directly on a zero-padded
// image (included by kernels_body.h, once per ISA): the tiny preset's 3x3 tail (32 -> 3 channels
// at the output resolution), where a product with 3 or 27 rows leaves sgemm at a quarter of its
// speed. Vectors run along image rows; each vector of inputs loaded feeds every output channel.
// Layouts: a padded image is planes of (rows + 2) x padded_width floats, padded_plane apart; the
// weight is PyTorch's (OC, C, 3, 3).

#define SR_NARROW_MAX 4

// out[oc * out_plane + x] = bias[oc] + sum over c, ky, kx of
// w[((oc * channels + c) * 3 + ky) * 3 + kx] * row[c * padded_plane + ky * padded_width + x + kx]
// for the nv vectors of x from x0, oc < n. n * nv independent sums: one sum alone would wait
// for its previous multiply-add on every step (4 cycles), so a row takes up to 4 vectors at once.
static inline __attribute__((always_inline)) void SR_FN(narrow_forward_block)(
    const float *SR_RESTRICT row, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t channels, ptrdiff_t x0,
    const float *SR_RESTRICT w, const int n, const int nv, const float *bias, float *SR_RESTRICT out, ptrdiff_t out_plane) {
    SR_FN(vec) acc[SR_NARROW_MAX][4];
    for (int oc = 0; oc < n; oc++)
        for (int b = 0; b < nv; b++) acc[oc][b] = (SR_FN(vec)){0} + (bias ? bias[oc] : 0.0f);
    for (ptrdiff_t c = 0; c < channels; c++) {
        const float *pc = row + c * padded_plane + x0;
        for (int t = 0; t < 9; t++) {
            for (int b = 0; b < nv; b++) {
                SR_FN(vec) v = SR_FN(load)(pc + (t / 3) * padded_width + t % 3 + b * SR_VLEN);
                for (int oc = 0; oc < n; oc++) acc[oc][b] += w[(oc * channels + c) * 9 + t] * v;
            }
        }
    }
    for (int oc = 0; oc < n; oc++)
        for (int b = 0; b < nv; b++) SR_FN(store)(out + oc * out_plane + x0 + b * SR_VLEN, acc[oc][b]);
}

// out[oc * out_plane + r * width + x] for r < rows, x < width, oc < n; p is the padded image at
// the first output row's top tap row.
static inline __attribute__((always_inline)) void SR_FN(narrow_forward_n)(
    const float *SR_RESTRICT p, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t channels, ptrdiff_t rows,
    ptrdiff_t width, const float *SR_RESTRICT w, const int n, const float *bias, float *SR_RESTRICT out,
    ptrdiff_t out_plane) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *row = p + r * padded_width;
        float *orow = out + r * width;
        ptrdiff_t x0 = 0;
        for (; x0 + 4 * SR_VLEN <= width; x0 += 4 * SR_VLEN)
            SR_FN(narrow_forward_block)(row, padded_plane, padded_width, channels, x0, w, n, 4, bias, orow, out_plane);
        switch ((width - x0) / SR_VLEN) {
        case 3: SR_FN(narrow_forward_block)(row, padded_plane, padded_width, channels, x0, w, n, 3, bias, orow, out_plane); break;
        case 2: SR_FN(narrow_forward_block)(row, padded_plane, padded_width, channels, x0, w, n, 2, bias, orow, out_plane); break;
        case 1: SR_FN(narrow_forward_block)(row, padded_plane, padded_width, channels, x0, w, n, 1, bias, orow, out_plane); break;
        default: break;
        }
        x0 += (width - x0) / SR_VLEN * SR_VLEN;
        for (ptrdiff_t x = x0; x < width; x++) {
            for (int oc = 0; oc < n; oc++) {
                float sum = bias ? bias[oc] : 0.0f;
                for (ptrdiff_t c = 0; c < channels; c++)
                    for (int t = 0; t < 9; t++)
                        sum += w[(oc * channels + c) * 9 + t] * row[c * padded_plane + (t / 3) * padded_width + x + t % 3];
                orow[oc * out_plane + x] = sum;
            }
        }
    }
}

static void SR_FN(conv3x3_narrow_forward)(const float *p, ptrdiff_t padded_plane, ptrdiff_t padded_width,
                                          ptrdiff_t channels, ptrdiff_t rows, ptrdiff_t width, const float *w,
                                          ptrdiff_t out_channels, const float *bias, float *out, ptrdiff_t out_plane) {
    switch (out_channels) {
    case 1: SR_FN(narrow_forward_n)(p, padded_plane, padded_width, channels, rows, width, w, 1, bias, out, out_plane); break;
    case 2: SR_FN(narrow_forward_n)(p, padded_plane, padded_width, channels, rows, width, w, 2, bias, out, out_plane); break;
    case 3: SR_FN(narrow_forward_n)(p, padded_plane, padded_width, channels, rows, width, w, 3, bias, out, out_plane); break;
    default: SR_FN(narrow_forward_n)(p, padded_plane, padded_width, channels, rows, width, w, 4, bias, out, out_plane); break;
    }
}

// dx for input channels c0..c0+nc (nc <= 4) and the nv (<= 3) vectors of x from x0 (nc * nv sums).
static inline __attribute__((always_inline)) void SR_FN(narrow_input_grad_block)(
    const float *SR_RESTRICT row, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t out_channels, ptrdiff_t x0,
    const float *SR_RESTRICT w, ptrdiff_t channels, ptrdiff_t c0, const int nc, const int nv, float *SR_RESTRICT dx,
    ptrdiff_t plane) {
    SR_FN(vec) acc[4][3];
    for (int j = 0; j < nc; j++)
        for (int b = 0; b < nv; b++) acc[j][b] = (SR_FN(vec)){0};
    for (ptrdiff_t oc = 0; oc < out_channels; oc++) {
        for (int t = 0; t < 9; t++) {
            for (int b = 0; b < nv; b++) {
                SR_FN(vec) v = SR_FN(load)(row + oc * padded_plane + (2 - t / 3) * padded_width + x0 + b * SR_VLEN + 2 - t % 3);
                for (int j = 0; j < nc; j++) acc[j][b] += w[(oc * channels + c0 + j) * 9 + t] * v;
            }
        }
    }
    for (int j = 0; j < nc; j++)
        for (int b = 0; b < nv; b++) SR_FN(store)(dx + (c0 + j) * plane + x0 + b * SR_VLEN, acc[j][b]);
}

// dx[c * plane + r * width + x] = sum over oc, ky, kx of w[((oc * channels + c) * 3 + ky) * 3 + kx]
// * q[oc * padded_plane + (r + 2 - ky) * padded_width + x + 2 - kx] for r < rows, x < width,
// c < channels (overwritten); q is the padded output gradient (border 1) at the first row's top.
static void SR_FN(conv3x3_narrow_input_grad)(const float *SR_RESTRICT q, ptrdiff_t padded_plane, ptrdiff_t padded_width,
                                             ptrdiff_t out_channels, ptrdiff_t rows, ptrdiff_t width,
                                             const float *SR_RESTRICT w, ptrdiff_t channels, float *SR_RESTRICT dx,
                                             ptrdiff_t plane) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *row = q + r * padded_width;
        float *drow = dx + r * width;
        ptrdiff_t x0 = 0;
        for (; x0 + SR_VLEN <= width; ) {
            const ptrdiff_t left = (width - x0) / SR_VLEN;
            const int nv = left >= 3 ? 3 : (int)left;
            ptrdiff_t c0 = 0;
            for (; c0 + 4 <= channels; c0 += 4) {
                switch (nv) {
                case 3: SR_FN(narrow_input_grad_block)(row, padded_plane, padded_width, out_channels, x0, w, channels, c0, 4, 3, drow, plane); break;
                case 2: SR_FN(narrow_input_grad_block)(row, padded_plane, padded_width, out_channels, x0, w, channels, c0, 4, 2, drow, plane); break;
                default: SR_FN(narrow_input_grad_block)(row, padded_plane, padded_width, out_channels, x0, w, channels, c0, 4, 1, drow, plane); break;
                }
            }
            for (; c0 < channels; c0++)
                SR_FN(narrow_input_grad_block)(row, padded_plane, padded_width, out_channels, x0, w, channels, c0, 1, nv, drow, plane);
            x0 += nv * SR_VLEN;
        }
        for (ptrdiff_t x = x0; x < width; x++) {
            for (ptrdiff_t c = 0; c < channels; c++) {
                float sum = 0;
                for (ptrdiff_t oc = 0; oc < out_channels; oc++)
                    for (int t = 0; t < 9; t++)
                        sum += w[(oc * channels + c) * 9 + t] * row[oc * padded_plane + (2 - t / 3) * padded_width + x + 2 - t % 3];
                drow[c * plane + x] = sum;
            }
        }
    }
}

// dw[((oc * channels + c) * 3 + ky) * 3 + kx] += sum over r < rows, x < width of
// dy[oc * dy_plane + r * width + x] * p[c * padded_plane + (r + ky) * padded_width + x + kx],
// for oc < n; p as in the forward. Per channel and group of SR_NARROW_KY kernel rows: n x 3 x
// SR_NARROW_KY vector sums (27 on AVX-512's 32 registers, 9 on the narrower paths), one horizontal
// sum each at the end.
#if SR_VLEN >= 16
#define SR_NARROW_KY 3
#else
#define SR_NARROW_KY 1
#endif
static inline __attribute__((always_inline)) void SR_FN(narrow_weight_grad_n)(
    const float *SR_RESTRICT p, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t channels, ptrdiff_t rows,
    ptrdiff_t width, const float *SR_RESTRICT dy, ptrdiff_t dy_plane, const int n, float *SR_RESTRICT dw) {
    for (ptrdiff_t c = 0; c < channels; c++) {
        for (int ky0 = 0; ky0 < 3; ky0 += SR_NARROW_KY) {
            SR_FN(vec) acc[SR_NARROW_MAX][SR_NARROW_KY][3];
            float tail[SR_NARROW_MAX][SR_NARROW_KY][3];
            for (int oc = 0; oc < n; oc++)
                for (int i = 0; i < SR_NARROW_KY; i++)
                    for (int kx = 0; kx < 3; kx++) { acc[oc][i][kx] = (SR_FN(vec)){0}; tail[oc][i][kx] = 0; }
            for (ptrdiff_t r = 0; r < rows; r++) {
                const float *pr = p + c * padded_plane + (r + ky0) * padded_width;
                const float *dr = dy + r * width;
                ptrdiff_t x0 = 0;
                for (; x0 + SR_VLEN <= width; x0 += SR_VLEN) {
                    SR_FN(vec) d[SR_NARROW_MAX];
                    for (int oc = 0; oc < n; oc++) d[oc] = SR_FN(load)(dr + oc * dy_plane + x0);
                    for (int i = 0; i < SR_NARROW_KY; i++) {
                        for (int kx = 0; kx < 3; kx++) {
                            SR_FN(vec) v = SR_FN(load)(pr + i * padded_width + x0 + kx);
                            for (int oc = 0; oc < n; oc++) acc[oc][i][kx] += d[oc] * v;
                        }
                    }
                }
                for (ptrdiff_t x = x0; x < width; x++)
                    for (int oc = 0; oc < n; oc++)
                        for (int i = 0; i < SR_NARROW_KY; i++)
                            for (int kx = 0; kx < 3; kx++) tail[oc][i][kx] += dr[oc * dy_plane + x] * pr[i * padded_width + x + kx];
            }
            for (int oc = 0; oc < n; oc++) {
                for (int i = 0; i < SR_NARROW_KY; i++) {
                    for (int kx = 0; kx < 3; kx++) {
                        float sum = tail[oc][i][kx];
                        for (int lane = 0; lane < SR_VLEN; lane++) sum += acc[oc][i][kx][lane];
                        dw[((oc * channels + c) * 3 + ky0 + i) * 3 + kx] += sum;
                    }
                }
            }
        }
    }
}
#undef SR_NARROW_KY

static void SR_FN(conv3x3_narrow_weight_grad)(const float *p, ptrdiff_t padded_plane, ptrdiff_t padded_width,
                                              ptrdiff_t channels, ptrdiff_t rows, ptrdiff_t width, const float *dy,
                                              ptrdiff_t dy_plane, ptrdiff_t out_channels, float *dw) {
    switch (out_channels) {
    case 1: SR_FN(narrow_weight_grad_n)(p, padded_plane, padded_width, channels, rows, width, dy, dy_plane, 1, dw); break;
    case 2: SR_FN(narrow_weight_grad_n)(p, padded_plane, padded_width, channels, rows, width, dy, dy_plane, 2, dw); break;
    case 3: SR_FN(narrow_weight_grad_n)(p, padded_plane, padded_width, channels, rows, width, dy, dy_plane, 3, dw); break;
    default: SR_FN(narrow_weight_grad_n)(p, padded_plane, padded_width, channels, rows, width, dy, dy_plane, 4, dw); break;
    }
}

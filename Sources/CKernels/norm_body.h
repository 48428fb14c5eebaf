// Batch-norm span kernels, included by kernels_body.h (once per ISA): the per-channel passes of
// SRCore/Kernels/BatchNormKernels.swift and BatchNormBackward.swift over one contiguous plane.
// With z = x * scale + shift the BN output and y = z > 0 ? z : slope * z its activation
// (slope 1: none, a constant: LeakyReLU, per channel: PReLU).
//
// Sums run in SR_NORM_LANES float lanes (two vectors: two dependency chains per sum), added up
// lane by lane at the end, then the scalar tail. The caller adds spans (planes of at most a few
// thousand values) up in double, as the Swift kernels did. The lane loops are fixed-length loops
// of independent lanes: the vectoriser widens them without reassociating any sum.

#define SR_NORM_LANES (2 * SR_VLEN)

// sum x[i], i < n.
static float SR_FN(span_sum)(const float *SR_RESTRICT x, ptrdiff_t n) {
    float acc[SR_NORM_LANES] = {0};
    ptrdiff_t i = 0;
    for (; i + SR_NORM_LANES <= n; i += SR_NORM_LANES)
        for (int l = 0; l < SR_NORM_LANES; l++) acc[l] += x[i + l];
    float sum = 0;
    for (int l = 0; l < SR_NORM_LANES; l++) sum += acc[l];
    for (; i < n; i++) sum += x[i];
    return sum;
}

// sum (x[i] - center)^2, i < n.
static float SR_FN(span_squared_deviation)(const float *SR_RESTRICT x, ptrdiff_t n, float center) {
    float acc[SR_NORM_LANES] = {0};
    ptrdiff_t i = 0;
    for (; i + SR_NORM_LANES <= n; i += SR_NORM_LANES)
        for (int l = 0; l < SR_NORM_LANES; l++) {
            float d = x[i + l] - center;
            acc[l] += d * d;
        }
    float sum = 0;
    for (int l = 0; l < SR_NORM_LANES; l++) sum += acc[l];
    for (; i < n; i++) {
        float d = x[i] - center;
        sum += d * d;
    }
    return sum;
}

// sums[0] = sum x[i], sums[1] = sum x[i]^2, i < n.
static void SR_FN(span_sum_and_squares)(const float *SR_RESTRICT x, ptrdiff_t n, float *SR_RESTRICT sums) {
    float s1[SR_NORM_LANES] = {0}, s2[SR_NORM_LANES] = {0};
    ptrdiff_t i = 0;
    for (; i + SR_NORM_LANES <= n; i += SR_NORM_LANES)
        for (int l = 0; l < SR_NORM_LANES; l++) {
            float v = x[i + l];
            s1[l] += v;
            s2[l] += v * v;
        }
    float a = 0, b = 0;
    for (int l = 0; l < SR_NORM_LANES; l++) {
        a += s1[l];
        b += s2[l];
    }
    for (; i < n; i++) {
        a += x[i];
        b += x[i] * x[i];
    }
    sums[0] = a;
    sums[1] = b;
}

// y[i] = act(x[i] * scale + shift), i < n (y may be x).
static void SR_FN(affine_activate)(const float *x, ptrdiff_t n, float scale, float shift, float slope, float *y) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float z = x[i] * scale + shift;
        y[i] = z > 0 ? z : slope * z;
    }
}

// sums[0] = sum g, sums[1] = sum g (x - mean), sums[2] = sum over z <= 0 of dy z, i < n, where
// g = dL/dz = z > 0 ? dy : slope * dy.
static void SR_FN(norm_grad_sums)(const float *SR_RESTRICT dy, const float *SR_RESTRICT x, ptrdiff_t n, float mean,
                                  float scale, float shift, float slope, float *SR_RESTRICT sums) {
    float s0[SR_NORM_LANES] = {0}, s1[SR_NORM_LANES] = {0}, s2[SR_NORM_LANES] = {0};
    ptrdiff_t i = 0;
    for (; i + SR_NORM_LANES <= n; i += SR_NORM_LANES)
        for (int l = 0; l < SR_NORM_LANES; l++) {
            float v = x[i + l], d = dy[i + l];
            float z = v * scale + shift;
            int negative = z <= 0;
            float g = negative ? slope * d : d;
            s0[l] += g;
            s1[l] += g * (v - mean);
            s2[l] += negative ? d * z : 0.0f;
        }
    float a = 0, b = 0, c = 0;
    for (int l = 0; l < SR_NORM_LANES; l++) {
        a += s0[l];
        b += s1[l];
        c += s2[l];
    }
    for (; i < n; i++) {
        float z = x[i] * scale + shift;
        int negative = z <= 0;
        float g = negative ? slope * dy[i] : dy[i];
        a += g;
        b += g * (x[i] - mean);
        c += negative ? dy[i] * z : 0.0f;
    }
    sums[0] = a;
    sums[1] = b;
    sums[2] = c;
}

// dx[i] = a g + b + k (x[i] - mean), g as above, i < n (dx may be dy).
static void SR_FN(norm_input_grad)(const float *dy, const float *SR_RESTRICT x, ptrdiff_t n, float mean, float scale,
                                   float shift, float slope, float a, float b, float k, float *dx) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i], d = dy[i];
        float z = v * scale + shift;
        float g = z <= 0 ? slope * d : d;
        dx[i] = a * g + b + k * (v - mean);
    }
}

#undef SR_NORM_LANES

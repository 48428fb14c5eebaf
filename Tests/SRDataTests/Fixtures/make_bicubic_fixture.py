#!/usr/bin/env python3
"""MATLAB imresize (bicubic, antialiasing) reference values for the SRData tests.

An independent numpy implementation of MATLAB's published algorithm (imresize.m: contributions(),
cubic(), symmetric boundary, height resized before width), in float64. Writes bicubic.json:
inputs and outputs for x1/4 (the paper's LR), x1/2, x1/3 and x4 (no antialiasing effect when
enlarging), on random images of odd sizes.

    python3 Tests/SRDataTests/Fixtures/make_bicubic_fixture.py   (needs numpy only)
"""
import json
import math
import os

import numpy as np


def cubic(x):
    a = np.abs(x)
    return np.where(a <= 1, 1.5 * a**3 - 2.5 * a**2 + 1,
                    np.where(a <= 2, -0.5 * a**3 + 2.5 * a**2 - 4 * a + 2, 0.0))


def contributions(in_len, out_len, scale):
    kernel_width = 4.0 / scale if scale < 1 else 4.0
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    p = int(math.ceil(kernel_width)) + 2
    ind = left[:, None] + np.arange(p)[None, :]
    dist = u[:, None] - ind
    w = scale * cubic(dist * scale) if scale < 1 else cubic(dist)
    w = w / w.sum(axis=1, keepdims=True)
    aux = np.concatenate([np.arange(1, in_len + 1), np.arange(in_len, 0, -1)])
    ind = aux[np.mod(ind.astype(np.int64) - 1, len(aux))] - 1
    return w, ind


def imresize(img, scale):
    """img (C, H, W) float64."""
    c, h, w = img.shape
    oh, ow = int(math.ceil(h * scale)), int(math.ceil(w * scale))
    wh, ih = contributions(h, oh, scale)
    ww, iw = contributions(w, ow, scale)
    # height first: tmp[c, o, x] = sum_t wh[o, t] * img[c, ih[o, t], x]
    tmp = np.stack([(wh[:, :, None] * img[ch][ih]).sum(axis=1) for ch in range(c)])
    # then width: out[c, y, o] = sum_t ww[o, t] * tmp[c, y, iw[o, t]]
    out = np.stack([(ww[None, :, :] * tmp[ch][:, iw]).sum(axis=2) for ch in range(c)])
    return out


def main():
    rng = np.random.default_rng(7)
    cases = []
    for (c, h, w, scale) in [(3, 20, 17, 0.25), (3, 24, 24, 0.25), (1, 9, 14, 0.5), (2, 13, 11, 1 / 3),
                             (3, 6, 5, 4.0)]:
        img = rng.random((c, h, w)).astype(np.float32).astype(np.float64)  # exactly what the test reads
        out = imresize(img, scale)
        cases.append({"channels": c, "height": h, "width": w, "scale": scale,
                      "input": [float(v) for v in img.ravel()],
                      "out_height": out.shape[1], "out_width": out.shape[2],
                      "output": [float(v) for v in out.ravel()]})
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bicubic.json"), "w") as f:
        json.dump({"cases": cases, "generator": "make_bicubic_fixture.py (numpy float64)"}, f)
    print("wrote bicubic.json")


if __name__ == "__main__":
    main()

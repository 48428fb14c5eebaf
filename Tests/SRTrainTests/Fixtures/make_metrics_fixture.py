#!/usr/bin/env python3
"""Reference PSNR/SSIM values for the validate tests (Tests/SRTrainTests/MetricsTests.swift and
Tests/CLITests/UseModelTests.swift).

An independent numpy implementation of the SR papers' convention: Y of ITU-R BT.601
(16 + (65.481 R + 128.553 G + 24.966 B) / 255 for RGB in 0..255), `border` pixels cropped from
every side, PSNR with peak 255, SSIM of Wang et al. 2004 (11x11 Gaussian window, sigma 1.5, K1
0.01, K2 0.03, L 255, mean over the valid window positions). When scikit-image is installed its
structural_similarity (gaussian_weights, use_sample_covariance=False) is checked to agree.

Writes, next to this script:
  metrics_hr.png      a 102x86 crop of samples/photos/coffee.png (not a multiple of 4: validate
                      crops it to 100x84)
  metrics_noisy.png   that crop plus seeded Gaussian noise (sigma 8), clipped
  metrics.json        PSNR/SSIM of noisy vs hr (border 4), and of the x4 bicubic round trip
                      (LR = imresize(HR, 1/4) quantised, bicubic = imresize(LR, 4) quantised,
                      MATLAB's algorithm, from Tests/SRDataTests/Fixtures/make_bicubic_fixture.py)

    .venv-peer/bin/python Tests/SRTrainTests/Fixtures/make_metrics_fixture.py   (numpy, pillow)
"""
import importlib.util
import json
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def load_imresize():
    path = os.path.join(ROOT, "Tests", "SRDataTests", "Fixtures", "make_bicubic_fixture.py")
    spec = importlib.util.spec_from_file_location("bicubic_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.imresize


def luma(rgb):
    rgb = rgb.astype(np.float64)
    return 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255


def crop(y, border):
    return y[border:y.shape[0] - border, border:y.shape[1] - border]


def psnr(a, b):
    mse = np.mean((a - b) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


def gaussian_window(size=11, sigma=1.5):
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    g /= g.sum()
    return np.outer(g, g)


def filter_valid(image, window):
    k = window.shape[0]
    h, w = image.shape[0] - k + 1, image.shape[1] - k + 1
    out = np.zeros((h, w))
    for dy in range(k):
        for dx in range(k):
            out += window[dy, dx] * image[dy:dy + h, dx:dx + w]
    return out


def ssim(a, b):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    window = gaussian_window()
    mu_a, mu_b = filter_valid(a, window), filter_valid(b, window)
    var_a = filter_valid(a * a, window) - mu_a ** 2
    var_b = filter_valid(b * b, window) - mu_b ** 2
    cov = filter_valid(a * b, window) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(index.mean())


def metrics(x, y, border):
    ya, yb = crop(luma(x), border), crop(luma(y), border)
    result = {"psnr": psnr(ya, yb), "ssim": ssim(ya, yb)}
    try:
        from skimage.metrics import structural_similarity
        reference = structural_similarity(ya, yb, data_range=255, gaussian_weights=True, sigma=1.5,
                                          use_sample_covariance=False)
        # skimage also averages over the window positions clear of the border (crop by 5).
        assert abs(reference - result["ssim"]) < 1e-10, (reference, result["ssim"])
        result["skimage_ssim"] = float(reference)
    except ImportError:
        pass
    return result


def quantise(planar):
    return np.clip(np.round(planar * 255), 0, 255)


def main():
    imresize = load_imresize()
    photo = np.asarray(Image.open(os.path.join(ROOT, "samples", "photos", "coffee.png")).convert("RGB"))
    hr = photo[140:226, 200:302]  # 86 x 102
    Image.fromarray(hr).save(os.path.join(HERE, "metrics_hr.png"))
    rng = np.random.default_rng(3)
    noisy = np.clip(np.round(hr + rng.normal(0, 8, hr.shape)), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(os.path.join(HERE, "metrics_noisy.png"))

    scale = 4
    h, w = hr.shape[0] // scale * scale, hr.shape[1] // scale * scale
    hr_cropped = hr[:h, :w]
    planar = hr_cropped.transpose(2, 0, 1).astype(np.float64) / 255
    lr = quantise(imresize(planar, 1 / scale)) / 255
    bicubic = quantise(imresize(lr, scale)).transpose(1, 2, 0)
    result = {
        "generator": "make_metrics_fixture.py (numpy float64)",
        "noisy_vs_hr_border4": metrics(noisy.astype(np.float64), hr.astype(np.float64), 4),
        "bicubic_x4_vs_hr_border4": metrics(bicubic, hr_cropped.astype(np.float64), 4),
        "cropped_size": [w, h],
    }
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Image seeds for the fuzzing harnesses (docs/fuzzing.md): small PNGs in the variants libpng
must read (8/16-bit, gray, gray+alpha, RGB, RGBA, palette with transparency, interlaced, odd
sizes), the JPEG decoder tests' fixtures, and upload bodies (some of each, plus the formats
people send instead). Writes Tests/FuzzCorpus/{png,jpeg,upload}; the other targets' seeds come
from `srgan-fuzz --make-seeds`. Needs Pillow and numpy (bench/peers' virtual environment)."""
import os
import shutil
import sys

import numpy as np
from PIL import Image

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
corpus = os.path.join(root, "Tests", "FuzzCorpus")
jpeg_fixtures = os.path.join(root, "Tests", "SRDataTests", "Fixtures", "jpeg")
rng = np.random.default_rng(7)


def folder(name):
    path = os.path.join(corpus, name)
    os.makedirs(path, exist_ok=True)
    return path


def pixels(h, w, c, high=255, dtype=np.uint8):
    shape = (h, w) if c == 1 else (h, w, c)
    return rng.integers(0, high + 1, size=shape, dtype=np.int64).astype(dtype)


png = folder("png")
Image.fromarray(pixels(8, 8, 3)).save(os.path.join(png, "rgb8.png"))
Image.fromarray(pixels(5, 7, 1)).save(os.path.join(png, "gray8-odd.png"))
Image.fromarray(pixels(6, 6, 4), "RGBA").save(os.path.join(png, "rgba8.png"))
Image.fromarray(pixels(6, 6, 2), "LA").save(os.path.join(png, "gray-alpha8.png"))
Image.fromarray(pixels(8, 8, 1, 65535, np.uint16)).save(os.path.join(png, "gray16.png"))
Image.fromarray(pixels(16, 16, 3)).save(os.path.join(png, "rgb8-interlaced.png"), interlace=1)
palette = Image.fromarray(pixels(8, 8, 3)).convert("P", palette=Image.ADAPTIVE, colors=4)
palette.info["transparency"] = 0
palette.save(os.path.join(png, "palette-transparent.png"), transparency=0)
Image.fromarray(pixels(1, 1, 3)).save(os.path.join(png, "one-pixel.png"))
Image.fromarray((pixels(8, 8, 1) > 127).astype(np.uint8) * 255).convert("1").save(os.path.join(png, "bilevel.png"))

jpeg = folder("jpeg")
for name in sorted(os.listdir(jpeg_fixtures)):
    if name in ("baseline.jpg", "baseline-422.jpg", "progressive.jpg", "gray-progressive.jpg", "cmyk.jpg",
                "odd-size.jpg", "orientation-6.jpg"):
        shutil.copy(os.path.join(jpeg_fixtures, name), os.path.join(jpeg, name))

upload = folder("upload")
shutil.copy(os.path.join(png, "rgb8.png"), os.path.join(upload, "rgb8.png"))
shutil.copy(os.path.join(png, "gray16.png"), os.path.join(upload, "gray16.png"))
shutil.copy(os.path.join(jpeg, "baseline.jpg"), os.path.join(upload, "baseline.jpg"))
Image.fromarray(pixels(4, 4, 3)).save(os.path.join(upload, "small.gif"))
with open(os.path.join(upload, "multipart.txt"), "wb") as f:
    f.write(b"--boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--boundary--\r\n")
print(f"seeds written under {corpus}", file=sys.stderr)

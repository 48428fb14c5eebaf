#!/usr/bin/env python3
"""Small JPEG files and Pillow's decoding of them, for the SRData JPEG tests.

Writes Tests/SRDataTests/Fixtures/jpeg/*.jpg (a few KB each) and jpeg.json, which holds for
every file Pillow's decoded pixels (upright by ImageOps.exif_transpose, converted to RGB) as
base64 of row-major RGB8 bytes, plus its size, progressive flag and EXIF orientation. The
test compares srgan-dist's decoder (libjpeg-turbo through CJPEGShim) with these pixels within
the tolerance of docs/jpeg.md; CI reads the committed files and needs no Pillow.

The pictures are synthetic but photo-like (smooth gradients, edges and noise, so every DCT
frequency and the chroma upsampling matter), drawn from a fixed seed.

    python3 Tests/SRDataTests/Fixtures/make_jpeg_fixtures.py   (needs Pillow and numpy)
"""
import base64
import json
import os

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, "jpeg")


def picture(width, height, seed):
    """(height, width, 3) uint8: gradients, a disc, stripes and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    red = 255 * x / max(width - 1, 1)
    green = 255 * y / max(height - 1, 1)
    blue = 128 + 100 * np.sin(x / 3.0) * np.cos(y / 5.0)
    disc = (x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (min(width, height) * 0.3) ** 2
    red = np.where(disc, 240, red)
    blue = np.where(disc, 30, blue)
    stripes = (x.astype(int) // 4) % 2 == 0
    green = np.where(stripes & (y > height * 0.7), 20, green)
    image = np.stack([red, green, blue], axis=-1) + rng.normal(0, 6, (height, width, 3))
    return np.clip(image.round(), 0, 255).astype(np.uint8)


def exif_with_orientation(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def main():
    os.makedirs(FOLDER, exist_ok=True)
    rgb = Image.fromarray(picture(64, 48, 1), "RGB")
    small = Image.fromarray(picture(40, 24, 2), "RGB")
    files = {
        "baseline.jpg": (rgb, dict(quality=90, subsampling="4:2:0")),
        "baseline-444.jpg": (rgb, dict(quality=95, subsampling="4:4:4")),
        "baseline-422.jpg": (rgb, dict(quality=75, subsampling="4:2:2")),
        "progressive.jpg": (rgb, dict(quality=85, progressive=True, subsampling="4:2:0")),
        "gray.jpg": (Image.fromarray(picture(48, 64, 3)[:, :, 1], "L"), dict(quality=90)),
        "gray-progressive.jpg": (Image.fromarray(picture(48, 64, 4)[:, :, 0], "L"), dict(quality=80, progressive=True)),
        # Odd sizes: partial MCUs at the right and bottom edges.
        "odd-size.jpg": (Image.fromarray(picture(37, 29, 5), "RGB"), dict(quality=88, subsampling="4:2:0")),
        "cmyk.jpg": (rgb.convert("CMYK"), dict(quality=90)),
    }
    for orientation in range(1, 9):
        files[f"orientation-{orientation}.jpg"] = (small, dict(quality=92, exif=exif_with_orientation(orientation)))

    reference = {}
    for name, (image, options) in sorted(files.items()):
        path = os.path.join(FOLDER, name)
        image.save(path, "JPEG", **options)
        with Image.open(path) as opened:
            progressive = bool(opened.info.get("progressive", 0) or opened.info.get("progression", 0))
            orientation = opened.getexif().get(0x0112, 1)
            if opened.mode == "CMYK":
                reference[name] = {"refused": "CMYK", "width": opened.width, "height": opened.height}
                continue
            upright = ImageOps.exif_transpose(opened).convert("RGB")
        reference[name] = {
            "width": upright.width,
            "height": upright.height,
            "components": 1 if image.mode == "L" else 3,
            "progressive": progressive,
            "orientation": orientation,
            "rgb_base64": base64.b64encode(upright.tobytes()).decode("ascii"),
        }
    import PIL.features
    meta = {"pillow": Image.__version__, "libjpeg_turbo": PIL.features.version("libjpeg_turbo")}
    with open(os.path.join(HERE, "jpeg.json"), "w") as out:
        json.dump({"decoder": meta, "files": reference}, out, indent=1, sort_keys=True)
        out.write("\n")
    print(f"wrote {len(files)} JPEGs to {FOLDER} and jpeg.json ({meta})")


if __name__ == "__main__":
    main()

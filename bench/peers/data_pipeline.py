#!/usr/bin/env python3
"""The Python peer of `srgan-bench data`: the same data jobs done the usual Python way.

pack:   Pillow decodes each PNG or JPEG to RGB (JPEGs turned upright by their EXIF orientation), numpy cuts the same grid of patches, lz4.frame compresses
        blocks of 16 patches into one file with a JSON index (one thread).
stream: a seeded permutation of all patches; for each patch its block is decompressed
        (lz4.frame), the patch flipped/rotated by numpy, converted to float, and downsampled x4 by
        MATLAB-style bicubic (the numpy reference in Tests/SRDataTests/Fixtures); batches of 16.
Prints one JSON line per job.

    .venv-peer/bin/pip install pillow lz4 numpy
    .venv-peer/bin/python bench/peers/data_pipeline.py --input samples/photos --work /tmp/peer
"""
import argparse
import json
import os
import sys
import time

import lz4.frame
import numpy as np
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "SRDataTests", "Fixtures"))
from make_bicubic_fixture import imresize  # noqa: E402

BLOCK = 16


def pack(input_dir, work, patch):
    start = time.perf_counter()
    blocks, pending, index, decoded, patches = [], [], [], 0, 0
    out = open(os.path.join(work, "peer.bin"), "wb")
    for name in sorted(os.listdir(input_dir)):
        try:
            with Image.open(os.path.join(input_dir, name)) as opened:
                image = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
        except Exception:
            continue
        decoded += image.size
        h, w, _ = image.shape
        for y in range(0, h - patch + 1, patch):
            for x in range(0, w - patch + 1, patch):
                pending.append(image[y:y + patch, x:x + patch].tobytes())
                patches += 1
                if len(pending) == BLOCK:
                    blocks.append(pending)
                    pending = []
    if pending:
        blocks.append(pending)
    for block in blocks:
        data = lz4.frame.compress(b"".join(block))
        index.append([out.tell(), len(data), len(block)])
        out.write(data)
    out.close()
    with open(os.path.join(work, "peer.json"), "w") as f:
        json.dump({"patch": patch, "blocks": index}, f)
    seconds = time.perf_counter() - start
    return {"job": "pack", "seconds": round(seconds, 3), "patches": patches,
            "decoded_mb_per_s": round(decoded / 1e6 / seconds, 1), "patches_per_s": round(patches / seconds, 1)}


def stream(work, batches, batch_size, seed):
    with open(os.path.join(work, "peer.json")) as f:
        meta = json.load(f)
    patch, index = meta["patch"], meta["blocks"]
    locations = [(b, i) for b, (_, _, n) in enumerate(index) for i in range(n)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(locations))
    size = patch * patch * 3
    delivered = 0
    start = time.perf_counter()
    with open(os.path.join(work, "peer.bin"), "rb") as f:
        for step in range(batches):
            hr_batch, lr_batch = [], []
            for k in range(batch_size):
                b, i = locations[order[(step * batch_size + k) % len(order)]]
                offset, length, _ = index[b]
                f.seek(offset)
                raw = lz4.frame.decompress(f.read(length))
                hr = np.frombuffer(raw[i * size:(i + 1) * size], dtype=np.uint8).reshape(patch, patch, 3)
                t = rng.integers(8)
                if t & 1:
                    hr = hr[:, ::-1]
                if t & 2:
                    hr = hr[::-1]
                if t & 4:
                    hr = hr.transpose(1, 0, 2)
                planar = hr.transpose(2, 0, 1).astype(np.float32) / 255
                lr_batch.append(np.clip(imresize(planar.astype(np.float64), 0.25), 0, 1).astype(np.float32))
                hr_batch.append(planar * 2 - 1)
            np.stack(hr_batch)
            np.stack(lr_batch)
            delivered += batch_size
    seconds = time.perf_counter() - start
    return {"job": "stream", "seconds": round(seconds, 3), "patches": delivered,
            "patches_per_s": round(delivered / seconds, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    print(json.dumps({"tool": "python (Pillow, lz4.frame, numpy)", **pack(args.input, args.work, args.patch)}))
    print(json.dumps({"tool": "python (Pillow, lz4.frame, numpy)", **stream(args.work, args.batches, args.batch, 0)}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The PyTorch peer of the tiny-preset learning run: the same job measured the same way.

Same patches (read from srgan-dist's shards: LZ4 blocks, docs/shard-format.md), same model (the
reference Generator with B=4, C=32 plus the bicubic-upsampled input), same ranges (LR [0,1], HR
[-1,1]), MSE, Adam 5e-4 dropped x0.1 at step 450, batch 16, random flips/rotations, LR by the
numpy MATLAB-style bicubic; validated like srgan-dist: LR = bicubic x1/4 of the HR quantised to 8
bits, SR and bicubic x4 quantised, PSNR/SSIM on BT.601 Y with a 4-pixel border.

    .venv-peer/bin/python bench/peers/tiny_train.py --data runs/demo/packed --threads 2
"""
import argparse
import json
import os
import struct
import sys
import time

import lz4.block
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "SRModelsTests", "Fixtures"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "SRDataTests", "Fixtures"))
from make_bicubic_fixture import imresize  # noqa: E402
from reference_models import Generator  # noqa: E402


def read_patches(folder):
    manifest = json.load(open(os.path.join(folder, "index.json")))
    p = manifest["parameters"]["patch_size"]
    patches = []
    for shard in manifest["shards"]:
        data = open(os.path.join(folder, shard["file"]), "rb").read()
        blocks, index_offset = struct.unpack_from("<QQ", data, 32)
        for b in range(blocks):
            offset, size, count, _, _ = struct.unpack_from("<QIIII", data, index_offset + 24 * b)
            raw = lz4.block.decompress(data[offset:offset + size], uncompressed_size=count * p * p * 3)
            patches.append(np.frombuffer(raw, dtype=np.uint8).reshape(count, p, p, 3))
    return np.concatenate(patches)


def luma(rgb):
    return 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255


def ssim(a, b):
    window = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5 ** 2))
    window /= window.sum()

    def filt(x):
        h = np.stack([np.convolve(row, window, mode="valid") for row in x])
        return np.stack([np.convolve(col, window, mode="valid") for col in h.T]).T
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = filt(a), filt(b)
    sx, sy, sxy = filt(a * a) - mx * mx, filt(b * b) - my * my, filt(a * b) - mx * my
    return float((((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sx + sy + c2))).mean())


def quantise(planar01):
    return np.clip(np.round(planar01 * 255), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    patches = read_patches(args.data)
    model = Generator(channels=32, blocks=4, scale=4)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[450], gamma=0.1)
    start = time.perf_counter()
    for step in range(args.steps):
        hr_list, lr_list, base_list = [], [], []
        for i in rng.integers(len(patches), size=args.batch):
            hr = patches[i]
            t = rng.integers(8)
            if t & 1:
                hr = hr[:, ::-1]
            if t & 2:
                hr = hr[::-1]
            if t & 4:
                hr = hr.transpose(1, 0, 2)
            planar = hr.transpose(2, 0, 1).astype(np.float64) / 255
            lr = np.clip(imresize(planar, 0.25), 0, 1)
            hr_list.append(planar * 2 - 1)
            lr_list.append(lr)
            base_list.append(imresize(lr, 4.0) * 2 - 1)
        hr = torch.tensor(np.stack(hr_list), dtype=torch.float32)
        lr = torch.tensor(np.stack(lr_list), dtype=torch.float32)
        base = torch.tensor(np.stack(base_list), dtype=torch.float32)
        model.train()
        opt.zero_grad(set_to_none=True)
        F.mse_loss(model(lr) + base, hr).backward()
        opt.step()
        sched.step()
    seconds = time.perf_counter() - start
    model.eval()
    results = []
    val = os.path.join(args.data, "val")
    with torch.no_grad():
        for name in sorted(os.listdir(val)):
            img = np.asarray(Image.open(os.path.join(val, name)).convert("RGB"))
            h, w = img.shape[0] // 4 * 4, img.shape[1] // 4 * 4
            hr = img[:h, :w]
            lr = quantise(imresize(hr.transpose(2, 0, 1).astype(np.float64) / 255, 0.25))
            lr01 = lr.transpose(2, 0, 1).astype(np.float64) / 255
            up = imresize(lr01, 4.0)
            sr = model(torch.tensor(lr01[None], dtype=torch.float32))[0].numpy() + (up * 2 - 1)
            sr8, bic8 = quantise((sr + 1) / 2), quantise(up)
            yh, ys, yb = (luma(x.astype(np.float64))[4:-4, 4:-4] for x in (hr, sr8, bic8))
            psnr = lambda a, b: 10 * np.log10(255 ** 2 / np.mean((a - b) ** 2))  # noqa: E731
            results.append((psnr(ys, yh), ssim(ys, yh), psnr(yb, yh), ssim(yb, yh)))
    m = np.mean(results, axis=0)
    print(json.dumps({"tool": "pytorch " + torch.__version__, "steps": args.steps, "threads": args.threads,
                      "train_seconds": round(seconds, 1), "psnr": round(m[0], 3), "ssim": round(m[1], 4),
                      "psnr_bicubic": round(m[2], 3), "ssim_bicubic": round(m[3], 4), "images": len(results)}))


if __name__ == "__main__":
    main()

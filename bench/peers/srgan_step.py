#!/usr/bin/env python3
"""The PyTorch peer of `srgan-dist bench step`: the same networks (Tests/SRModelsTests/Fixtures/
reference_models.py, the paper's sizes), the same batch, patch and thread count, the same step
(SRResNet: MSE; SRGAN: D step + G step with VGG19 phi5,4 / 12.75 and 1e-3 x adversarial), Adam.
Prints one JSON line with the same keys as srgan-dist's.

    .venv-peer/bin/python bench/peers/srgan_step.py --phase gan --batch 16 --threads 2
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "SRModelsTests", "Fixtures"))
from reference_models import Discriminator, Generator, VGG19Features  # noqa: E402


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", choices=["srresnet", "gan"], default="gan")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    g = Generator().to(memory_format=fmt).train()
    g_opt = torch.optim.Adam(g.parameters(), lr=1e-4)
    if args.phase == "gan":
        d = Discriminator(patch=args.patch).to(memory_format=fmt).train()
        d_opt = torch.optim.Adam(d.parameters(), lr=1e-4)
        vgg = VGG19Features(5, 4).to(memory_format=fmt).eval()
        for p in vgg.parameters():
            p.requires_grad_(False)
    hr = torch.rand(args.batch, 3, args.patch, args.patch).contiguous(memory_format=fmt)
    lr = F.avg_pool2d(hr, 4).contiguous(memory_format=fmt)
    rss_before = rss_mb()
    seconds = []
    for _ in range(args.steps):
        start = time.perf_counter()
        if args.phase == "srresnet":
            g_opt.zero_grad(set_to_none=True)
            F.mse_loss(g(lr), hr).backward()
            g_opt.step()
        else:
            sr = g(lr)
            d_opt.zero_grad(set_to_none=True)
            real, fake = d(hr), d(sr.detach())
            (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
             + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))).backward()
            d_opt.step()
            g_opt.zero_grad(set_to_none=True)
            logits = d(sr)
            with torch.no_grad():
                hr_features = vgg(hr) / 12.75
            content = F.mse_loss(vgg(sr) / 12.75, hr_features)
            (content + 1e-3 * F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))).backward()
            g_opt.step()
        seconds.append(time.perf_counter() - start)
    steady = sorted(seconds[1:] or seconds)[len(seconds[1:] or seconds) // 2]
    print(json.dumps({
        "tool": "pytorch " + torch.__version__,
        "layout": "channels_last" if args.channels_last else "contiguous",
        "phase": args.phase, "batch": args.batch, "patch": args.patch, "threads": args.threads,
        "step_seconds": [round(s, 3) for s in seconds],
        "samples_per_s": round(args.batch / steady, 3),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The PyTorch peer of `srgan-dist bench infer`: the paper's generator (reference_models.py,
random weights, eval mode, inference_mode) on one whole LR image of --input x --input pixels, no
tiling, --threads threads; --precision bf16 runs it under bf16 autocast (srgan_step.autocast).
Prints one JSON line with the same keys as srgan-dist's.

    .venv-peer/bin/python bench/peers/srgan_infer.py --input 128 --steps 3 --threads 2
    .venv-peer/bin/python bench/peers/srgan_infer.py --input 128 --precision bf16 --channels-last
"""
import argparse
import json

import torch

from srgan_step import (Generator, add_common_arguments, autocast, layout_fields, median_after_first, memory_format,
                        peak_rss_mb, timed)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=int, default=128)
    add_common_arguments(parser)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    fmt = memory_format(args.channels_last)
    g = Generator().to(memory_format=fmt).eval()
    image = torch.rand(1, 3, args.input, args.input).contiguous(memory_format=fmt)
    with torch.inference_mode(), autocast(args.precision)():
        rss_before, seconds = timed(args.steps, lambda: g(image))
    print(json.dumps({
        "tool": "pytorch " + torch.__version__,
        **layout_fields(args),
        "workload": "infer", "input": args.input, "output": 4 * args.input, "threads": args.threads,
        "image_seconds": [round(s, 3) for s in seconds],
        "seconds_per_image": round(median_after_first(seconds), 4),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }))


if __name__ == "__main__":
    main()

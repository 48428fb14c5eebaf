#!/usr/bin/env python3
"""The PyTorch peer of `srgan-dist bench step`: the same networks (Tests/SRModelsTests/Fixtures/
reference_models.py, the paper's sizes), the same batch, patch and thread count, the same step
(SRResNet: MSE; SRGAN: D step + G step with VGG19 phi5,4 / 12.75 and 1e-3 x adversarial), Adam.
As in srgan-dist (and BasicSR), D takes no weight gradient in the G step. Prints one JSON line
with the same keys as srgan-dist's. srgan_ddp.py runs the same step under DDP.

--precision bf16 is PyTorch's mixed precision on the CPU: every forward and loss runs under
torch.autocast("cpu", dtype=torch.bfloat16), the backward outside it (as PyTorch's autocast
documentation recommends), and Adam steps the fp32 weights; the peer of `srgan-dist bench step
--precision bf16`. The JSON line says which ("precision").

    .venv-peer/bin/python bench/peers/srgan_step.py --phase gan --batch 16 --threads 2
    .venv-peer/bin/python bench/peers/srgan_step.py --phase srresnet --precision bf16 --channels-last
"""
import argparse
import contextlib
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


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_format(channels_last):
    return torch.channels_last if channels_last else torch.contiguous_format


def build(phase, patch, fmt, tiny=None):
    """The networks and optimizers of one phase: a dict g, g_opt (and d, d_opt, vgg for gan).
    tiny (srresnet phase only): srgan-dist's tiny preset's generator and training, as
    `srgan-dist bench step --network tiny` passes them: channels, blocks, tail_kernel, loss, lr;
    the global skip adds the bicubic of the input to G's output."""
    if tiny is not None:
        g = Generator(channels=tiny.channels, blocks=tiny.blocks, tail_kernel=tiny.tail_kernel)
        nets = {"g": g.to(memory_format=fmt).train(), "loss": F.l1_loss if tiny.loss == "l1" else F.mse_loss}
        nets["g_opt"] = torch.optim.Adam(nets["g"].parameters(), lr=tiny.lr)
        return nets
    nets = {"g": Generator().to(memory_format=fmt).train()}
    nets["g_opt"] = torch.optim.Adam(nets["g"].parameters(), lr=1e-4)
    if phase == "gan":
        nets["d"] = Discriminator(patch=patch).to(memory_format=fmt).train()
        nets["d_opt"] = torch.optim.Adam(nets["d"].parameters(), lr=1e-4)
        nets["vgg"] = VGG19Features(5, 4).to(memory_format=fmt).eval()
        for p in nets["vgg"].parameters():
            p.requires_grad_(False)
    return nets


def autocast(precision):
    """The context the forward passes and losses run in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return lambda: torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext


def random_batch(batch, patch, fmt):
    hr = torch.rand(batch, 3, patch, patch).contiguous(memory_format=fmt)
    return F.avg_pool2d(hr, 4).contiguous(memory_format=fmt), hr


def srresnet_step(nets, lr, hr, forward=contextlib.nullcontext):
    """`forward`: the context of the forward pass and loss (autocast(precision))."""
    nets["g_opt"].zero_grad(set_to_none=True)
    with forward():
        if "loss" in nets:
            # the global skip: G learns the residual over the bicubic of its input, as srgan-dist does
            base = F.interpolate(lr, scale_factor=4, mode="bicubic", align_corners=False)
            loss = nets["loss"](nets["g"](lr) + base, hr)
        else:
            loss = F.mse_loss(nets["g"](lr), hr)
    loss.backward()
    nets["g_opt"].step()


def gan_step(nets, lr, hr, forward=contextlib.nullcontext, d_plain=None, d_real_no_sync=None):
    """D step then G step; `forward` as in srresnet_step. Under DDP, `d_plain` is D's module (used
    in the G step, where D takes no gradient and needs no all-reduce) and `d_real_no_sync` a
    context that defers the all-reduce of the real half so D's gradients are reduced once per step."""
    g, d, vgg = nets["g"], nets["d"], nets["vgg"]
    d_plain = d_plain or d
    with forward():
        sr = g(lr)
    nets["d_opt"].zero_grad(set_to_none=True)
    bce = F.binary_cross_entropy_with_logits
    if d_real_no_sync is None:
        with forward():
            real, fake = d(hr), d(sr.detach())
            d_loss = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
        d_loss.backward()
    else:
        with d_real_no_sync():
            with forward():
                real = d(hr)
                real_loss = bce(real, torch.ones_like(real))
            real_loss.backward()
        with forward():
            fake = d(sr.detach())
            fake_loss = bce(fake, torch.zeros_like(fake))
        fake_loss.backward()
    nets["d_opt"].step()
    nets["g_opt"].zero_grad(set_to_none=True)
    for p in d_plain.parameters():
        p.requires_grad_(False)
    with forward():
        logits = d_plain(sr)
        with torch.no_grad():
            hr_features = vgg(hr) / 12.75
        content = F.mse_loss(vgg(sr) / 12.75, hr_features)
        g_loss = content + 1e-3 * bce(logits, torch.ones_like(logits))
    g_loss.backward()
    for p in d_plain.parameters():
        p.requires_grad_(True)
    nets["g_opt"].step()


def add_common_arguments(parser):
    """--steps, --threads, --channels-last, --precision, shared by the peers."""
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    add_layout_arguments(parser)


def add_layout_arguments(parser):
    """--channels-last and --precision (bf16: forward and loss under autocast), which every peer takes."""
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                        help="bf16: forward passes and losses under torch.autocast(\"cpu\", dtype=torch.bfloat16)")


def layout_fields(args):
    """The JSON keys saying how a peer ran: its memory layout and precision."""
    return {"layout": "channels_last" if args.channels_last else "contiguous",
            "precision": "bf16 (autocast)" if args.precision == "bf16" else "fp32"}


def timed(steps, body):
    """(VmRSS before in MB, wall seconds of each of `steps` calls of body())."""
    rss_before = rss_mb()
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        body()
        seconds.append(time.perf_counter() - start)
    return rss_before, seconds


def one_step(phase, nets, lr, hr, precision="fp32", **ddp):
    if phase == "srresnet":
        srresnet_step(nets, lr, hr, autocast(precision))
    else:
        gan_step(nets, lr, hr, autocast(precision), **ddp)


def median_after_first(seconds):
    steady = sorted(seconds[1:] or seconds)
    return steady[len(steady) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", choices=["srresnet", "gan"], default="gan")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--network", choices=["paper", "tiny"], default="paper")
    parser.add_argument("--channels", type=int, default=32, help="tiny: the generator's width")
    parser.add_argument("--blocks", type=int, default=4, help="tiny: residual blocks")
    parser.add_argument("--tail-kernel", type=int, default=3, help="tiny: the last convolution's kernel")
    parser.add_argument("--loss", choices=["l1", "mse"], default="l1", help="tiny: the content loss")
    parser.add_argument("--lr", type=float, default=1e-3, help="tiny: Adam's learning rate")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.network == "tiny" and args.phase != "srresnet":
        parser.error("--network tiny is measured in the srresnet phase only")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    fmt = memory_format(args.channels_last)
    nets = build(args.phase, args.patch, fmt, args if args.network == "tiny" else None)
    lr, hr = random_batch(args.batch, args.patch, fmt)
    rss_before, seconds = timed(args.steps, lambda: one_step(args.phase, nets, lr, hr, args.precision))
    print(json.dumps({
        "tool": "pytorch " + torch.__version__,
        **layout_fields(args),
        "phase": args.phase, "network": args.network, "batch": args.batch, "patch": args.patch, "threads": args.threads,
        "step_seconds": [round(s, 3) for s in seconds],
        "samples_per_s": round(args.batch / median_after_first(seconds), 3),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }))


if __name__ == "__main__":
    main()

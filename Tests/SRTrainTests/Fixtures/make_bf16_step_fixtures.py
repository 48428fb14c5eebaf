#!/usr/bin/env python3
"""Writes the SRResNet and SRGAN steps of make_step_fixtures.py (same networks, weights and batch,
step_init.safetensors) computed in bf16 two ways, for the SRTrain tests of `precision: bf16`:

- autocast.*: PyTorch's own mixed precision, forward passes and losses under
  torch.autocast("cpu", dtype=torch.bfloat16), backward outside it: what a PyTorch user runs.
  Its convolutions also round their outputs to bf16, so it is a loose reference.
- emulated.*: srgan-dist's scheme written out in PyTorch: every convolution and dense product
  takes its two inputs rounded to bf16 (round to nearest even, Tensor.bfloat16()) and sums in
  fp32; forward (x, w), input gradient (dy, w) and weight gradient (dy, x); biases, batch norm,
  activations, losses and Adam in fp32; 3x3 stride-1 "same" convolutions over 8 or more input and
  output channels (srgan-dist's Winograd layers, whose products stay fp32) in fp32. A tight
  reference: only fp32 summation orders differ.

    .venv-peer/bin/python Tests/SRTrainTests/Fixtures/make_bf16_step_fixtures.py
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_step_fixtures import make_networks, run_steps  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "..", "SRModelsTests", "Fixtures"))
from reference_models import Generator  # noqa: E402


def bf16(t):
    return t.to(torch.bfloat16).to(torch.float32)


class BF16Conv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, stride, padding):
        xr, wr = bf16(x), bf16(w)
        ctx.save_for_backward(xr, wr)
        ctx.geometry = (stride, padding, x.shape, w.shape, b is not None)
        return F.conv2d(xr, wr, b, stride, padding)

    @staticmethod
    def backward(ctx, dy):
        xr, wr = ctx.saved_tensors
        stride, padding, x_shape, w_shape, has_bias = ctx.geometry
        dyr = bf16(dy)
        dx = torch.nn.grad.conv2d_input(x_shape, wr, dyr, stride, padding)
        dw = torch.nn.grad.conv2d_weight(xr, w_shape, dyr, stride, padding)
        return dx, dw, dy.sum((0, 2, 3)) if has_bias else None, None, None


class BF16Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        xr, wr = bf16(x), bf16(w)
        ctx.save_for_backward(xr, wr)
        return xr @ wr.t() + b

    @staticmethod
    def backward(ctx, dy):
        xr, wr = ctx.saved_tensors
        dyr = bf16(dy)
        return dyr @ wr, dyr.t() @ xr, dy.sum(0)


def winograd_layer(conv):
    return conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.padding == (1, 1) \
        and conv.in_channels >= 8 and conv.out_channels >= 8


def emulate(module):
    """Every convolution and dense layer of `module` computes as srgan-dist's bf16 does."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d) and not winograd_layer(m):
            m.forward = (lambda c: lambda x: BF16Conv.apply(x, c.weight, c.bias, c.stride, c.padding))(m)
        elif isinstance(m, nn.Linear):
            m.forward = (lambda c: lambda x: BF16Linear.apply(x, c.weight, c.bias))(m)
    return module


def main():
    io = {}
    g, d, vgg, lr, hr = make_networks()
    steps = run_steps(g, d, vgg, lr, hr, forward=lambda: torch.autocast("cpu", dtype=torch.bfloat16))
    io.update({"autocast." + k: v for k, v in steps.items()})
    g, d, vgg, lr, hr = make_networks()
    steps = run_steps(emulate(g), emulate(d), emulate(vgg), lr, hr,
                      make_generator=lambda: emulate(Generator(channels=8, blocks=1, scale=4)))
    io.update({"emulated." + k: v for k, v in steps.items() if k not in ("lr", "hr")})
    save_file(io, os.path.join(HERE, "bf16_step_io.safetensors"))
    print("wrote bf16_step_io.safetensors")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes one SRResNet step and one SRGAN step computed by PyTorch, for the SRTrain tests.

The GAN step is the usual PyTorch formulation of the paper's k=1 alternation:
    sr = G(lr)
    D step: BCE(D(hr), 1) + BCE(D(sr.detach()), 0); backward; Adam
    G step: mse(vgg(sr)/12.75, vgg(hr)/12.75) + 1e-3 * BCE(D(sr), 1); backward; Adam
Files: gan_step_init.safetensors (G, D and VGG weights, prefixed g./d./vgg.), gan_step_io.safetensors
(lr, hr, losses, D gradients of the D step, G gradients of the G step, parameters and running
statistics after the step), and the same for the srresnet step (MSE content loss).

    .venv-peer/bin/python Tests/SRTrainTests/Fixtures/make_step_fixtures.py
"""
import contextlib
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "SRModelsTests", "Fixtures"))
from reference_models import Discriminator, Generator, VGG19Features  # noqa: E402

LR_G, LR_D = 1e-3, 2e-3


def prefixed(prefix, state):
    return {prefix + k: v.detach().clone().contiguous() for k, v in state.items()}


def make_networks():
    """The fixtures' networks and batch, from seed 11: G, D, frozen VGG (phi2,2 of 1/16 width), lr, hr."""
    torch.set_num_threads(1)
    torch.manual_seed(11)
    g = Generator(channels=8, blocks=1, scale=4)
    d = Discriminator(patch=32, base=4, hidden=16)
    vgg = VGG19Features(2, 2, width_divisor=16)
    for p in vgg.parameters():
        p.requires_grad_(False)
    vgg.eval()
    hr = torch.rand(2, 3, 32, 32)
    lr = F.avg_pool2d(hr, 4)
    return g, d, vgg, lr, hr


def run_steps(g, d, vgg, lr, hr, forward=contextlib.nullcontext, make_generator=None):
    """One SRResNet step (on a copy of G) and one GAN step (on G and D themselves); the io tensors.

    forward() is the context the forward passes and losses run in (torch.autocast for bf16), the
    backward passes run outside it; make_generator() builds the SRResNet step's copy of G."""
    io = {"lr": lr, "hr": hr}
    g_sr = (make_generator or (lambda: Generator(channels=8, blocks=1, scale=4)))()
    g_sr.load_state_dict(g.state_dict())
    g_sr.train()
    opt = torch.optim.Adam(g_sr.parameters(), lr=LR_G)
    opt.zero_grad()
    with forward():
        loss = F.mse_loss(g_sr(lr).float(), hr)
    loss.backward()
    io["srresnet.content"] = loss.detach().reshape(1)
    io.update({"srresnet.grad." + k: p.grad.clone() for k, p in g_sr.named_parameters()})
    opt.step()
    io.update(prefixed("srresnet.after.", g_sr.state_dict()))

    # GAN step.
    g.train()
    d.train()
    g_opt = torch.optim.Adam(g.parameters(), lr=LR_G)
    d_opt = torch.optim.Adam(d.parameters(), lr=LR_D)
    with forward():
        sr = g(lr)
    d_opt.zero_grad()
    with forward():
        real = d(hr).float()
        fake = d(sr.detach()).float()
        d_loss = F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
            F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    d_loss.backward()
    io["gan.d_loss"] = d_loss.detach().reshape(1)
    io["gan.d_of_hr"] = torch.sigmoid(real).mean().detach().reshape(1)
    io["gan.d_of_sr"] = torch.sigmoid(fake).mean().detach().reshape(1)
    io.update({"gan.d_grad." + k: p.grad.clone() for k, p in d.named_parameters()})
    d_opt.step()
    g_opt.zero_grad()
    with forward():
        logits = d(sr).float()
        adversarial = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        with torch.no_grad():
            hr_features = vgg(hr).float() / 12.75
        content = F.mse_loss(vgg(sr).float() / 12.75, hr_features)
    (content + 1e-3 * adversarial).backward()
    io["gan.content"] = content.detach().reshape(1)
    io["gan.adversarial"] = adversarial.detach().reshape(1)
    io.update({"gan.g_grad." + k: p.grad.clone() for k, p in g.named_parameters()})
    g_opt.step()
    io.update(prefixed("gan.after.g.", g.state_dict()))
    io.update(prefixed("gan.after.d.", d.state_dict()))
    return {k: (v.float() if v.dtype == torch.bfloat16 else v).contiguous() for k, v in io.items()}


def main():
    g, d, vgg, lr, hr = make_networks()
    init = {**prefixed("g.", g.state_dict()), **prefixed("d.", d.state_dict()), **prefixed("vgg.", vgg.state_dict())}
    save_file(init, os.path.join(HERE, "step_init.safetensors"))
    save_file(run_steps(g, d, vgg, lr, hr), os.path.join(HERE, "step_io.safetensors"))
    print("wrote step_init.safetensors and step_io.safetensors")


if __name__ == "__main__":
    main()

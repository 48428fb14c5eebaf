#!/usr/bin/env python3
"""Writes PyTorch references for the loss and discriminator variants (docs/gan-variants.md):

  losses: the relativistic average GAN losses of D and of G on given logits (two micro-batches of
          real and of fake logits, concatenated for the means), their autograd gradients through
          the means; the total variation of an image batch and its gradient
  step:   one gan-phase step with gan_loss ragan, a conditional discriminator (x4), the combined
          content loss MSE + 6e-3 VGG22 and TV (weights raised so every term shows in the gradients):
            sr = G(lr)
            D: real = D(hr, lr), fake = D(sr.detach(), lr)
               BCE(real - mean fake, 1) + BCE(fake - mean real, 0); backward; Adam (lr 1e-4)
            G: real = D(hr, lr), fake = D(sr, lr)
               content + ADV x [BCE(real - mean fake, 0) + BCE(fake - mean real, 1)] + TV_WEIGHT x TV(sr)
               backward; Adam (lr 1e-3)
Files: variants_init.safetensors (g./d./vgg. weights), variants_io.safetensors.

    .venv-peer/bin/python Tests/SRTrainTests/Fixtures/make_variant_fixtures.py
"""
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "SRModelsTests", "Fixtures"))
from reference_models import Discriminator, Generator, VGG19Features  # noqa: E402

LR_G, LR_D = 1e-3, 1e-4
ADV, VGG_WEIGHT, TV_WEIGHT = 0.1, 6e-3, 1e-3


def prefixed(prefix, state):
    return {prefix + k: v.detach().clone().contiguous() for k, v in state.items()}


def ragan(real, fake, discriminator):
    """The relativistic average loss: D's (targets 1, 0) or G's (targets 0, 1)."""
    a, b = real - fake.mean(), fake - real.mean()
    t_real, t_fake = (1.0, 0.0) if discriminator else (0.0, 1.0)
    return F.binary_cross_entropy_with_logits(a, torch.full_like(a, t_real)) + \
        F.binary_cross_entropy_with_logits(b, torch.full_like(b, t_fake))


def total_variation(x):
    """Per image: the sum of squared horizontal and vertical neighbour differences; mean over images."""
    horizontal = (x[:, :, :, 1:] - x[:, :, :, :-1]).pow(2).sum()
    vertical = (x[:, :, 1:, :] - x[:, :, :-1, :]).pow(2).sum()
    return (horizontal + vertical) / x.shape[0]


def losses(io):
    real = (torch.randn(2, 3, 1) * 2).requires_grad_(True)   # two micro-batches of 3 logits
    fake = (torch.randn(2, 3, 1) * 2 - 1).requires_grad_(True)
    io["ragan.real"], io["ragan.fake"] = real.detach().clone(), fake.detach().clone()
    for side, is_d in (("d", True), ("g", False)):
        real.grad, fake.grad = None, None
        loss = ragan(real.reshape(-1, 1), fake.reshape(-1, 1), is_d)
        loss.backward()
        io[f"ragan.{side}.loss"] = loss.detach().reshape(1)
        io[f"ragan.{side}.real_grad"], io[f"ragan.{side}.fake_grad"] = real.grad.clone(), fake.grad.clone()
    image = torch.randn(2, 3, 5, 7).requires_grad_(True)
    tv = total_variation(image)
    tv.backward()
    io["tv.image"], io["tv.loss"], io["tv.grad"] = image.detach(), tv.detach().reshape(1), image.grad


def step(io):
    torch.manual_seed(12)
    g = Generator(channels=8, blocks=1, scale=4)
    d = Discriminator(patch=32, base=4, hidden=16, conditional=True, lr_channels=3, scale=4)
    vgg = VGG19Features(2, 2, width_divisor=16)
    for p in vgg.parameters():
        p.requires_grad_(False)
    vgg.eval()
    hr = torch.rand(2, 3, 32, 32)
    lr = F.avg_pool2d(hr, 4)
    save_file({**prefixed("g.", g.state_dict()), **prefixed("d.", d.state_dict()), **prefixed("vgg.", vgg.state_dict())},
              os.path.join(HERE, "variants_init.safetensors"))
    io["lr"], io["hr"] = lr, hr
    g.train()
    d.train()
    g_opt = torch.optim.Adam(g.parameters(), lr=LR_G)
    d_opt = torch.optim.Adam(d.parameters(), lr=LR_D)
    sr = g(lr)
    d_opt.zero_grad()
    real, fake = d(hr, lr), d(sr.detach(), lr)
    d_loss = ragan(real, fake, True)
    d_loss.backward()
    io["step.d_loss"] = d_loss.detach().reshape(1)
    io["step.d_real_over_fake"] = torch.sigmoid(real - fake.mean()).mean().detach().reshape(1)
    io["step.d_fake_over_real"] = torch.sigmoid(fake - real.mean()).mean().detach().reshape(1)
    io.update({"step.d_grad." + k: p.grad.clone() for k, p in d.named_parameters()})
    d_opt.step()
    g_opt.zero_grad()
    real, fake = d(hr, lr), d(sr, lr)
    adversarial = ragan(real, fake, False)
    with torch.no_grad():
        hr_features = vgg(hr) / 12.75
    content = F.mse_loss(sr, hr) + VGG_WEIGHT * F.mse_loss(vgg(sr) / 12.75, hr_features)
    tv = total_variation(sr)
    (content + ADV * adversarial + TV_WEIGHT * tv).backward()
    io["step.content"] = content.detach().reshape(1)
    io["step.adversarial"] = adversarial.detach().reshape(1)
    io["step.tv"] = tv.detach().reshape(1)
    io.update({"step.g_grad." + k: p.grad.clone() for k, p in g.named_parameters()})
    g_opt.step()
    io.update(prefixed("step.after.g.", g.state_dict()))
    io.update(prefixed("step.after.d.", d.state_dict()))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(5)
    io = {}
    losses(io)
    step(io)
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(HERE, "variants_io.safetensors"))
    print("wrote variants_init.safetensors and variants_io.safetensors")


if __name__ == "__main__":
    main()

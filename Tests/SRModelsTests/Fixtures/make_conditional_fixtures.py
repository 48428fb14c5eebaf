#!/usr/bin/env python3
"""Writes the conditional discriminator's PyTorch reference for x2, x4 and x8: weights
(discriminator_cond_x{s}.safetensors) and, in training mode, the logits, the loss sum(logits * r),
and its gradients w.r.t. the image, the LR condition and every parameter
(discriminator_cond_x{s}_io.safetensors).

    .venv-peer/bin/python Tests/SRModelsTests/Fixtures/make_conditional_fixtures.py
"""
import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from reference_models import Discriminator  # noqa: E402


def main():
    torch.set_num_threads(1)
    for scale in (2, 4, 8):
        torch.manual_seed(30 + scale)
        d = Discriminator(patch=32, base=8, hidden=16, conditional=True, lr_channels=3, scale=scale)
        d.train()
        save_file({k: v.contiguous() for k, v in d.state_dict().items()},
                  os.path.join(HERE, f"discriminator_cond_x{scale}.safetensors"), metadata={"format": "pt"})
        image = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
        lr = torch.rand(2, 3, 32 // scale, 32 // scale).requires_grad_(True)
        logits = d(image, lr)
        r = torch.randn(logits.shape)
        loss = (logits * r).sum()
        loss.backward()
        io = {"input": image.detach(), "condition": lr.detach(), "upstream": r, "output": logits.detach(),
              "input_grad": image.grad, "condition_grad": lr.grad}
        io.update({"grad." + k: p.grad for k, p in d.named_parameters()})
        save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(HERE, f"discriminator_cond_x{scale}_io.safetensors"))
        print("wrote conditional discriminator x%d, joined after features.%d" % (scale, d.join_after))


if __name__ == "__main__":
    main()

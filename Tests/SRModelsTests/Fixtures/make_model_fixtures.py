#!/usr/bin/env python3
"""Writes the whole-network fixtures the SRModels tests compare against.

For each network: NAME.safetensors is the reference model's state_dict (saved by the safetensors
package, exactly as a PyTorch user would), and NAME_io.safetensors holds the input, the upstream
gradient r of the scalar loss sum(output * r), and what PyTorch computed: in training mode the
output, loss, input gradient, every parameter gradient and the running statistics after the pass;
then in evaluation mode the output, input gradient and parameter gradients.

    python3 -m venv .venv-peer && .venv-peer/bin/pip install torch numpy safetensors
    .venv-peer/bin/python Tests/SRModelsTests/Fixtures/make_model_fixtures.py
"""
import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from reference_models import ColorizeGenerator, Discriminator, Generator, UNet, VGG19Features, srgb_to_lab  # noqa: E402


def randomise_batch_norms(model, generator):
    """Non-trivial BN parameters and running statistics, so loading them is really tested."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                c = module.num_features
                module.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(c, generator=generator) - 0.5)
                module.running_mean.copy_(torch.rand(c, generator=generator) * 0.2 - 0.1)
                module.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
                module.num_batches_tracked.fill_(3)
            if isinstance(module, torch.nn.PReLU):
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) * 0.4)


def record(name, model, x, trainable=True):
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              os.path.join(HERE, f"{name}.safetensors"), metadata={"format": "pt"})
    io = {"input": x.clone()}
    out = model(x)
    r = torch.randn(out.shape, generator=torch.Generator().manual_seed(99))
    io["upstream"] = r
    for mode in ("train", "eval"):
        model.train(mode == "train")
        model.zero_grad(set_to_none=True)
        xin = x.clone().requires_grad_(True)
        out = model(xin)
        loss = (out * r).sum()
        loss.backward()
        io[f"{mode}.output"] = out.detach()
        io[f"{mode}.loss"] = loss.detach().reshape(1)
        io[f"{mode}.input_grad"] = xin.grad
        if trainable:
            for pname, p in model.named_parameters():
                io[f"{mode}.grad.{pname}"] = p.grad
        if mode == "train":
            for bname, b in model.named_buffers():
                if b.dtype == torch.float32 and "running" in bname:
                    io[f"train.after.{bname}"] = b.detach().clone()
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(HERE, f"{name}_io.safetensors"))
    print("wrote", name, sum(p.numel() for p in model.parameters()), "parameters")


def write_paper_shapes():
    """Names and shapes of the full-size networks, to check naming beyond the small fixtures."""
    import json
    shapes = {}
    for name, model in [("generator", Generator()), ("generator_rir", Generator(groups=6, blocks=3)),
                        ("discriminator", Discriminator()), ("vgg54", VGG19Features(5, 4)),
                        ("vgg22", VGG19Features(2, 2)), ("colorize", ColorizeGenerator())]:
        shapes[name] = {k: list(v.shape) for k, v in model.state_dict().items()}
    with open(os.path.join(HERE, "paper_shapes.json"), "w") as f:
        json.dump(shapes, f, indent=0, sort_keys=True)
    print("wrote paper_shapes.json")


def main():
    write_paper_shapes()
    torch.set_num_threads(1)
    torch.manual_seed(5)
    g = torch.Generator().manual_seed(6)
    # record() saves the state_dict first; its training pass then updates the running statistics,
    # which its evaluation pass uses. Its first forward (to size r) runs in eval mode so it
    # leaves the statistics alone.
    for name, model, x in [
        ("generator", Generator(channels=16, blocks=2, scale=4), torch.rand(2, 3, 12, 12)),
        ("generator_rir", Generator(channels=8, blocks=2, groups=2, scale=2), torch.rand(2, 3, 10, 9)),
        ("discriminator", Discriminator(patch=32, base=8, hidden=32), torch.rand(2, 3, 32, 32) * 2 - 1),
    ]:
        randomise_batch_norms(model, g)
        model.eval()
        record(name, model, x)
    for name, block, conv in [("vgg54", 5, 4), ("vgg22", 2, 2)]:
        vgg = VGG19Features(block, conv, width_divisor=16)
        for p in vgg.parameters():
            p.requires_grad_(False)
        vgg.eval()
        record(name, vgg, torch.rand(1, 3, 32, 32), trainable=False)
    # Added later, last, so the fixtures above keep their bytes: the generator without batch norm.
    model = Generator(channels=8, blocks=2, scale=2, bn=False)
    randomise_batch_norms(model, g)
    model.eval()
    record("generator_nobn", model, torch.rand(2, 3, 8, 8))
    # Added later still: the 3x3 tail (the tiny preset's).
    model = Generator(channels=8, blocks=1, scale=4, tail_kernel=3)
    randomise_batch_norms(model, g)
    model.eval()
    record("generator_tail3", model, torch.rand(2, 3, 6, 7))
    # Added later still: the colourising U-Net alone, and the whole colourising generator
    # (grayscale in [-1,1]), bottlenecked (3 channels) and un-bottlenecked (as many as the SR net).
    model = UNet(in_channels=1, base=4, depth=3, out_channels=3)
    model.eval()
    record("unet", model, torch.rand(2, 1, 16, 8) * 2 - 1)
    model = ColorizeGenerator(base=4, depth=3, colorizer_out=3, channels=8, blocks=1, scale=4, tail_kernel=3)
    randomise_batch_norms(model, g)
    model.eval()
    record("colorize_generator", model, torch.rand(2, 1, 8, 16) * 2 - 1)
    model = ColorizeGenerator(base=4, depth=3, colorizer_out=8, channels=8, blocks=1, scale=2)
    randomise_batch_norms(model, g)
    model.eval()
    record("colorize_generator_wide", model, torch.rand(1, 1, 8, 8) * 2 - 1)
    write_lab_fixture()


def write_lab_fixture():
    """sRGB -> L*a*b* in double precision: primaries, white, black, grays and random colours."""
    import json
    fixed = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5], [0.02, 0.03, 0.04], [0.04045, 0.5, 0.9]]
    rgb = torch.cat([torch.tensor(fixed, dtype=torch.float64),
                     torch.rand(24, 3, generator=torch.Generator().manual_seed(11), dtype=torch.float64)])
    lab = srgb_to_lab(rgb)
    path = os.path.join(HERE, "..", "..", "SRDataTests", "Fixtures", "lab.json")
    with open(path, "w") as f:
        json.dump({"rgb": rgb.flatten().tolist(), "lab": lab.flatten().tolist()}, f)
    print("wrote lab.json")


if __name__ == "__main__":
    main()

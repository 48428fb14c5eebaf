#!/usr/bin/env python3
"""Converts torchvision's VGG19 ImageNet weights (a .pth state_dict) to the safetensors file
srgan-dist's perceptual loss reads (names features.N.weight / features.N.bias, unchanged).

    python3 -m venv .venv-peer && .venv-peer/bin/pip install torch safetensors
    .venv-peer/bin/python scripts/convert_vgg19.py vgg19-dcbb9e9d.pth vgg19.safetensors

The input may also be a file of timm's vgg19.tv_in1k (same tensors, same names), or a whole
pickled model. Only the `features` tensors are kept (the classifier is not used).
"""
import sys

import torch
from safetensors.torch import save_file

# torchvision's vgg19().features: (index of each convolution, out channels, in channels)
CONVS = [(0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128), (10, 256, 128), (12, 256, 256),
         (14, 256, 256), (16, 256, 256), (19, 512, 256), (21, 512, 512), (23, 512, 512),
         (25, 512, 512), (28, 512, 512), (30, 512, 512), (32, 512, 512), (34, 512, 512)]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: convert_vgg19.py INPUT.pth OUTPUT.safetensors")
    source, target = sys.argv[1], sys.argv[2]
    with open(source, "rb") as f:
        if f.read(24).startswith(b"version https://git-lfs"):
            sys.exit(f"{source}: a git-lfs pointer, not the weights. HINT: run 'git lfs pull' or download the file again")
    loaded = torch.load(source, map_location="cpu", weights_only=False)
    state = loaded.state_dict() if hasattr(loaded, "state_dict") else loaded
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    out, problems = {}, []
    for index, out_channels, in_channels in CONVS:
        for suffix, shape in (("weight", (out_channels, in_channels, 3, 3)), ("bias", (out_channels,))):
            name = f"features.{index}.{suffix}"
            if name not in state:
                problems.append(f"missing {name}")
            elif tuple(state[name].shape) != shape:
                problems.append(f"{name} has shape {tuple(state[name].shape)}, expected {shape}")
            else:
                out[name] = state[name].detach().to(torch.float32).contiguous()
    if problems:
        sys.exit(f"{source}: not torchvision VGG19 weights: " + "; ".join(problems[:5])
                 + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
    save_file(out, target, metadata={"source": source.split("/")[-1], "network": "torchvision vgg19 features"})
    print(f"wrote {target}: {len(out)} tensors")


if __name__ == "__main__":
    main()

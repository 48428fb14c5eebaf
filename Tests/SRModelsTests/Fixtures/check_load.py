#!/usr/bin/env python3
"""The other direction of the name contract: a generator written by srgan-dist loads into the
PyTorch reference with load_state_dict(strict=True) and runs.

    mkdir -p /tmp/interop
    SRGAN_DIST_INTEROP_DIR=/tmp/interop swift test -c release --filter SafetensorsTests
    .venv-peer/bin/python Tests/SRModelsTests/Fixtures/check_load.py /tmp/interop/generator_from_swift.safetensors
"""
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import Generator  # noqa: E402

state = load_file(sys.argv[1])
model = Generator(channels=8, blocks=2, scale=4)
result = model.load_state_dict(state, strict=True)
model.eval()
out = model(torch.rand(1, 3, 6, 6))
print("loaded strictly:", result, "output", tuple(out.shape),
      "num_batches_tracked of body.0.bn1:", int(model.body[0].bn1.num_batches_tracked))

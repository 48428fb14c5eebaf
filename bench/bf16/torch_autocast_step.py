#!/usr/bin/env python3
"""bench/peers/srgan_step.py with each step under torch.autocast("cpu", dtype=torch.bfloat16):
PyTorch's own figure for a bf16 step on this CPU (the reference the bf16 kernels aim at). Same
arguments and JSON line as srgan_step.py, plus "autocast": "bf16".

    .venv-peer/bin/python bench/bf16/torch_autocast_step.py --phase srresnet --batch 16 --threads 2 --channels-last
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "peers"))
import srgan_step  # noqa: E402

plain_step = srgan_step.one_step


def autocast_step(*args, **kwargs):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        plain_step(*args, **kwargs)


srgan_step.one_step = autocast_step
real_dumps = json.dumps
json.dumps = lambda record, **kw: real_dumps({**record, "autocast": "bf16"}, **kw)
srgan_step.main()

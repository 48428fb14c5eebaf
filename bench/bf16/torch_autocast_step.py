#!/usr/bin/env python3
"""PyTorch's bf16 training step: now bench/peers/srgan_step.py --precision bf16, the peer
`srgan-bench compare --precision bf16` runs (this name stays for docs/architecture.md's
"bf16 products" figure). Up to commit 5f18bc3 this script wrapped the peer's whole step, forward,
backward and Adam, in torch.autocast; the peer runs the forward and loss under autocast and the
backward outside it, as PyTorch's autocast documentation recommends. Arguments go to the peer.

    .venv-peer/bin/python bench/bf16/torch_autocast_step.py --phase srresnet --batch 16 --threads 2 --channels-last
"""
import os
import sys

peer = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "peers", "srgan_step.py")
os.execv(sys.executable, [sys.executable, peer, *sys.argv[1:], "--precision", "bf16"])

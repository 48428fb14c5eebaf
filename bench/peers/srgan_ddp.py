#!/usr/bin/env python3
"""The PyTorch peer of `srgan-dist bench step` under `mpirun -n R`: DistributedDataParallel with
the gloo backend, R processes on this machine with 1 thread each, --batch images per rank, the
step of srgan_step.py. As in srgan-dist: gradients are averaged once per network per step (the
real half of D's batch under no_sync), D takes no weight gradient in the G step (its plain module
is used there), and batch-norm buffers are not synchronised at every forward. A step lasts
as long as its slowest rank. --precision bf16: forward passes and losses under bf16 autocast,
as in srgan_step.py. Rank 0 prints one JSON line with the same keys as srgan-dist's.

    .venv-peer/bin/python bench/peers/srgan_ddp.py --phase srresnet --batch 8 --ranks 2
"""
import argparse
import json
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

from srgan_step import (add_layout_arguments, build, layout_fields, median_after_first, memory_format, one_step, peak_rss_mb,
                        random_batch, timed)


def wrap(module):
    """DDP without a buffer broadcast at every forward (each rank keeps its own BN statistics)."""
    try:
        return DDP(module, forward_sync_buffers=False)  # the spelling of newer PyTorch
    except TypeError:
        return DDP(module, broadcast_buffers=False)


def rank_main(rank, args, port):
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=args.ranks)
    torch.manual_seed(rank)
    fmt = memory_format(args.channels_last)
    nets = build(args.phase, args.patch, fmt)
    nets["g"] = wrap(nets["g"])
    ddp = {}
    if args.phase == "gan":
        ddp = {"d_plain": nets["d"]}
        nets["d"] = wrap(nets["d"])
        ddp["d_real_no_sync"] = nets["d"].no_sync
    lr, hr = random_batch(args.batch, args.patch, fmt)
    rss_before, seconds = timed(args.steps, lambda: one_step(args.phase, nets, lr, hr, args.precision, **ddp))
    slowest = torch.tensor(seconds, dtype=torch.float64)
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    memory = torch.zeros(2 * args.ranks, dtype=torch.float64)
    memory[rank], memory[args.ranks + rank] = peak_rss_mb(), rss_before
    dist.all_reduce(memory)
    if rank == 0:
        slowest = slowest.tolist()
        peaks = memory[:args.ranks].tolist()
        print(json.dumps({
            "tool": "pytorch " + torch.__version__ + " DDP gloo",
            **layout_fields(args),
            "phase": args.phase, "batch": args.batch, "patch": args.patch, "threads": 1, "ranks": args.ranks,
            "step_seconds": [round(s, 3) for s in slowest],
            "samples_per_s": round(args.batch * args.ranks / median_after_first(slowest), 3),
            "rss_before_mb": round(max(memory[args.ranks:].tolist()), 1),
            "peak_rss_mb": round(max(peaks), 1),
            "peak_rss_mb_per_rank": [round(p, 1) for p in peaks],
        }), flush=True)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", choices=["srresnet", "gan"], default="srresnet")
    parser.add_argument("--batch", type=int, default=8, help="images per rank")
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--ranks", type=int, default=2)
    add_layout_arguments(parser)
    args = parser.parse_args()
    with socket.socket() as probe:  # a free port for the rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(rank_main, args=(args, port), nprocs=args.ranks, join=True)


if __name__ == "__main__":
    main()

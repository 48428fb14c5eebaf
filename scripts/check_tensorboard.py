#!/usr/bin/env python3
"""Reads a run's TensorBoard event files with TensorBoard's own reader and prints what it finds:
the check that srgan-dist writes files TensorBoard understands (CI does not need tensorboard).

    .venv-peer/bin/pip install tensorboard
    .venv-peer/bin/python scripts/check_tensorboard.py runs/demo-.../srresnet
"""
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

run = sys.argv[1]
events = EventAccumulator(run)
events.Reload()
tags = events.Tags()["scalars"]
if not tags:
    sys.exit(f"{run}: TensorBoard found no scalars")
for tag in sorted(tags):
    values = events.Scalars(tag)
    print(f"{tag}: {len(values)} points, steps {values[0].step}..{values[-1].step}, last {values[-1].value:.5g}")

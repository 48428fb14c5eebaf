#!/bin/sh
# Writes Tests/Fixtures/checkpoint-2026-12-01/: a complete checkpoint of a small GAN-phase run
# (generator, EMA generator, discriminator, both Adam states, per-rank batch-norm statistics),
# written by the srgan-dist of 2026-12-01 (commit 87e93b8, checkpoint format version 1).
# CLITests/OldCheckpointTests resumes from it, so checkpoints written before later changes keep
# loading. Run it only to record a new format; the folder it writes is committed as it is.
#   sh Tests/Fixtures/make-checkpoint-fixture.sh [PATH/TO/srgan-dist]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary=${1:-$repo/.build/release/srgan-dist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The same packing as the CLI tests (ResumeTests, OldCheckpointTests).
"$binary" pack --input "$repo/samples/photos" --output "$work/packed48" --patch-size 48 --stride 96 --val-images 2
# Smaller networks than the tiny preset's, so the fixture is about 2 MB.
cat > "$work/small.yaml" <<'YAML'
generator:
  channels: 16
  residual_blocks: 2
discriminator:
  base_channels: 8
  hidden: 64
YAML
"$binary" train --preset tiny --phase gan --config "$work/small.yaml" --data "$work/packed48" \
    --batch 2 --seed 11 --ema 0.9 --steps 2 --log-every 1 --validate-every 100 --run "$work/run"
rm -rf "$here/checkpoint-2026-12-01"
cp -r "$work/run/checkpoints/step-00000002" "$here/checkpoint-2026-12-01"
ls -l "$here/checkpoint-2026-12-01"

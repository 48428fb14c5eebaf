#!/usr/bin/env bash
# The main job end to end on the bundled sample photos: set up, pack (3 photos held out for
# validation), train the tiny preset under `mpirun -n 2` (SRResNet phase, then a short GAN phase
# started from it), and report validation PSNR/SSIM against bicubic on the held-out photos.
# Then it validates the final generator (PSNR/SSIM against bicubic, side-by-side images),
# upscales a held-out photo and writes an HTML report of each phase.
# About 6 minutes on 2 cores after the build. Everything goes to runs/demo-DATE/.
#
# The GAN phase uses the MSE content loss (the paper's SRGAN-MSE) unless VGG19 weights are in
# place: VGG19_WEIGHTS=path/to/vgg19.safetensors bash scripts/demo.sh  (docs/vgg19-weights.md)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bin=.build/release/srgan-dist
run="runs/demo-$(date +%Y%m%d-%H%M%S)"
ranks=2
mpi=(mpirun -n "$ranks" --oversubscribe)
if [ "$(id -u)" -eq 0 ]; then mpi+=(--allow-run-as-root); fi

echo "== pack the sample photos: 1024 random 48x48 crops per photo, 3 photos held out"
"$bin" pack --input samples/photos --output "$run/packed" --val-images 3 --random-crops 1024 --patch-size 48

echo "== train: SRResNet phase, tiny preset, $ranks ranks x batch 8"
"${mpi[@]}" "$bin" train --preset tiny --phase srresnet --data "$run/packed" --val "$run/packed" \
    --run "$run/srresnet" --batch 8 --log-every 300

gan_loss=(--content-loss mse)
if [ -n "${VGG19_WEIGHTS:-}" ]; then gan_loss=(--content-loss vgg54 --vgg-weights "$VGG19_WEIGHTS"); fi
echo "== train: GAN phase from the SRResNet (${gan_loss[*]})"
"${mpi[@]}" "$bin" train --preset tiny --phase gan --init "$run/srresnet" --data "$run/packed" --val "$run/packed" \
    --run "$run/gan" --batch 8 --log-every 50 "${gan_loss[@]}"

echo "== result (validation on the 3 held-out photos; PSNR/SSIM on Y with a 4-pixel border)"
for phase in srresnet gan; do
    # The last validation record of the phase's metrics.jsonl (no Python needed).
    last=$(grep '"kind": "validation"' "$run/$phase/metrics.jsonl" | tail -n 1)
    field() { printf '%s' "$last" | sed -E "s/.*\"$1\": ([^,}]*).*/\1/"; }
    printf '%8s: PSNR %s dB vs bicubic %s, SSIM %s vs %s at step %s\n' "$phase" \
        "$(field psnr)" "$(field psnr_bicubic)" "$(field ssim)" "$(field ssim_bicubic)" "$(field step)"
done
echo "== validate the GAN generator on the held-out photos (side-by-side images in $run/validate)"
"$bin" validate --checkpoint "$run/gan" --images "$run/packed" --save "$run/validate"

sample=$(ls "$run/packed/val/"*.png | head -n 1)
echo "== upscale a held-out photo x4: $sample"
"$bin" upscale --checkpoint "$run/gan" --input "$sample" --output "$run/upscaled.png"

echo "== reports"
"$bin" report "$run/srresnet"
"$bin" report "$run/gan"
echo "== outputs in $run: checkpoints/ and generator.safetensors per phase, samples/, metrics.jsonl, TensorBoard events,"
echo "   validate/ (side-by-side PNGs), upscaled.png, srresnet/report/index.html and gan/report/index.html"

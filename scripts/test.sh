#!/usr/bin/env bash
# Set-up plus every test: installs packages, builds in release mode, and runs the XCTest suites
# (unit tests on small shapes, PyTorch fixture comparisons, and command-line tests that run the
# release binary). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium driven by Selenium tests the serve page in a real browser (Debian's packages).
SETUP_EXTRA_PACKAGES="chromium chromium-driver python3-selenium" bash scripts/setup.sh
# One BLAS thread: tests measure correctness, and ranks of multi-rank tests share the cores.
export OPENBLAS_NUM_THREADS=1
swift build -c release --build-tests
# The test processes load OpenBLAS without srgan-dist's start-up check, so give them the core
# the binary chooses for this CPU (it prints "srgan-dist set OPENBLAS_CORETYPE=X" when OpenBLAS
# alone would pick a weaker one): the suites then run the kernels a user's run gets.
bin=.build/release/srgan-dist
"$bin" --version
core=$("$bin" --version | sed -n 's/.*srgan-dist set OPENBLAS_CORETYPE=\([A-Za-z0-9]*\);.*/\1/p')
if [ -n "$core" ] && [ -z "${OPENBLAS_CORETYPE:-}" ]; then export OPENBLAS_CORETYPE="$core"; fi
swift test -c release --skip-build --disable-swift-testing
# The numeric suites again on the narrower kernel paths this CPU also runs (each path's kernels
# against the references, and the networks against the PyTorch fixtures), and once with
# OpenBLAS's SSE3 kernels (another summation order: tolerances must not depend on one machine's).
numeric="SRCoreTests|SRModelsTests|StepTests|VariantStepTests|ParityTests"
for isa in avx2 baseline; do
    if SRGAN_DIST_ISA=$isa "$bin" --version >/dev/null 2>&1 && [ "$isa" != "$("$bin" --version | sed -n 's/^kernels: \([a-z0-9]*\).*/\1/p' | head -n 1)" ]; then
        echo "test: the numeric suites with SRGAN_DIST_ISA=$isa"
        SRGAN_DIST_ISA=$isa swift test -c release --skip-build --disable-swift-testing --filter "$numeric"
    fi
done
echo "test: the numeric suites with OPENBLAS_CORETYPE=Prescott"
OPENBLAS_CORETYPE=Prescott swift test -c release --skip-build --disable-swift-testing --filter "$numeric"

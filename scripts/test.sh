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
# The unit suites once more in a build instrumented by AddressSanitizer, in its own scratch path:
# a read or write of freed or out-of-bounds memory, or a double free, stops the run with ASan's
# report. In this build TensorMemory keeps no released buffers for reuse, so ASan sees every free.
# The end-to-end CLITests are left out (they run the release binary, tested above). Leak checking
# is off: swift-corelibs-xctest keeps a weak reference made in awaitUsingExpectation, and through
# it every test case object, until exit, so LeakSanitizer reports XCTest's whole test graph
# (checked 2026-12-02: all 56 reports lead back to it).
echo "test: the unit suites under AddressSanitizer"
swift build -c release --build-tests --sanitize=address --scratch-path .build-asan
ASAN_OPTIONS=detect_leaks=0 swift test -c release --skip-build --disable-swift-testing --sanitize=address \
    --scratch-path .build-asan --filter "SRCoreTests|SRModelsTests|SRDataTests|SRTrainTests|CEdgesTests"
# Coverage-guided fuzzing, a minute per target (docs/fuzzing.md): every parser of outside bytes
# under libFuzzer and AddressSanitizer, from the committed seeds; a crash or a failed harness
# property fails the run and leaves its input in .fuzz-work/findings/.
echo "test: fuzzing smoke runs"
bash scripts/fuzz.sh --seconds 60

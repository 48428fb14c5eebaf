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
swift test -c release --skip-build --disable-swift-testing

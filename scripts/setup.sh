#!/usr/bin/env bash
# Installs the system packages srgan-dist needs (Debian/Ubuntu, apt-get) and builds the release
# binary at .build/release/srgan-dist. Safe to run again: apt-get is skipped when every package
# is already installed (unless CI=true, where the lists are always refreshed first).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenmpi-dev openmpi-bin libopenblas-dev liblz4-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev libdeflate-dev pkg-config)
# scripts/test.sh adds what only the tests need (a real browser for the serve page).
read -r -a extra <<< "${SETUP_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${CI:-}" = "true" ] || [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${packages[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: error: no 'swift' on PATH. HINT: install a Swift 6 toolchain for Linux and put its usr/bin on PATH, then run this again." >&2
    exit 1
fi

echo "setup: building release binary ($(swift --version 2>&1 | head -n 1))"
swift build -c release
echo "setup: done: $(pwd)/.build/release/srgan-dist"

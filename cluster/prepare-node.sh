#!/usr/bin/env bash
# Prepares one node to run srgan-dist ranks: installs the Debian packages the binary links
# against, then builds the release binary here or copies a given one, installs it at one path
# (the same on every node: mpirun starts the ranks by path), and checks that it starts.
#
# Usage: cluster/prepare-node.sh [--binary PATH | --build [--static]] [options]
#
#   --binary PATH      copy this srgan-dist binary (built on another machine) instead of building
#   --build            build the release binary from this repository (the default without --binary;
#                      needs a Swift 6 toolchain on PATH)
#   --static           with --build: link the Swift runtime statically (--static-swift-stdlib), so
#                      the binary can be copied to nodes that have no Swift toolchain
#   --install-dir DIR  where the binary goes (default /usr/local/bin: srgan-dist is then on PATH)
#   --no-packages      skip apt-get (packages already installed, or no network)
#   -h, --help         this text
#
# Run it on every node (e.g. over ssh: ssh node02 'bash -s' -- --binary /shared/srgan-dist
# < cluster/prepare-node.sh), then cluster/check-versions.sh HOSTFILE to see that they agree.
set -euo pipefail
me=prepare-node.sh
# Run from a file, the repository is the folder above this script; fed to 'bash -s' over ssh, none.
script=${BASH_SOURCE[0]:-}
repo=""
if [ -n "$script" ] && [ -f "$script" ]; then repo=$(cd "$(dirname "$script")/.." && pwd); fi

usage() {
    if [ -n "$script" ] && [ -f "$script" ]; then
        sed -n '2,/^set -euo/p' "$script" | sed '$d' | sed 's/^# \{0,1\}//'
    else
        echo "usage: prepare-node.sh [--binary PATH | --build [--static]] [--install-dir DIR] [--no-packages] (the full text: cluster/prepare-node.sh --help)"
    fi
}
fail() { echo "$me: error: $1. HINT: $2" >&2; exit 2; }

packages=(libopenmpi-dev openmpi-bin libopenblas-dev liblz4-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev libdeflate-dev pkg-config)
binary="" build=0 static=0 install_dir=/usr/local/bin install_packages=1
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --binary) [ $# -ge 2 ] || fail "--binary needs a path" "e.g. --binary /shared/srgan-dist"; binary=$2; shift 2 ;;
        --build) build=1; shift ;;
        --static) static=1; shift ;;
        --install-dir) [ $# -ge 2 ] || fail "--install-dir needs a folder" "e.g. --install-dir /opt/srgan/bin"; install_dir=$2; shift 2 ;;
        --no-packages) install_packages=0; shift ;;
        *) fail "unknown option '$1'" "see $0 --help" ;;
    esac
done
[ -z "$binary" ] || [ "$build" -eq 0 ] || fail "--binary and --build exclude each other" "copy a binary or build one, not both"
[ -n "$binary" ] || build=1
[ "$static" -eq 0 ] || [ "$build" -eq 1 ] || fail "--static only applies to --build" "build the static binary once, then copy it with --binary"

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "not root and no sudo" "run as root, or install sudo"
    sudo="sudo"
fi

if [ "$install_packages" -eq 1 ]; then
    command -v apt-get >/dev/null 2>&1 || fail "no apt-get: this script knows Debian and Ubuntu only" \
        "install the equivalents of ${packages[*]} with your distribution's tools, then run with --no-packages"
    missing=()
    for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "$me: installing ${missing[*]}"
        $sudo apt-get update -q
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "$me: packages already installed: ${packages[*]}"
    fi
fi

if [ "$build" -eq 1 ]; then
    if [ -z "$repo" ] || [ ! -f "$repo/Package.swift" ]; then fail "--build needs the srgan-dist repository around this script" "clone it on the node, or build elsewhere and pass --binary"; fi
    command -v swift >/dev/null 2>&1 || fail "no 'swift' on PATH" "install a Swift 6 toolchain, or build on another machine with --static and pass --binary here"
    flags=(-c release)
    [ "$static" -eq 0 ] || flags+=(--static-swift-stdlib)
    echo "$me: building in $repo: swift build ${flags[*]}"
    (cd "$repo" && swift build "${flags[@]}")
    binary="$repo/.build/release/srgan-dist"
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then fail "$binary is not an executable file" "pass --binary the srgan-dist binary"; fi

$sudo mkdir -p "$install_dir"
target="$install_dir/srgan-dist"
if [ "$(readlink -f "$binary")" != "$(readlink -f "$target" 2>/dev/null || true)" ]; then
    # Copy then rename: a rank starting meanwhile sees the old binary or the new one, never half.
    $sudo cp "$binary" "$target.new.$$"
    $sudo chmod 755 "$target.new.$$"
    $sudo mv -f "$target.new.$$" "$target"
fi

missing_libraries=$(ldd "$target" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')
if [ -n "$missing_libraries" ]; then
    fail "$target cannot start here: missing shared libraries: $missing_libraries" \
        "libswift*: build with --build --static (or install the same Swift toolchain at the same path); others: install the packages (drop --no-packages)"
fi
"$target" --version >/dev/null || fail "$target --version failed" "see the message above"
echo "$me: installed $target ($("$target" --version), sha256 $(sha256sum "$target" | cut -c1-16)...)"
echo "$me: Open MPI $(mpirun --version 2>/dev/null | head -n 1 | awk '{print $NF}'), $(dpkg-query -W -f='${Package} ${Version}' libopenblas0-pthread 2>/dev/null || echo 'OpenBLAS: see dpkg -l | grep openblas')"

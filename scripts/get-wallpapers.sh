#!/usr/bin/env bash
# A larger real dataset for pack/stream benchmarks: Debian's wallpaper packages (photographs and
# artwork, JPEG and PNG, mostly 1920x1080 to 5120x2880). Installs them with apt-get (about 220 MB
# to download) and links every photo into one flat folder, so nothing is copied or committed.
#
#   scripts/get-wallpapers.sh [FOLDER]     (default: /tmp/srgan-wallpapers)
#
# Prints the folder, the number of JPEG and PNG files and their total size. Files smaller than
# 200 KB (thumbnails, screenshots of the packages' previews) are left out.
set -euo pipefail
folder=${1:-/tmp/srgan-wallpapers}
packages=(plasma-workspace-wallpapers gnome-backgrounds ukui-wallpapers mate-backgrounds lomiri-wallpapers-16.04 lomiri-wallpapers-20.04)

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "get-wallpapers: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

mkdir -p "$folder"
find "$folder" -maxdepth 1 -type l -delete
count=0
# Each package's files, largest variant of each picture only where a package ships several sizes
# (KDE: contents/images/WIDTHxHEIGHT.EXT; the largest is kept).
while IFS= read -r file; do
    case "${file,,}" in *.jpg|*.jpeg|*.png) ;; *) continue ;; esac
    [ -f "$file" ] || continue
    [ "$(stat -c %s "$file")" -ge 200000 ] || continue
    echo "$file"
done < <(dpkg -L "${packages[@]}" | sort -u) | awk '
    # KDE wallpapers: keep the largest WxH per picture folder.
    match($0, /\/contents\/images\/[0-9]+x[0-9]+\./) {
        dir = substr($0, 1, RSTART); split(substr($0, RSTART + 17), wh, /[x.]/)
        pixels = wh[1] * wh[2]
        if (pixels > best[dir]) { best[dir] = pixels; pick[dir] = $0 }
        next
    }
    { print }
    END { for (d in pick) print pick[d] }' | sort > "$folder/.list"
while IFS= read -r file; do
    # A flat, unique name: package path with slashes turned into dashes.
    name=$(echo "${file#/usr/share/}" | tr '/ ' '--')
    ln -sf "$file" "$folder/$name"
    count=$((count + 1))
done < "$folder/.list"
jpegs=$(grep -ciE '\.jpe?g$' "$folder/.list" || true)
pngs=$(grep -ciE '\.png$' "$folder/.list" || true)
bytes=$(xargs -d '\n' stat -c %s < "$folder/.list" | awk '{s += $1} END {print s}')
echo "get-wallpapers: $count photos ($jpegs JPEG, $pngs PNG, $(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1e6}') MB) in $folder"

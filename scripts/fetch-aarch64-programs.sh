#!/usr/bin/env bash
# Unpack Debian's arm64 nc.openbsd and curl, with every library they need, into a sysroot
# for qemu-aarch64: scripts/fetch-aarch64-programs.sh [DIR] (default build/aarch64-root).
# No binfmt: the conformance leg runs `qemu-aarch64 -L DIR -E LD_PRELOAD=... DIR/bin/...`.
set -euo pipefail
root=$(realpath -m "${1:-build/aarch64-root}")
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
fi
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
packages=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances --no-pre-depends \
  netcat-openbsd:arm64 curl:arm64 | grep -v '^ ' | grep ':arm64$' | sort -u)
(cd "$debs" && apt-get download -qq $packages 2>/dev/null)
mkdir -p "$root"
for deb in "$debs"/*.deb; do
  dpkg -x "$deb" "$root"
done
echo "$root"

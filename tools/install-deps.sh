#!/usr/bin/env bash
# Installs the Debian 12 packages librats builds, tests and benchmarks with. Idempotent: does
# nothing when everything is present. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git meson
  libasio-dev nlohmann-json3-dev libbotan-2-dev
  googletest libgtest-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev
  iproute2 python3 python3-dissononce python3-libtorrent python3-zeroconf coturn iptables
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# The main job: builds the demo and runs it: nodes on this machine find each other through a
# private DHT (and, as root, by mDNS inside a network namespace of their own) and exchange
# encrypted messages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target librats_demo
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null; then
  bash tools/in_netns.sh ./build/examples/librats_demo --mdns "$@"
else
  echo "(not root: the demo runs without mDNS, which it keeps inside a network namespace)"
  ./build/examples/librats_demo "$@"
fi

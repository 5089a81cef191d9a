#!/usr/bin/env bash
# The main job: builds the demo and runs it (nodes on this machine connect and exchange messages).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target librats_demo
./build/examples/librats_demo "$@"

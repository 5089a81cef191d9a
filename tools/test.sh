#!/usr/bin/env bash
# The whole test suite: the single header's freshness, the plain build, the consumer projects,
# the suite against the single header, then ASan+UBSan (with the fuzz smoke: each libFuzzer target
# replays its corpus and fuzzes for 5 s) and TSan builds (clang-14), each run with ctest.
# Usage: bash tools/test.sh [plain|consumers|single|asan|tsan ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
python3 tools/amalgamate.py --check

jobs=$(nproc)
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(plain consumers single asan tsan)

run_config() {
  local name=$1 dir=build-$1
  shift
  echo "=== $name ==="
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 300
}

for config in "${configs[@]}"; do
  case $config in
    plain) run_config plain -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIBRATS_REQUIRE_INTEROP=ON ;;
    consumers) echo "=== consumers ==="; bash tools/consumer-tests.sh ;;
    single)
      run_config single -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIBRATS_SINGLE_HEADER=ON \
        -DLIBRATS_BUILD_BENCH=OFF -DLIBRATS_BUILD_EXAMPLES=OFF ;;
    asan)
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
      run_config asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
        -DLIBRATS_BUILD_BENCH=OFF -DLIBRATS_BUILD_EXAMPLES=OFF -DLIBRATS_BUILD_FUZZERS=ON \
        "-DCMAKE_CXX_FLAGS=-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" ;;
    tsan)
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
      run_config tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
        -DLIBRATS_BUILD_BENCH=OFF -DLIBRATS_BUILD_EXAMPLES=OFF \
        "-DCMAKE_CXX_FLAGS=-O1 -fsanitize=thread" ;;
    *) echo "unknown configuration: $config" >&2; exit 2 ;;
  esac
done
echo "all test configurations passed: ${configs[*]}"

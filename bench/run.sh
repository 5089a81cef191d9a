#!/usr/bin/env bash
# Builds the benchmarks in Release and runs both:
#
#   bench/run.sh [extra librats_bench flags, e.g. --benchmark_filter=rtt]
#
# Environment: LIBRATS_BENCH_BUILD_DIR (default: <repo>/build-bench), LIBRATS_BENCH_PIN=1 to pin
# the sending side to CPU 0 and the receiving side to CPU 1.
# Without arguments it also runs the round-trip benchmarks pinned to one CPU (see below).
# Exit status: non-zero if the build fails, a benchmark reports an error, or librats_memory fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LIBRATS_BENCH_BUILD_DIR:-$root/build-bench}"

configure=(-S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLIBRATS_BUILD_BENCH=ON
           -DLIBRATS_BUILD_TESTS=OFF -DLIBRATS_BUILD_EXAMPLES=OFF)
# A generator can only be chosen for a new build directory.
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
  configure+=(-G Ninja)
fi
cmake "${configure[@]}" >/dev/null
cmake --build "$build" --target librats_bench librats_memory >/dev/null

echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD -- include 2>/dev/null || echo ' (include/ modified)')"
echo "cpus: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "compiler: $(${CXX:-c++} --version | head -n1)"

status=0
echo
echo "== librats_bench"
bench_out="$(mktemp)"
trap 'rm -f "$bench_out"' EXIT
"$build/bench/librats_bench" "$@" 2>&1 | tee "$bench_out" || status=1
if grep -q "ERROR OCCURRED" "$bench_out"; then
  echo "run.sh: a benchmark reported an error" >&2
  status=1
fi

# Round trips across two CPUs of a VM are dominated by the cost of waking the other CPU and vary
# several-fold from run to run; on one CPU they measure the software path alone, stably.
if [[ $# -eq 0 ]] && command -v taskset >/dev/null; then
  echo
  echo "== librats_bench, round trips on one CPU (taskset -c 0)"
  taskset -c 0 "$build/bench/librats_bench" --benchmark_filter=rtt 2>&1 | tee "$bench_out" || status=1
  if grep -q "ERROR OCCURRED" "$bench_out"; then
    echo "run.sh: a benchmark reported an error" >&2
    status=1
  fi
fi

echo
echo "== librats_memory"
"$build/bench/librats_memory" || status=1

exit "$status"

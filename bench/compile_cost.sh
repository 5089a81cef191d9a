#!/usr/bin/env bash
# Compile cost and binary size (issue: the single header must compile in seconds).
#   bash bench/compile_cost.sh     prints median wall-clock compile times of three runs at -O2
# and the stripped sizes of the chat example and of a minimal composition.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cxx="${CXX:-g++}"
flags=(-std=c++17 -O2 -DASIO_STANDALONE -DASIO_NO_DEPRECATED -pthread)

python3 "$root/tools/amalgamate.py" --check

# Median of three compile-and-link times (no ccache: the compiler itself is measured).
time_compile() {
  local out=$1; shift
  local times=()
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    "$cxx" "${flags[@]}" "$@" -o "$out" || { echo "compile failed: $*" >&2; exit 1; }
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

botan_cflags=$(pkg-config --cflags botan-2)
botan_libs=$(pkg-config --libs botan-2)
single=$(time_compile "$work/default_node" -I"$root/single_include" $botan_cflags "$root/bench/compile/default_node.cpp" \
         $botan_libs)
deps=$(time_compile "$work/deps" $botan_cflags "$root/bench/compile/dependencies_only.cpp" $botan_libs)
minimal=$(time_compile "$work/minimal_deps" $botan_cflags "$root/bench/compile/dependencies_minimal.cpp" $botan_libs)
printf 'compile_single_header_default_node_s: %.2f\n' "$single"
printf 'compile_dependencies_only_s: %.2f\n' "$deps"
printf 'compile_ratio: %.2f (target <= 2.0)\n' "$(echo "$single / $deps" | bc -l)"
printf 'compile_dependencies_minimal_use_s: %.2f\n' "$minimal"
printf 'compile_ratio_vs_minimal_use: %.2f\n' "$(echo "$single / $minimal" | bc -l)"

"$cxx" "${flags[@]}" -I"$root/include" "$root/bench/compile/minimal_node.cpp" -o "$work/minimal"
"$cxx" "${flags[@]}" -I"$root/single_include" $botan_cflags "$root/examples/chat/chat.cpp" -o "$work/chat" $botan_libs
strip "$work/minimal" "$work/chat"
printf 'stripped_minimal_node_bytes: %d\n' "$(stat -c %s "$work/minimal")"
printf 'stripped_chat_example_bytes: %d\n' "$(stat -c %s "$work/chat")"
"$work/minimal" && echo "minimal_node_run: ok"

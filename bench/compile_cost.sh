#!/usr/bin/env bash
# Compile cost and binary size (issue: the single header must compile in seconds).
#   bash bench/compile_cost.sh     prints median compile times (CPU and wall) of three runs at -O2
# and the stripped sizes of the chat example and of a minimal composition.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cxx="${CXX:-g++}"
flags=(-std=c++17 -O2 -DASIO_STANDALONE -DASIO_NO_DEPRECATED -pthread)

python3 "$root/tools/amalgamate.py" --check

# Median of three compile-and-link runs (no ccache: the compiler itself is measured), as
# "<wall seconds> <CPU seconds>". CPU time (user + system, the compiler's children included) is
# the steadier figure on a shared machine; the ratios use it.
time_compile() {
  local out=$1; shift
  local walls=() cpus=()
  for _ in 1 2 3; do
    local measured
    measured=$( { /usr/bin/time -f '%e %U %S' "$cxx" "${flags[@]}" "$@" -o "$out" 2>&1 >/dev/null; } | tail -1) \
      || { echo "compile failed: $*" >&2; exit 1; }
    read -r wall user sys <<<"$measured"
    walls+=("$wall")
    cpus+=("$(echo "$user + $sys" | bc)")
  done
  echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 2p) $(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 2p)"
}

botan_cflags=$(pkg-config --cflags botan-2)
botan_libs=$(pkg-config --libs botan-2)
read -r single_wall single < <(time_compile "$work/default_node" -I"$root/single_include" $botan_cflags \
  "$root/bench/compile/default_node.cpp" $botan_libs)
read -r deps_wall deps < <(time_compile "$work/deps" $botan_cflags "$root/bench/compile/dependencies_only.cpp" $botan_libs)
read -r minimal_wall minimal < <(time_compile "$work/minimal_deps" $botan_cflags \
  "$root/bench/compile/dependencies_minimal.cpp" $botan_libs)
printf 'compile_single_header_default_node: cpu %.2f s, wall %.2f s\n' "$single" "$single_wall"
printf 'compile_dependencies_only: cpu %.2f s, wall %.2f s\n' "$deps" "$deps_wall"
printf 'compile_ratio: %.2f (cpu; target <= 2.0)\n' "$(echo "$single / $deps" | bc -l)"
printf 'compile_dependencies_minimal_use: cpu %.2f s, wall %.2f s\n' "$minimal" "$minimal_wall"
printf 'compile_ratio_vs_minimal_use: %.2f (cpu)\n' "$(echo "$single / $minimal" | bc -l)"

"$cxx" "${flags[@]}" -I"$root/include" "$root/bench/compile/minimal_node.cpp" -o "$work/minimal"
"$cxx" "${flags[@]}" -I"$root/single_include" $botan_cflags "$root/examples/chat/chat.cpp" -o "$work/chat" $botan_libs
strip "$work/minimal" "$work/chat"
printf 'stripped_minimal_node_bytes: %d\n' "$(stat -c %s "$work/minimal")"
printf 'stripped_chat_example_bytes: %d\n' "$(stat -c %s "$work/chat")"
"$work/minimal" && echo "minimal_node_run: ok"

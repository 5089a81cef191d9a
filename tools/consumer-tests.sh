#!/usr/bin/env bash
# Consumer tests: builds tests/consumers/main.cpp (two nodes on 127.0.0.1, one JSON message) the
# five ways a user can take librats, each in a fresh temporary directory:
#   find_package      an install of this repo (cmake --install), find_package(librats CONFIG)
#   add_subdirectory  this repo as a CMake subdirectory
#   single_header     single_include/librats/librats.hpp alone, g++ -std=c++17 ... -pthread + Botan
#   pkg_config        g++ main.cpp $(pkg-config --cflags --libs librats) against the install
#   meson_subproject  this repo as subprojects/librats of a meson project
# Prints `consumer <name>: ok|FAILED` per case (then the failing log's tail) and `N passed, M
# failed`; exits 1 on any failure. Needs the Debian packages of tools/install-deps.sh plus meson.
# Usage: bash tools/consumer-tests.sh [case ...]   (default: all five)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
consumers=$root/tests/consumers

work=$(mktemp -d "${TMPDIR:-/tmp}/librats-consumers.XXXXXX")
trap 'rm -rf "$work"' EXIT

cxx=${CXX:-g++}
jobs=2                 # at most two compile jobs at a time
step_timeout=600       # any configure/build/install step
run_timeout=60         # the consumer program (its own deadline is 15 s)

cmake_args=()
command -v ninja >/dev/null && cmake_args+=(-G Ninja)
command -v ccache >/dev/null && cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake_args+=("-DCMAKE_CXX_COMPILER=$cxx")

step() { timeout "$step_timeout" "$@"; }
run_consumer() { timeout "$run_timeout" "$1"; }

# A fresh project directory: the case's files (if any) plus the shared main.cpp.
new_project() {
  local dir=$work/$1/src
  mkdir -p "$dir"
  [ -d "$consumers/$1" ] && cp -R "$consumers/$1/." "$dir/"
  cp "$consumers/main.cpp" "$dir/"
  echo "$dir"
}

# The install prefix shared by find_package and pkg_config, made once on first use.
prefix=$work/prefix
prefix_state=none
install_prefix() {
  case $prefix_state in
    ok) return 0 ;;
    failed) echo "the install of librats failed earlier (see that case's log)"; return 1 ;;
  esac
  prefix_state=failed
  step cmake -S "$root" -B "$work/install-build" "${cmake_args[@]}" -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DLIBRATS_BUILD_TESTS=OFF -DLIBRATS_BUILD_BENCH=OFF -DLIBRATS_BUILD_EXAMPLES=OFF || return 1
  step cmake --build "$work/install-build" -j "$jobs" || return 1
  step cmake --install "$work/install-build" || return 1
  # The install must stand alone: nothing in it may point back into the source tree.
  if grep -rl -- "$root" "$prefix"; then
    echo "the install refers to the source tree $root"
    return 1
  fi
  prefix_state=ok
}

case_find_package() {
  install_prefix || return 1
  local src
  src=$(new_project find_package)
  step cmake -S "$src" -B "$src/../build" "${cmake_args[@]}" -DCMAKE_PREFIX_PATH="$prefix" || return 1
  step cmake --build "$src/../build" -j "$jobs" || return 1
  run_consumer "$src/../build/consumer"
}

case_add_subdirectory() {
  local src
  src=$(new_project add_subdirectory)
  step cmake -S "$src" -B "$src/../build" "${cmake_args[@]}" -DLIBRATS_SOURCE_DIR="$root" || return 1
  # As a subproject librats adds no install rules (LIBRATS_INSTALL defaults to OFF there).
  if grep -q librats-config "$src/../build/librats/cmake_install.cmake" 2>/dev/null; then
    echo "librats added install rules to the parent project"
    return 1
  fi
  step cmake --build "$src/../build" -j "$jobs" || return 1
  run_consumer "$src/../build/consumer"
}

case_single_header() {
  local src
  src=$(new_project single_header)
  mkdir -p "$src/librats"
  cp "$root/single_include/librats/librats.hpp" "$src/librats/"
  # The plain command plus asio's standalone defines and Botan 2 (Noise) from pkg-config.
  (cd "$src" && step "$cxx" -std=c++17 -I. -DASIO_STANDALONE -DASIO_NO_DEPRECATED $(pkg-config --cflags botan-2) \
     main.cpp -pthread $(pkg-config --libs botan-2) -o consumer) || return 1
  run_consumer "$src/consumer"
}

case_pkg_config() {
  install_prefix || return 1
  local src flags
  src=$(new_project pkg_config)
  flags=$(PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --cflags --libs librats) || return 1
  echo "pkg-config --cflags --libs librats: $flags"
  case $flags in
    *"$prefix"/*) ;;
    *) echo "pkg-config did not point into the install prefix"; return 1 ;;
  esac
  # shellcheck disable=SC2086  # $flags is a list of words
  (cd "$src" && step "$cxx" -std=c++17 main.cpp $flags -o consumer) || return 1
  run_consumer "$src/consumer"
}

case_meson_subproject() {
  command -v meson >/dev/null || { echo "meson is not installed (apt-get install meson)"; return 1; }
  local src
  src=$(new_project meson_subproject)
  mkdir -p "$src/subprojects"
  ln -s "$root" "$src/subprojects/librats"
  # meson picks up ccache by itself when it is installed.
  CXX=$cxx step meson setup "$src/../build" "$src" || return 1
  step meson compile -C "$src/../build" -j "$jobs" || return 1
  run_consumer "$src/../build/consumer"
}

all_cases=(find_package add_subdirectory single_header pkg_config meson_subproject)
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=("${all_cases[@]}")

passed=0
failed=0
for name in "${cases[@]}"; do
  if ! declare -F "case_$name" >/dev/null; then
    echo "unknown case: $name (cases: ${all_cases[*]})" >&2
    exit 2
  fi
  log=$work/$name.log
  "case_$name" >"$log" 2>&1
  status=$?
  if [ "$status" -eq 0 ]; then
    echo "consumer $name: ok"
    passed=$((passed + 1))
  else
    echo "consumer $name: FAILED"
    [ "$status" -eq 124 ] && echo "timed out" >>"$log"
    echo "exit status $status" >>"$log"
    tail -n 40 "$log" | sed 's/^/    | /'
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

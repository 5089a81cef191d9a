#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz/ with clang-14 (ASan + UBSan + libFuzzer).
#
#   bash tools/fuzz.sh smoke [seconds]   build, then each target for N seconds (default 5) from its
#                                        seed corpus; CI mode: fails on any crash
#   bash tools/fuzz.sh long [runs]       build, then each target for N executions (default
#                                        10000000), one after another, capped at FUZZ_MAX_TIME
#                                        seconds per target (default 480)
#   bash tools/fuzz.sh regress           build, then replay every seed corpus once (-runs=0)
#   bash tools/fuzz.sh build             configure and build only
#
# Environment: FUZZ_TARGETS="fuzz_dns fuzz_stun" limits the targets; BUILD_DIR (default
# build-fuzz); CXX (default clang++-14); FUZZ_MAX_TIME (long mode's cap per target, seconds).
# One fuzzer process at a time, -workers=1 -jobs=1. Seeds in tests/fuzz/corpus/<target> are only
# read; what the fuzzer finds goes to $BUILD_DIR/corpus-<mode>/<target>, crashes to
# $BUILD_DIR/artifacts/<target>-crash-*. Prints per target: executions, exec/s, time, cov, ft,
# corpus size, crash files. Exit status 1 if any target crashed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=${1:-smoke}
build=${BUILD_DIR:-$repo/build-fuzz}
[[ $build = /* ]] || build=$repo/$build
cxx=${CXX:-clang++-14}
all_targets="fuzz_frame fuzz_handshake fuzz_json_envelope fuzz_noise fuzz_bencode fuzz_krpc fuzz_dht_engine fuzz_dns fuzz_mdns_engine fuzz_stun fuzz_persistence"
targets=${FUZZ_TARGETS:-$all_targets}

# -max_len per target (tests/fuzz/CMakeLists.txt has the same).
max_len() {
    case $1 in
    fuzz_handshake | fuzz_krpc) echo 8192 ;;
    fuzz_frame | fuzz_noise | fuzz_stun) echo 65600 ;;
    *) echo 65536 ;;
    esac
}

build_all() {
    if [[ ! -f $build/build.ninja ]]; then
        cmake -S "$repo/tests/fuzz/standalone" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
            -DLIBRATS_BUILD_FUZZERS=ON >/dev/null
    fi
    # shellcheck disable=SC2086
    cmake --build "$build" --parallel 2 --target $targets
}

# run <target> <label> <libFuzzer args...>: one fuzzer, then its figures.
failed=0
run() {
    local t=$1 label=$2
    shift 2
    local exe=$build/fuzz/$t seeds=$repo/tests/fuzz/corpus/$t work=$build/corpus-$label/$t
    local log=$build/logs/$t-$label.log
    mkdir -p "$work" "$build/artifacts" "$build/logs"
    local dict=()
    [[ -f $repo/tests/fuzz/$t.dict ]] && dict=(-dict="$repo/tests/fuzz/$t.dict")
    local start end rc=0
    start=$(date +%s.%N)
    # With -jobs=1 libFuzzer fuzzes in a child whose log, fuzz-0.log, lands in the current
    # directory (and is copied into ours when the job ends): keep it in the build tree.
    mkdir -p "$build/jobs/$t"
    (cd "$build/jobs/$t" && exec "$exe" -workers=1 -jobs=1 -rss_limit_mb=2048 -max_len="$(max_len "$t")" -timeout=25 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "${dict[@]}" "$@" "$work" "$seeds") >"$log" 2>&1 || rc=$?
    end=$(date +%s.%N)
    local execs eps last cov ft corp crashes
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    crashes=$(grep -oE "(Test unit written to|artifact_prefix.*Test unit written to) [^ ]+" "$log" | awk '{print $NF}' | tr '\n' ' ' || true)
    printf '%-20s %-6s rc=%-3s execs=%-10s exec/s=%-8s time=%6.1fs cov=%-6s ft=%-6s corpus=%-14s files=%s %s\n' \
        "$t" "$label" "$rc" "${execs:-?}" "${eps:-?}" "$(echo "$end - $start" | bc)" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "$(find "$work" -type f | wc -l)" "${crashes:+CRASH: $crashes}"
    if [[ $rc -ne 0 ]]; then
        failed=1
        grep -E "ERROR: |runtime error|invariant failed|SUMMARY" "$log" | head -5 | sed 's/^/    /'
        echo "    log: $log"
    fi
}

case $mode in
build) build_all ;;
smoke)
    secs=${2:-5}
    build_all
    for t in $targets; do run "$t" smoke -max_total_time="$secs"; done
    ;;
long)
    runs=${2:-10000000}
    build_all
    for t in $targets; do run "$t" long -runs="$runs" -max_total_time="${FUZZ_MAX_TIME:-480}"; done
    ;;
regress)
    build_all
    for t in $targets; do run "$t" regress -runs=0; done
    ;;
*)
    echo "usage: $0 smoke [seconds] | long [runs] | regress | build" >&2
    exit 2
    ;;
esac
exit $failed

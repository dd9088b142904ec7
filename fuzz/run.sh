#!/usr/bin/env bash
# Build the libFuzzer targets with clang in build-fuzz/ and run them:
#   fuzz/run.sh [SECONDS [TARGET...]]
# SECONDS is the whole run, split evenly across the targets (at least 1 s
# each; default 30 s per target), so that `fuzz/run.sh 20` in the test
# command stays 20 s however many targets there are; name targets to give
# one of them all the time. The targets: fuzz_clone_args (clone3() argument
# checks), fuzz_spawn_builders (spawn attributes and file actions),
# fuzz_cli_args (tether(1)'s command-line parser).
# Each target keeps its corpus in build-fuzz/corpus/<target>/ (it grows from
# run to run), writes crashing inputs to build-fuzz/crashes/<target>/ and its
# output to build-fuzz/<target>.log. Exit status: 0 if no target crashed in
# this run, 1 if one did, 2 for a usage or build error.
# A crash replays with: build-fuzz/fuzz/<target> <crash file>
set -euo pipefail

die() { echo "fuzz/run.sh: $*" >&2; exit 2; }

all=(fuzz_clone_args fuzz_spawn_builders fuzz_cli_args)
secs=${1:-$((30 * ${#all[@]}))}
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "usage: fuzz/run.sh [SECONDS [TARGET...]]"
shift $(($# > 0 ? 1 : 0))
targets=("${@:-${all[@]}}")
for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $t "* ]] || die "unknown target '$t' (${all[*]})"
done
per=$((secs / ${#targets[@]}))
((per > 0)) || per=1
root=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=build-fuzz

command -v clang >/dev/null || die "clang is needed"
if [[ ! -f $build/build.ninja ]]; then
    CC=clang meson setup "$build" -Dfuzz=true -Dstatic_tests=false -Db_lundef=false >"$build.setup.log" 2>&1 ||
        { cat "$build.setup.log" >&2; die "meson setup failed"; }
    mv "$build.setup.log" "$build/setup.log"
fi
grep -q 'C compiler for the host machine: clang' "$build/meson-logs/meson-log.txt" 2>/dev/null ||
    die "$build was not set up with clang; remove it and run again"
meson configure "$build" -Dfuzz=true >/dev/null || die "meson configure failed"
ninja -C "$build" "${targets[@]/#/fuzz/}" >/dev/null || die "building the fuzz targets failed"

status=0
for t in "${targets[@]}"; do
    corpus=$build/corpus/$t crashes=$build/crashes/$t log=$build/$t.log
    mkdir -p "$corpus" "$crashes"
    touch "$build/.start-$t" # crashes of earlier runs stay, but count no more
    echo "fuzz/run.sh: $t for $per s (corpus $corpus)"
    rc=0
    "$build/fuzz/$t" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1 || rc=$?
    found=$(find "$crashes" -type f -newer "$build/.start-$t" | wc -l)
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done )' "$log" | sed 's/^/  /' || true
    if [[ $rc -ne 0 || $found -gt 0 ]]; then
        echo "fuzz/run.sh: $t FAILED (exit status $rc, $found input(s) in $crashes); see $log" >&2
        grep -E 'broken promise|ERROR: |SUMMARY: ' "$log" | head -5 >&2 || true
        status=1
    else
        echo "  $t: no crash; corpus $(find "$corpus" -type f | wc -l) inputs"
    fi
done
exit $status

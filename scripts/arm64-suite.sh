#!/usr/bin/env bash
# The conformance tests on arm64: cross-built (vm/cross/aarch64-linux-gnu.ini)
# and run in qemu-system-aarch64 (TCG) on Debian's cloud-arm64 kernels, both
# backends, one VM at a time.
#
#   scripts/arm64-suite.sh [--full] [--kernels "6.1 7.3"] [--timeout SEC]
#
# By default only the reduced set of vm/arm64-reduced.list: the tests that go
# through the architecture-specific code (that file says which and why),
# about two minutes of VM time on two CPUs (plus about as long for a cross
# build from scratch). --full runs every test (7 to 12 minutes of VM time).
# Logs and tables go to build-arm64/vm-reduced or build-arm64/vm-full; the
# last line is "N passed, N failed, N skipped"; the exit status is 0 only if
# nothing failed.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

full=0 kernels="6.1 7.3" timeout=240
while [[ $# -gt 0 ]]; do
    case $1 in
        --full) full=1; shift ;;
        --kernels) kernels=${2:?--kernels needs a list}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        -h | --help) awk 'NR >= 2 && NR <= 14 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "arm64-suite: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

start=$SECONDS
# Whatever goes wrong before the matrix has printed its own summary still
# ends with one summary line.
summary_printed=0
on_exit() {
    local rc=$?
    if [[ $summary_printed -eq 0 ]]; then
        echo "arm64-suite: failed before the tests ran (exit status $rc)" >&2
        echo "0 passed, 1 failed, 0 skipped"
    fi
}
trap on_exit EXIT
say() { echo "arm64-suite: $*" >&2; }

scripts/ensure-deps.sh --arm64
[[ -f build-arm64/build.ninja ]] ||
    meson setup build-arm64 --cross-file vm/cross/aarch64-linux-gnu.ini >/dev/null
ninja --quiet -C build-arm64

# The tests to run, staged stripped in a directory of their own (the VM
# runs every t_* of the directory it is given), with the helpers beside
# them: every boot unpacks the initramfs on an emulated CPU, and debug
# information would make it twice as large.
list=vm/arm64-reduced.list
if [[ $full -eq 1 ]]; then
    tests=build-arm64/test-full out=build-arm64/vm-full
    mapfile -t names < <(cd build-arm64/test && for f in t_*; do [[ -f $f && -x $f ]] && echo "$f"; done)
else
    tests=build-arm64/test-reduced out=build-arm64/vm-reduced
    mapfile -t names < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | awk '{ print $1 }')
fi
rm -rf "$tests"
mkdir -p "$tests"
for t in "${names[@]}"; do
    [[ -x build-arm64/test/$t && -f build-arm64/test/$t ]] ||
        { say "$list names $t, which build-arm64/test does not have"; exit 1; }
    aarch64-linux-gnu-strip -o "$tests/$t" "build-arm64/test/$t"
done
for h in build-arm64/test/h_*; do
    if [[ -f $h ]]; then # not meson's h_*.p object directories
        aarch64-linux-gnu-strip -o "$tests/${h##*/}" "$h"
    fi
done
say "${#names[@]} tests$([[ $full -eq 1 ]] || echo " of $list")"

# Progress goes to stderr as it happens; the table (stdout) comes at the
# end, with the wall-clock time above its summary line.
rc=0
OUT=$out vm/run-matrix.sh --arch arm64 --tests "$tests" --runner build-arm64/test/runner \
    --kernels "$kernels" --jobs 1 --timeout "$timeout" --wall 3600 >"$out.out" || rc=$?
last=$(tail -n 1 "$out.out")
if [[ $last =~ ^[0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]]; then
    head -n -1 "$out.out"
    echo "arm64 wall-clock time: $((SECONDS - start)) s (build, boots and tests)"
    summary_printed=1
    echo "$last"
    exit "$rc"
fi
cat "$out.out"
say "the matrix printed no summary (exit status $rc; see $out.out)"
exit 1

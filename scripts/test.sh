#!/usr/bin/env bash
# The whole test suite: build, run the conformance tests on the host (plain,
# under AddressSanitizer+UndefinedBehaviorSanitizer and under valgrind's
# memcheck) and on real Debian kernels in QEMU, and print one summary line
# "N passed, N failed, N skipped".
#
# The QEMU matrix is the longest part and mostly waits on emulated CPUs: it
# starts first, in the background, and the host parts run meanwhile (no test
# has a timed assertion; timeouts only catch hangs). Its table comes last.
#
# arm64 runs too: the tests that go through the architecture-specific code
# (vm/arm64-reduced.list), cross-built, on Debian's cloud-arm64 kernels 6.1
# and 7.3 in qemu-system-aarch64, both backends, in the background beside the
# x86-64 matrix (scripts/arm64-suite.sh --full runs every test there).
#
# The Debian packages are built in a clean bookworm root, checked with
# lintian and installed into another (scripts/build-deb.sh; --no-deb leaves
# them out).
#
#   scripts/test.sh [--no-vm] [--no-arm64] [--no-deb] [--kernels "5.10 6.1 6.12 7.0 7.1 7.2 7.3"]
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

vm=1 arm64=1 deb=1 kernels="5.10 6.1 6.12 7.0 7.1 7.2 7.3"
while [[ $# -gt 0 ]]; do
    case $1 in
        --no-vm) vm=0; shift ;;
        --no-arm64) arm64=0; shift ;;
        --no-deb) deb=0; shift ;;
        --kernels) kernels=${2:?--kernels needs a list}; shift 2 ;;
        *) echo "test.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

if [[ $vm -eq 1 && $arm64 -eq 1 ]]; then
    scripts/ensure-deps.sh --arm64
else
    scripts/ensure-deps.sh
fi

# A part's header, with the minutes and seconds since the start (where the
# time goes, also in CI's log).
section() { # title
    printf '== [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$1"
}

setup() { # dir, meson options...
    local dir=$1; shift
    [[ -f $dir/build.ninja ]] || meson setup "$dir" "$@" >/dev/null
}
setup build
ninja --quiet -C build

vm_out=build/matrix-vm.out vm_pid=
if [[ $vm -eq 1 && -n $kernels ]]; then
    section "kernel matrix ($kernels): started in the background, its table comes last"
    OUT=build/vm vm/run-matrix.sh --tests build/test --runner build/test/runner --kernels "$kernels" \
        >"$vm_out" 2>&1 &
    vm_pid=$!
fi

# The matrix needs build/ only: the sanitizer build is made while it runs.
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dstatic_tests=false
ninja --quiet -C build-asan

# The arm64 run (its own cross build first) goes in the background too.
arm64_out=build/arm64-suite.out arm64_pid=
if [[ $vm -eq 1 && $arm64 -eq 1 ]]; then
    section "arm64 in QEMU (6.1 7.3, the reduced set): started in the background, its table comes last"
    scripts/arm64-suite.sh >"$arm64_out" 2>&1 &
    arm64_pid=$!
fi

# The Debian packages too: mostly a build and lintian in roots of their own,
# independent of everything below.
deb_out=build/deb.out deb_pid=
if [[ $deb -eq 1 ]]; then
    section "Debian packages (scripts/build-deb.sh): started in the background, its result comes last"
    scripts/build-deb.sh >"$deb_out" 2>&1 &
    deb_pid=$!
fi

passed=0 failed=0 skipped=0
# What failed, one line per item, printed again just above the summary: CI
# keeps only the end of the output.
failures=()
fail_item() { # what failed
    failed=$((failed + 1))
    failures+=("$1")
}
add_done_line() { # "@@TETHER-DONE label p f s" [log whose @@TETHER-RESULT lines name the failures]
    local _ _l p f s
    read -r _ _l p f s <<<"$1"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    if [[ $f -gt 0 && -n ${2:-} ]]; then
        local line
        while IFS= read -r line; do
            failures+=("${line#@@TETHER-RESULT }")
        done < <(grep -a -E '^@@TETHER-RESULT [^ ]+ [^ ]+ [^ ]+ fail' "$2" | cut -c1-300)
        [[ $f -le $(grep -a -c -E '^@@TETHER-RESULT [^ ]+ [^ ]+ [^ ]+ fail' "$2") ]] ||
            failures+=("$_l: $f failed (see $2)")
    fi
}

section "install"
if scripts/install-check.sh build; then
    passed=$((passed + 1))
else
    fail_item "install check (scripts/install-check.sh)"
fi

section "the main job (make run: scripts/demo.sh)"
if scripts/demo.sh; then
    passed=$((passed + 1))
else
    fail_item "the main job (scripts/demo.sh, make run)"
fi

section "shell completion (scripts/check-completion.sh)"
if scripts/check-completion.sh build; then
    passed=$((passed + 1))
else
    fail_item "shell completion (scripts/check-completion.sh)"
fi

section "Python package (pytest; native and emulate backends)"
python_log=build/python/pytest.log
python/tests/run.sh build >"$python_log" 2>&1 || true
grep -E '^(-- |FAILED|ERROR|[0-9]+ (passed|failed))' "$python_log" || true
done_line=$(grep -a '@@TETHER-DONE' "$python_log" | tail -n 1)
if [[ -z $done_line ]]; then
    echo "the Python tests did not finish; see $python_log"
    fail_item "Python tests did not finish ($python_log)"
else
    echo "$done_line"
    add_done_line "$done_line"
    while IFS= read -r line; do failures+=("python: $line"); done < <(grep -a -E '^(FAILED|ERROR) ' "$python_log" | cut -c1-300)
fi

section "fuzzing, a short run (fuzz/run.sh SECONDS by hand for a long one)"
if fuzz/run.sh "${TETHER_FUZZ_SECONDS:-20}"; then
    passed=$((passed + 1))
else
    fail_item "fuzzing (fuzz/run.sh)"
fi

# On a kernel without the lifecycle flags the native backend makes only the
# plain calls the emulate run makes as well (and refuses the flags): the
# memory checks then need the emulate run only.
asan_modes=native,emulate
if ! build/cli/tether features | grep -Eq '^(autoreap|nnp|autokill) +native'; then
    asan_modes=emulate
fi
section "host, AddressSanitizer + UndefinedBehaviorSanitizer ($asan_modes)"
asan_log=build-asan/host-asan.log
TETHER_TEST_REDUCED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build/test/runner --timeout 120 --modes "$asan_modes" --label host-asan build-asan/test \
    >"$asan_log" 2>&1 || true
grep -E '^    \| |^@@TETHER-RESULT [^ ]+ [^ ]+ [^ ]+ fail' "$asan_log" || true
done_line=$(grep -a '@@TETHER-DONE' "$asan_log" | tail -n 1)
if [[ -z $done_line ]]; then
    echo "sanitizer run did not finish; see $asan_log"
    fail_item "sanitizer run did not finish ($asan_log)"
else
    echo "$done_line"
    add_done_line "$done_line" "$asan_log"
fi

section "host, valgrind memcheck"
# One item: every test it runs without a memory error or a definite/indirect
# leak (scripts/valgrind.sh says which tests cannot run under valgrind).
vg_log=build/valgrind.log
set +e
scripts/valgrind.sh 2>&1 | tee "$vg_log"
vg_rc=${PIPESTATUS[0]}
set -e
if [[ $vg_rc -eq 0 ]]; then
    passed=$((passed + 1))
else
    fail_item "valgrind memcheck (scripts/valgrind.sh, exit $vg_rc; all in $vg_log)"
    # Each failed test's line, then the first lines of what it and memcheck
    # said (valgrind.sh prints them under the line, prefixed with "|").
    while IFS= read -r line; do failures+=("  valgrind: $line"); done < <(
        awk '/^fail / { keep = 1; n = 0; print; next }
             keep && /^    \| / { if (n++ < 30) print "  " $0; next }
             { keep = 0 }' "$vg_log" | cut -c1-300)
fi
# Tests that failed once under valgrind and passed on their second run
# (scripts/valgrind.sh): passed, and named again at the end.
mapfile -t flaky < <(grep -a -E '^flaky: ' "$vg_log" | cut -c1-300)

add_matrix() { # the output file of a run-matrix.sh run
    local last
    last=$(tail -n 1 "$1")
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + BASH_REMATCH[3]))
    else
        echo "the matrix printed no summary (see $1)"
        fail_item "the matrix printed no summary ($1)"
    fi
    local line
    while IFS= read -r line; do failures+=("$line"); done < <(grep -a -E '^--- FAIL' "$1" | cut -c1-300)
}

section "host, both backends"
host_out=build/matrix-host.out
set +e
OUT=build/vm-host vm/run-matrix.sh --tests build/test --runner build/test/runner --host --kernels "" \
    >"$host_out" 2>&1
set -e
grep -E '^(--- FAIL|    \| |host-)' "$host_out" || true
add_matrix "$host_out"

if [[ -n $vm_pid ]]; then
    section "kernel matrix ($kernels)"
    wait "$vm_pid" || true
    cat "$vm_out"
    add_matrix "$vm_out"
fi

if [[ -n $deb_pid ]]; then
    section "Debian packages (scripts/build-deb.sh: symbols, version, dpkg-buildpackage in a clean bookworm root, lintian, apt-get install)"
    deb_rc=0
    wait "$deb_pid" || deb_rc=$?
    if [[ $deb_rc -eq 0 ]]; then
        grep -E '^(PASS|FAIL):|^  [EW]: |^build-deb: ' "$deb_out" || true
    else
        cat "$deb_out"
    fi
    passed=$((passed + $(grep -c '^PASS:' "$deb_out" || true)))
    while IFS= read -r line; do fail_item "$line (all in $deb_out)"; done < <(grep -a '^FAIL:' "$deb_out" | cut -c1-300)
    if [[ $deb_rc -ne 0 ]] && ! grep -q '^FAIL:' "$deb_out"; then
        fail_item "Debian packages: scripts/build-deb.sh exited with $deb_rc (all in $deb_out)"
    fi
fi

if [[ -n $arm64_pid ]]; then
    section "arm64 in QEMU (scripts/arm64-suite.sh; --full for every test)"
    wait "$arm64_pid" || true
    grep -a -E '^(--- FAIL|    \| |kernel arm64-|arm64-suite|matrix wall-clock)' "$arm64_out" || true
    add_matrix "$arm64_out"
fi

if [[ ${#flaky[@]} -gt 0 ]]; then
    echo "== passed on a second run under valgrind"
    printf '  %s\n' "${flaky[@]}"
fi
if [[ ${#failures[@]} -gt 0 ]]; then
    echo "== what failed"
    printf '  %s\n' "${failures[@]}"
fi
section done
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]

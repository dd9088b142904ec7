#!/usr/bin/env bash
# Run the conformance tests on real Debian kernels under QEMU, and
# optionally on the host, and print one table of the results.
#
#   vm/run-matrix.sh --tests DIR --runner PATH
#                    [--kernels "5.10 6.1 6.12 7.0 7.1 7.2 7.3"]
#                    [--modes native,emulate] [--timeout SEC] [--host]
#                    [--wall SEC] [--jobs N] [--smp N] [--verbose]
#                    [--env NAME=VALUE]... [--arch amd64|arm64]
#
# DIR holds statically linked t_* tests (and h_* helpers); PATH is the
# statically linked test/runner.c, which becomes the VM's /init.
# --arch arm64 boots Debian's cloud-arm64 kernels in qemu-system-aarch64
# (-M virt, TCG; tests cross-built with vm/cross/aarch64-linux-gnu.ini);
# the columns are then labelled arm64-<series>.
# --timeout is per test run (default 180 s: only a hang detector, TCG's
# timings mean nothing), --wall the limit for one whole boot (default
# 1200 s), --jobs the number of VMs booted at once (default: CPU count),
# --smp the vCPUs of each VM (default 2: races between two CPUs must be able
# to show), --verbose keeps every test's output in the logs, --env puts
# NAME=VALUE in the tests' environment (through the kernel command line:
# a word without a dot the kernel does not know goes to /init's
# environment), e.g. TETHER_RANDOM_SEED=0x... to replay a random test.
# Logs go to ${OUT:-build/vm}/<label>.log (<series>, arm64-<series>, host-<x.y>). A boot that
# dies before /init is retried (at most twice); the summary says so.
# Exit status 0 only if nothing failed.
set -euo pipefail

here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

die() { echo "run-matrix: error: $*" >&2; exit 2; }
say() { echo "run-matrix: $*" >&2; }
usage() { awk 'NR >= 2 && NR <= 26 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit "${1:-2}"; }

limited_pid=
tests='' runner='' kernels="5.10 6.1 6.12 7.0 7.1 7.2 7.3" modes=native,emulate timeout=180
host=0 wall=1200 jobs=$(nproc) smp=2 verbose=0 env_words='' arch=amd64
while [[ $# -gt 0 ]]; do
    case $1 in
        --tests) tests=${2:?--tests needs a directory}; shift 2 ;;
        --runner) runner=${2:?--runner needs a path}; shift 2 ;;
        --kernels) kernels=${2?--kernels needs a list}; shift 2 ;;
        --modes) modes=${2:?--modes needs a list}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --wall) wall=${2:?--wall needs seconds}; shift 2 ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
        --smp) smp=${2:?--smp needs a number}; shift 2 ;;
        --host) host=1; shift ;;
        --verbose) verbose=1; shift ;;
        --env) env_words+=" ${2:?--env needs NAME=VALUE}"; shift 2 ;;
        --arch) arch=${2:?--arch needs amd64 or arm64}; shift 2 ;;
        -h | --help) usage 0 ;;
        *) say "unknown argument '$1'"; usage ;;
    esac
done
[[ -n $tests && -n $runner ]] || usage
[[ -d $tests ]] || die "test directory '$tests' does not exist"
[[ -x $runner ]] || die "runner '$runner' is not executable"
[[ $modes =~ ^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$ ]] || die "bad --modes '$modes'"
[[ $timeout =~ ^[0-9]+$ ]] || die "bad --timeout '$timeout'"
[[ $wall =~ ^[1-9][0-9]*$ ]] || die "bad --wall '$wall'"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "bad --jobs '$jobs'"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "bad --smp '$smp'"
read -ra series <<<"$kernels"
# Per architecture: the emulator (and its package), machine and CPU, the
# serial console, and the prefix of the column labels.
case $arch in
    amd64)
        qemu=qemu-system-x86_64 qemu_pkg=qemu-system-x86 console=ttyS0 prefix=
        qemu_machine=(-accel tcg -cpu max) ;;
    arm64)
        # -M virt boots -kernel without firmware. pauth-impdef=on: the
        # kernels sign every return address, and TCG's emulation of the
        # architected QARMA algorithm makes a run several times slower than
        # the implementation-defined one (TETHER_ARM64_CPU_OPTS= for plain
        # -cpu max).
        qemu=qemu-system-aarch64 qemu_pkg=qemu-system-arm console=ttyAMA0 prefix=arm64-
        qemu_machine=(-M virt -accel tcg -cpu "max${TETHER_ARM64_CPU_OPTS-,pauth-impdef=on}") ;;
    *) die "unknown --arch '$arch' (amd64 or arm64)" ;;
esac
[[ $arch == amd64 || $host -eq 0 ]] || die "--host runs the host's own tests; not with --arch $arch"
[[ ${#series[@]} -gt 0 || $host -eq 1 ]] || die "nothing to run: no kernels and no --host"

out=${OUT:-build/vm}
mkdir -p "$out"
manifest=$out/manifest.tsv
: >"$manifest"
start=$SECONDS

# Stop our own background jobs (host run, boots) if we are interrupted.
on_signal() {
    local pids
    mapfile -t pids < <(jobs -pr)
    [[ ${#pids[@]} -eq 0 ]] || kill "${pids[@]}" 2>/dev/null || true
    wait || true
    exit 130
}
trap on_signal INT TERM

# Run a command under the wall-clock limit, output to LOG; sets rc.  It
# runs in the background because bash runs traps only once a foreground
# command has finished, but interrupts a wait at once.
limited() {
    local log=$1
    shift
    timeout --kill-after=10 "$wall" "$@" </dev/null >"$log" 2>&1 &
    limited_pid=$!
    rc=0
    wait "$limited_pid" || rc=$?
}

kpaths=()
if [[ ${#series[@]} -gt 0 ]]; then
    command -v "$qemu" >/dev/null || die "$qemu is missing (package $qemu_pkg)"
    kout=$("$here/fetch-kernels.sh" --arch "$arch" "${series[@]}") || die "fetching kernels failed"
    mapfile -t kpaths <<<"$kout"
    [[ ${#kpaths[@]} -eq ${#series[@]} ]] || die "fetch-kernels.sh printed an unexpected list"
    "$here/mkinitramfs.sh" "$out/initramfs.cpio.gz" "$runner" "$tests" ||
        die "building the initramfs failed"
fi

# The host goes first and alone: its timings are the only meaningful ones,
# so the VMs must not compete with it for the CPUs.
if [[ $host -eq 1 ]]; then
    hrel=$(uname -r)
    hlabel=host-$(cut -d- -f1 <<<"$hrel" | cut -d. -f1,2)
    say "running the tests on the host ($hrel)"
    vflag=()
    [[ $verbose -eq 0 ]] || vflag=(--verbose)
    limited "$out/$hlabel.log" "$runner" --timeout "$timeout" --modes "$modes" \
        --label "$hlabel" "${vflag[@]}" "$tests"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$hlabel" "$out/$hlabel.log" "$rc" "$hrel" "" host 0 >>"$manifest"
    say "host done after $((SECONDS - start)) s"
fi

# Runs in a background subshell; "timeout" puts QEMU in a process group of
# its own, so a terminal's Ctrl-C does not reach it: pass TERM on.
boot() {
    local s=$prefix$1 kernel=$2 t0=$SECONDS
    trap 'kill "$limited_pid" 2>/dev/null || true; wait "$limited_pid" || true; exit 143' TERM
    # TCG, not KVM: KVM fails on these kernels' decompressor.  panic=-1 and
    # -no-reboot turn a crash of /init into a prompt exit of QEMU.  Two
    # vCPUs by default: TCG's SMP emulation occasionally trips these
    # kernels' code patching (an int3 oops before /init, seen once on 7.0;
    # an oops in a patched branch mid-run, once on 7.2); a boot that dies
    # before /init, or panics before the run's end, is retried twice, the
    # earlier log is kept, and the summary says so.
    local try
    rm -f "$out/$s.log.failed-boot-"*
    echo 0 >"$out/$s.retries"
    for try in 1 2 3; do
        limited "$out/$s.log" "$qemu" \
            "${qemu_machine[@]}" -m 1G -smp "$smp" -nographic -nic none -no-reboot \
            -kernel "$kernel" -initrd "$out/initramfs.cpio.gz" \
            -append "console=$console quiet panic=-1 tether.modes=$modes tether.timeout=$timeout tether.label=$s tether.verbose=$verbose$env_words"
        # Done: /init ran, and the kernel did not panic before the run's end
        # (TCG's SMP emulation has also tripped the kernel's run-time code
        # patching: an oops in a patched static-key branch, seen once on 7.2).
        if grep -q '@@TETHER-KERNEL' "$out/$s.log" &&
            ! { grep -q 'Kernel panic' "$out/$s.log" && ! grep -q '@@TETHER-DONE' "$out/$s.log"; }; then
            break
        fi
        cp "$out/$s.log" "$out/$s.log.failed-boot-$try"
        echo "$try" >"$out/$s.retries"
        say "kernel $s died before /init ran or panicked (try $try); see $out/$s.log.failed-boot-$try"
    done
    echo "$rc" >"$out/$s.rc"
    say "kernel $s done after $((SECONDS - t0)) s (exit status $rc)"
}

# Newest first: kernels with the lifecycle flags run both backends in full
# and take longest, so they must not be the ones left at the end. (The
# table keeps the order given.)
running=0
for ((i = ${#series[@]} - 1; i >= 0; i--)); do
    if [[ $running -ge $jobs ]]; then
        wait -n || true
        running=$((running - 1))
    fi
    say "booting kernel ${series[i]}"
    boot "${series[i]}" "${kpaths[i]}" &
    running=$((running + 1))
done
wait

for i in "${!series[@]}"; do
    s=$prefix${series[i]}
    dir=$(dirname -- "${kpaths[i]}")
    rc=$(cat "$out/$s.rc" 2>/dev/null || echo 255)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$out/$s.log" "$rc" \
        "$(cat "$dir/version")" "$(cat "$dir/package" 2>/dev/null || true)" vm \
        "$(cat "$out/$s.retries" 2>/dev/null || echo 0)" >>"$manifest"
done
elapsed=$((SECONDS - start))

# Parse the logs.  The manifest (label, log, exit status, version, package,
# kind) comes first; then each log, whose lines are matched to the label.
logs=()
while IFS=$'\t' read -r _ log _; do
    [[ -e $log ]] || : >"$log"
    logs+=("$log")
done <"$manifest"
exec awk -v modes="$modes" -v wall="$wall" -v elapsed="$elapsed" -v smp="$smp" '
function word(r) { return r == "pass" ? "pass" : r == "fail" ? "FAIL" : r == "skip" ? "skip" : "-" }
function pad(s, n) { return sprintf("%-" n "s", s) }
BEGIN { nmodes = split(modes, mode, ",") }
FNR == NR {
    split($0, m, "\t")
    ncol++; col[ncol] = m[1]; logof[m[1]] = m[2]; rcof[m[1]] = m[3]
    verof[m[1]] = m[4]; pkgof[m[1]] = m[5]; kind[m[1]] = m[6]; retries[m[1]] = m[7] + 0
    labelof[m[2]] = m[1]
    next
}
{
    lab = labelof[FILENAME]
    gsub(/\r/, "")                           # serial consoles end lines with CR LF
    if (substr($0, 1, 6) == "    | ") { buf[lab] = buf[lab] $0 "\n"; next }
    p = index($0, "@@TETHER-")               # may follow escape codes of the firmware
    if (p == 0) {
        if ($0 ~ /Kernel panic/ && panic[lab] == "") panic[lab] = $0
        if ($0 ~ /[^ \t]/) lastline[lab] = $0
        if ($0 != "" && started[lab]) buf[lab] = buf[lab] "    console: " $0 "\n"
        next
    }
    rec = substr($0, p)
    n = split(rec, f, " ")
    if (f[1] == "@@TETHER-KERNEL") {
        release[lab] = f[2]; started[lab] = 1; buf[lab] = ""
    } else if (f[1] == "@@TETHER-RESULT" && n >= 5) {
        detail = rec
        for (i = 0; i < 5; i++) sub(/^[^ ]+ ?/, "", detail)
        t = f[4]
        if (!(t in seen)) { seen[t] = 1; ntest++; test[ntest] = t }
        res[lab, f[3], t] = f[5]
        cnt[lab, f[5]]++
        if (f[5] == "fail") {
            nfail++
            failhdr[nfail] = "--- FAIL " lab " " f[3] " " t (detail != "" ? ": " detail : "")
            failout[nfail] = buf[lab]
        }
        buf[lab] = ""
    } else if (f[1] == "@@TETHER-DONE") {
        done[lab] = 1
    }
}
END {
    # (a) output of the failing runs
    if (nfail > 0) {
        print "Output of failing tests:"
        for (i = 1; i <= nfail; i++) {
            print failhdr[i]
            printf "%s", (failout[i] != "" ? failout[i] : "    (no output)\n")
        }
        print ""
    }

    # (b) the table: one row per test (sorted), one column per kernel
    for (i = 2; i <= ntest; i++)             # insertion sort, awk has no sort
        for (j = i; j > 1 && test[j - 1] > test[j]; j--) { x = test[j]; test[j] = test[j - 1]; test[j - 1] = x }
    w0 = 4
    for (i = 1; i <= ntest; i++) if (length(test[i]) > w0) w0 = length(test[i])
    for (c = 1; c <= ncol; c++) {
        lab = col[c]; w[c] = length(lab)
        for (i = 1; i <= ntest; i++) {
            cell = ""
            for (k = 1; k <= nmodes; k++) cell = cell (k > 1 ? "/" : "") word(res[lab, mode[k], test[i]])
            cellof[c, i] = cell
            if (length(cell) > w[c]) w[c] = length(cell)
        }
    }
    line = pad("test", w0)
    for (c = 1; c <= ncol; c++) line = line "  " pad(col[c], w[c])
    sub(/ +$/, "", line)
    print line
    for (i = 1; i <= ntest; i++) {
        line = pad(test[i], w0)
        for (c = 1; c <= ncol; c++) line = line "  " pad(cellof[c, i], w[c])
        sub(/ +$/, "", line)
        print line
    }
    legend = ""
    for (k = 1; k <= nmodes; k++) legend = legend (k > 1 ? "/" : "") mode[k]
    print "cells: " legend " (TETHER_BACKEND); pass, FAIL, skip, - = no result"
    print ""

    # (c) one line per kernel, plus the failures of the kernel itself
    for (c = 1; c <= ncol; c++) {
        lab = col[c]
        np = cnt[lab, "pass"] + 0; nf = cnt[lab, "fail"] + 0; ns = cnt[lab, "skip"] + 0
        ver = release[lab] != "" ? release[lab] : verof[lab]
        what = kind[lab] == "host" ? lab ": " ver " (this machine)" : "kernel " lab ": " ver
        if (pkgof[lab] != "") what = what " (" pkgof[lab] ")"
        printf "%s: %d passed, %d failed, %d skipped\n", what, np, nf, ns
        name = (kind[lab] == "host" ? lab : "kernel " lab) " (" verof[lab] ")"
        if (rcof[lab] == 124 || rcof[lab] == 137) {
            printf "%s: hit the wall-clock limit of %d s; see %s\n", name, wall, logof[lab]
            nf++
        } else if (!done[lab]) {
            printf "%s: no @@TETHER-DONE — %s; see %s\n", name,
                (kind[lab] == "host" ? "runner failed (exit status " rcof[lab] ")" : "boot failed or hung"), logof[lab]
            nf++
        }
        if (retries[lab] > 0 && started[lab]) {
            printf "%s: died before /init or panicked %d time(s), completed on try %d (logs: %s.failed-boot-N)\n", name,
                retries[lab], retries[lab] + 1, logof[lab]
            nretry += retries[lab]
        } else if (retries[lab] > 0) {
            printf "%s: died before /init or panicked on each of %d tries (logs: %s.failed-boot-N)\n", name,
                retries[lab], logof[lab]
            nretry += retries[lab] - 1
        }
        if (panic[lab] != "") printf "%s: %s\n", name, panic[lab]
        else if (!done[lab] && lastline[lab] != "") printf "%s: last line of its log: %s\n", name, lastline[lab]
        P += np; F += nf; S += ns
    }
    printf "matrix wall-clock time: %d s (VMs with %d vCPUs; boots retried: %d)\n", elapsed, smp, nretry
    if (P + F + S == 0) print "warning: no test results at all"

    # (d) last line: the sum over all columns
    printf "%d passed, %d failed, %d skipped\n", P, F, S
    exit (F > 0 ? 1 : 0)
}' "$manifest" "${logs[@]}"

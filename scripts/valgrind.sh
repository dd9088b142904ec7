#!/usr/bin/env bash
# The host test suite under valgrind's memcheck.
#
#   scripts/valgrind.sh [--jobs N] [--timeout SEC] [--all] [TEST...]
#
# Builds build-vg (tests linked dynamically: -Dstatic_tests=false) and runs
# every test program of build-vg/test except the ones listed in `excluded`
# and, without --all, in `heavy` below (or just the TESTs named, listed or
# not) under memcheck, with
# TETHER_BACKEND=emulate, N at a time (default: the number of CPUs), each
# bounded by SEC seconds (default 300), with TETHER_TEST_REDUCED=1 (stress
# tests run an eighth of their rounds: test/harness.h, t_scaled()).
# t_stress_mixed runs 240 children unless TETHER_STRESS_TOTAL says otherwise,
# since every spawned autoreap child's monitor is a copy of the test under
# valgrind (see below).
#
# Prints one line per test and a one-line verdict.  Exits 0 only if every test
# passed or skipped (exit 0 or 77) and memcheck found no error and no
# definitely or indirectly lost block in any of them.  "Possibly lost" blocks
# (only an interior pointer to them is left) are shown, with their stacks in
# the log, but not counted: that is no proof of a leak.  A test that fails
# without a word from memcheck runs once more, and counts as passed if that
# run passes, with a line "flaky: ..." naming it (see run_test_twice below).
# Logs: build-vg/valgrind/<test>.out (the test's output), <test>.vg (memcheck's),
# <test>.again.out, <test>.again.vg (a second run's).
#
# How, and why so:
#  - valgrind >= 3.24 (`scripts/ensure-deps.sh --valgrind` unpacks Debian 13's
#    into ~/.cache/tether/valgrind where the installed one is older): 3.19
#    answers pidfd_open() and pidfd_getfd() with ENOSYS.
#  - The emulate backend only.  No valgrind has clone3() (ENOSYS), so the
#    native backend has nothing to run; the kernel's own lifecycle flags are
#    the VM matrix's business.
#  - --trace-children=no: only the test process is checked.  Its children are
#    copies that exit, monitors (copies under valgrind), or programs exec'd from them (the test in
#    "child" mode, tether(1)): those run natively, and copies of the test
#    stay silent (--child-silent-after-fork=yes).  A copy's own leak report
#    would be noise anyway: the other threads' stacks are gone in it.
#  - No --error-exitcode: it would also be the exit code of every copy of the
#    test that finds "leaks" at its exit, which the tests read as the child's
#    status.  The verdict comes from the test process's summaries instead.
#  - A preload (preload_source below) stands in for what valgrind lacks, only
#    where it lacks it (exec of /proc/self/exe, plain clone3() calls,
#    pidfd_send_signal()), and makes the leak check, in the test process
#    only: valgrind's own at exit (--leak-check=full) would also run in each
#    forked child, and make t_stress_mixed four times as long.
# About a minute on 2 CPUs; t_stress_mixed and t_emul_stress_autoreap_threads
# take 20-40 s each.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

# Tests that cannot run under valgrind, and why.  Each is valgrind's
# limitation, not the test's or tether's; every other test runs.
declare -A excluded=(
    [t_spawn_info_right_after_pollin]="pins the kernel's own reap at the program's exit, which needs a monitor sharing the caller's descriptor table; under valgrind monitors are copies"
    [t_spawn_autokill_hostile_app]="its descriptor sweep is told apart from the caller's exit by kcmp(KCMP_VM), which only a monitor sharing the caller's memory can use; under valgrind monitors are copies"
    [t_emul_fork_during_calls]="400 fork()s of a test running under valgrind during emulated calls: each fork is a copy of valgrind; it outlasts the time limit"
    [t_spawn_autokill_1000_live_children]="1 000 live monitored children: under valgrind each monitor is a copy of the test running under valgrind too"
    [t_spawn_attributes]="deadlocks: valgrind runs a CLONE_VFORK clone holding its global lock, so the test's helper thread that lets the spawned child go never runs"
    [t_spawn_exec_failure]="exec errors come back through memory shared with the CLONE_VM child; valgrind makes that child a copy, so the parent never sees them"
    [t_spawn_foreground_terminal]="its ENOTTY cases fail in the child's set-up, whose errors come back through memory shared with the CLONE_VM child (as t_spawn_exec_failure's); valgrind makes that child a copy"
    [t_spawn_no_clone3]="its exec failure through clone() comes back as t_spawn_exec_failure's do (CLONE_VM, a copy under valgrind)"
    [t_spawn_cgroup]="CLONE_INTO_CGROUP needs clone3(), which valgrind does not have"
    [t_spawn_exit_info]="tether's exit-info probe needs clone3(): under valgrind it says 'absent' while the kernel keeps the exit, and the test follows the probe"
    [t_cli_exit_codes]="compares 'tether features' (run natively) with the features the test itself sees (no clone3 under valgrind)"
    [t_cli_shell_pty]="execs python3 (the pty driver) at once, so memcheck never sees it end; the tether it drives runs natively (t_cli_tty covers the same code under memcheck)"
    [t_emul_hostile_thread_cancel]="half its cancelled threads lose their handle on purpose (as a program without cleanup handlers does): memcheck rightly calls those handles lost; ASan skips it too (pthread_cancel's unwinding)"
    [t_features_probe_signals]="is about the probe's child sharing the caller's memory while signals arrive; under valgrind that child is a copy, and 80 copies of valgrind under a signal flood take minutes"
    [t_r0_unknown_flag_einval]="checks the kernel's EINVAL from clone3() for unknown flags; valgrind answers ENOSYS"
)

# Stress, flood and exhaustion tests: the same library calls as the tests
# that run, many times over, where under valgrind every fork() and every
# monitor is a copy of valgrind too: minutes each.  ASan+UBSan runs them in
# every `make test`; `--all` runs them here as well.
declare -A heavy=(
    [t_stress_mixed]="2400 children of every kind from 8 threads (t_spawn_*, t_emul_* make each kind under memcheck)"
    [t_emul_stress_autoreap_threads]="2000 autoreap children from 4 threads (t_b01-t_b04 make them under memcheck)"
    [t_emul_release_races_reaper]="600 autokill children released against the reaper (t_b12-t_b16 release them under memcheck)"
    [t_dev_raw_info_after_pollin]="600 children polled and asked at once (t_b03 and t_info_* ask under memcheck)"
    [t_fault_pid_space]="fills a pid namespace with processes (t_fault_resource_limits exhausts the rest under memcheck)"
    [t_spawn_autoreap_invisible_to_app_wait]="hundreds of spawns against reaping application threads (t_spawn_autoreap spawns under memcheck)"
    [t_emul_no_handler_before_setup]="500 children under a signal flood (t_emul_hostile_signal_flood floods under memcheck)"
    [t_emul_report_wait_ends_at_child_death]="forks siblings that hold the report pipe for seconds, each a copy of valgrind (t_b09 reports under memcheck)"
)

jobs=$(nproc) timeout=300 all=0
names=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --all) all=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "valgrind.sh: unknown option '$1'" >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "valgrind.sh: bad --jobs '$jobs'" >&2; exit 2; }
[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "valgrind.sh: bad --timeout '$timeout'" >&2; exit 2; }

scripts/ensure-deps.sh --valgrind

# ---- which valgrind ----
min_valgrind=3.24
vg_cache=${XDG_CACHE_HOME:-$HOME/.cache}/tether/valgrind
version_ok() {
    local v=${1#valgrind-}
    [[ $v =~ ^[0-9]+\.[0-9]+ ]] || return 1
    [[ $(printf '%s\n%s\n' "$min_valgrind" "${BASH_REMATCH[0]}" | sort -V | head -n 1) == "$min_valgrind" ]]
}
vg_env=()
if version_ok "$(valgrind --version 2>/dev/null || true)"; then
    vg=(valgrind)
    vg_include=
elif [[ -x $vg_cache/root/usr/bin/valgrind.bin ]]; then
    # Debian's bin/valgrind is a wrapper script of bin/valgrind.bin; the
    # unpacked tree is found through VALGRIND_LIB.
    vg=("$vg_cache/root/usr/bin/valgrind.bin")
    vg_env=("VALGRIND_LIB=$vg_cache/root/usr/libexec/valgrind")
    vg_include=$vg_cache/root/usr/include
else
    echo "valgrind.sh: no valgrind $min_valgrind or newer (scripts/ensure-deps.sh --valgrind fetches one)" >&2
    exit 1
fi
vg_version=$(env "${vg_env[@]}" "${vg[@]}" --version)

# The preload, built into build-vg/valgrind/preload.so and given to each test
# with LD_PRELOAD.  Everything it does is inactive outside valgrind (the
# programs exec'd natively inherit LD_PRELOAD) and falls back only where
# valgrind refuses a call the kernel would make:
#  - execve()/execv() of /proc/self/exe (or of a symlink to it): under
#    valgrind that link names valgrind's tool, not the test, and the tests
#    spawn themselves that way.  It becomes the test's own path, which
#    readlink() gives as valgrind reports it.
#  - syscall(SYS_clone3) for a fork-like child (no stack, no set_tid, no
#    cgroup, flags below bit 32): clone(), as tether's own fallback does; the
#    tests and tether_clone3() without lifecycle flags make such calls, which
#    the kernel serves and valgrind answers with ENOSYS.
#  - syscall(SYS_pidfd_send_signal) without siginfo: kill() of the pid that
#    /proc/self/fdinfo gives for the pidfd (ESRCH once it has exited).
#    valgrind ends a program that makes a CLONE_VM child other than a thread
#    or a vfork, so under valgrind tether makes each monitor a copy of the
#    process (fork-style, sharing only the page it talks through); such a
#    monitor, itself under valgrind, kills by pid where pidfd_send_signal()
#    is unknown to valgrind.
#  - At the exit of the test process (not of its forks), a full leak check,
#    reported like valgrind's own at exit.  It runs before glibc's
#    __libc_freeres(), which valgrind calls at exit; what that frees (the
#    thread-local storage of cached thread stacks) is suppressed in
#    scripts/valgrind.supp.
preload_source() {
    cat <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>
#include <valgrind/memcheck.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static long (*real_syscall)(long, ...);
static int (*real_execve)(const char *, char *const[], char *const[]);
static int on_valgrind, no_pidfd_send_signal;
static pid_t test_pid;
static char self_path[PATH_MAX];

__attribute__((constructor)) static void preload_init(void)
{
	real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	real_execve = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
	on_valgrind = RUNNING_ON_VALGRIND;
	if (!on_valgrind)
		return;
	test_pid = getpid();
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	self_path[n > 0 ? n : 0] = '\0';
}

__attribute__((destructor)) static void preload_fini(void)
{
	if (on_valgrind && getpid() == test_pid)
		VALGRIND_DO_LEAK_CHECK;
}

static int names_self_exe(const char *s, const char *own)
{
	return strcmp(s, "/proc/self/exe") == 0 || strcmp(s, own) == 0;
}

static const char *exec_path(const char *path)
{
	char own[64], link[64];
	ssize_t n;

	if (!on_valgrind || !self_path[0] || !path)
		return path;
	snprintf(own, sizeof(own), "/proc/%d/exe", (int)getpid());
	if (names_self_exe(path, own))
		return self_path;
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return path;
	link[n] = '\0';
	return names_self_exe(link, own) ? self_path : path;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	return real_execve(exec_path(path), argv, envp);
}

int execv(const char *path, char *const argv[])
{
	return real_execve(exec_path(path), argv, environ);
}

static long clone3_as_clone(struct clone_args *a, size_t size)
{
	if (!a || size < 64 || a->stack || a->set_tid || a->cgroup || (a->flags >> 32) ||
	    a->exit_signal > 0xff || ((a->flags & CLONE_PIDFD) && (a->flags & CLONE_PARENT_SETTID))) {
		errno = ENOSYS;
		return -1;
	}
	return real_syscall(SYS_clone, (unsigned long)a->flags | (unsigned long)a->exit_signal, NULL,
			    (void *)(uintptr_t)((a->flags & CLONE_PIDFD) ? a->pidfd : a->parent_tid),
			    (void *)(uintptr_t)a->child_tid, (void *)(uintptr_t)a->tls);
}

/* Async-signal-safe: it may be called in a fork of a multi-threaded process. */
static long pidfd_kill(int pidfd, int sig, const void *info, unsigned int flags)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	long pid;
	int fd;

	if (info || flags) {
		errno = ENOSYS;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, "\nPid:");
	if (!p) {
		errno = EBADF; /* not a pidfd */
		return -1;
	}
	pid = strtol(p + 5, NULL, 10);
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return kill((pid_t)pid, sig);
}

long syscall(long nr, ...)
{
	va_list ap;
	long a[6], r;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (on_valgrind && nr == SYS_pidfd_send_signal && no_pidfd_send_signal)
		return pidfd_kill((int)a[0], (int)a[1], (const void *)a[2], (unsigned int)a[3]);
	r = real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (r != -1 || errno != ENOSYS || !on_valgrind)
		return r;
	switch (nr) {
	case SYS_clone3:
		return clone3_as_clone((struct clone_args *)a[0], (size_t)a[1]);
	case SYS_pidfd_send_signal:
		no_pidfd_send_signal = 1;
		return pidfd_kill((int)a[0], (int)a[1], (const void *)a[2], (unsigned int)a[3]);
	}
	errno = ENOSYS;
	return -1;
}
EOF
}

# ---- build ----
build='build-vg'
if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" -Dstatic_tests=false >/dev/null
elif ! python3 -c 'import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
sys.exit(0 if o.get("static_tests") is False else 1)' "$build/meson-info/intro-buildoptions.json"; then
    meson configure "$build" -Dstatic_tests=false >/dev/null
fi
ninja --quiet -C "$build" >"$build/valgrind-build.log" 2>&1 || {
    cat "$build/valgrind-build.log"
    exit 1
}

root=$PWD
logdir=$root/$build/valgrind
rm -rf "$logdir"
mkdir -p "$logdir/cwd"
preload=$logdir/preload.so
preload_source >"$logdir/preload.c"
cc -std=gnu17 -O2 -g -Wall -Wextra -Werror -fPIC -shared ${vg_include:+-I"$vg_include"} \
    -o "$preload" "$logdir/preload.c" -ldl

# ---- which tests ----
tests=() not_run=0
if [[ ${#names[@]} -gt 0 ]]; then
    for t in "${names[@]}"; do
        [[ -x $build/test/$t ]] || { echo "valgrind.sh: no test program $build/test/$t" >&2; exit 2; }
        tests+=("$t")
    done
else
    # The longest (~20 s each) first, so that they run alongside the others.
    long=(t_stress_mixed t_emul_stress_autoreap_threads)
    if [[ $all -eq 1 ]]; then
        for t in "${long[@]}"; do
            [[ -x $build/test/$t ]] && tests+=("$t")
        done
    fi
    for p in "$build"/test/t_*; do
        t=${p##*/}
        [[ -f $p && -x $p && " ${long[*]} " != *" $t "* ]] || continue
        if [[ -n ${excluded[$t]:-} ]]; then
            printf 'not run: %s: %s\n' "$t" "${excluded[$t]}"
            not_run=$((not_run + 1))
            continue
        fi
        if [[ $all -eq 0 && -n ${heavy[$t]:-} ]]; then
            printf 'not run (heavy; --all runs it): %s: %s\n' "$t" "${heavy[$t]}"
            not_run=$((not_run + 1))
            continue
        fi
        tests+=("$t")
    done
fi

# shellcheck disable=SC2054 # the commas are valgrind's
vg_opts=(
    --tool=memcheck --trace-children=no --child-silent-after-fork=yes
    # The leak check is the preload's, in the test process only (see above).
    --leak-check=no --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect
    --suppressions="$root/scripts/valgrind.supp" --num-callers=30
)

# One test: runs it, prints its line (and on failure what it and memcheck
# said), records pass/fail/skip in $logdir/<test>.result, and "memcheck"
# there too if memcheck found an error or a leak.  The second argument, a
# suffix for the log names, is given to a second run.
run_test() {
    local t=$1 out=$logdir/$1${2:-}.out vglog=$logdir/$1${2:-}.vg
    local start end rc pid errors def ind poss secs verdict sep w n why=() notes=()
    : >"$vglog" # valgrind writes it; it exists even if valgrind does not start
    start=$(date +%s%N)
    # env --default-signal: a background job of a script has SIGINT and
    # SIGQUIT ignored, which the tests must not inherit (test/runner.c resets
    # them too).  timeout puts the test in a process group of its own.
    (cd "$logdir/cwd" &&
        exec env --default-signal TETHER_BACKEND=emulate LD_PRELOAD="$preload" \
            TETHER_STRESS_TOTAL="${TETHER_STRESS_TOTAL:-240}" TETHER_TEST_REDUCED=1 "${vg_env[@]}" \
            timeout -k 10 "$timeout" "${vg[@]}" "${vg_opts[@]}" --log-file="$vglog" \
            "$root/$build/test/$t") </dev/null >"$out" 2>&1 &
    pid=$!
    rc=0
    { wait "$pid"; } 2>/dev/null || rc=$? # (no "Killed" from bash: the line below says it)
    kill -KILL -- "-$pid" 2>/dev/null || true # whatever the test left in its process group
    end=$(date +%s%N)
    secs=$(( (end - start) / 1000000 ))
    secs=$(printf '%d.%d' $((secs / 1000)) $((secs % 1000 / 100)))

    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$vglog" | tail -n 1 | tr -d ,)
    def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$vglog" | tail -n 1 | tr -d ,)
    ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$vglog" | tail -n 1 | tr -d ,)
    poss=$(sed -n 's/.*possibly lost: \([0-9,]*\) bytes.*/\1/p' "$vglog" | tail -n 1 | tr -d ,)
    if ! grep -q 'LEAK SUMMARY:' "$vglog"; then
        if grep -q 'All heap blocks were freed' "$vglog"; then
            def=0 ind=0 poss=0
        else
            def='' ind='' poss=''
        fi
    fi

    case $rc in
        0|77) ;;
        124|137) why+=("timeout after ${timeout}s") ;;
        *) if [[ $rc -gt 128 ]]; then why+=("signal $((rc - 128))"); else why+=("exit $rc"); fi ;;
    esac
    # valgrind's own out-of-memory end: exit status 1, a map of its address
    # space, no summary.
    if grep -q -a 'aspacem <<< SHOW_SEGMENTS: out_of_memory' "$vglog" "$out"; then
        why+=("valgrind ran out of address space in one of its processes")
    fi
    # valgrind ending the process itself (an unsupported call, an internal
    # error): exit status 1 and no summary; its first words say which.
    w=$(grep -a -m 1 -o -E "Unsupported clone\(\) flags: [0-9a-fx]+|Valgrind does not support [^.]*|the 'impossible' happened|VG_N_SEGMENTS is too low" \
        "$vglog" "$out" 2>/dev/null | head -n 1 | sed 's/^[^:]*://') || true
    [[ -z $w ]] || why+=("valgrind ended the process: $w")
    if [[ -z $errors ]]; then
        why+=("no memcheck summary")
    elif [[ $errors -gt 0 ]]; then
        why+=("$errors memcheck error(s)")
    fi
    if [[ -z $def ]]; then
        why+=("no leak check ran")
    elif [[ $def -gt 0 || $ind -gt 0 ]]; then
        why+=("leaked: $def bytes definitely, $ind indirectly")
    fi
    # Unknown to valgrind, so ENOSYS for the test; not 424, pidfd_send_signal,
    # which the preload makes good for.
    mapfile -t -O "${#notes[@]}" notes < <(grep -o 'unhandled amd64-linux syscall: [0-9]*' "$vglog" |
        grep -v ': 424$' | sort -u | sed 's/^/valgrind: /')

    if [[ ${#why[@]} -gt 0 ]]; then
        verdict=fail
    elif [[ $rc -eq 77 ]]; then
        verdict=skip
    else
        verdict=pass
    fi
    echo "$verdict" >"$logdir/$t.result"
    [[ ${#why[@]} -eq 0 ]] || (IFS=';'; echo "why: ${why[*]}") >>"$logdir/$t.result"
    # What memcheck itself found (not a missing summary: a test killed at
    # its time limit leaves none).
    if [[ ${errors:-0} -gt 0 || ${def:-0} -gt 0 || ${ind:-0} -gt 0 ]]; then
        echo memcheck >>"$logdir/$t.result"
    fi
    {
        flock 8
        printf '%-4s %-48s %6ss  errors %s, lost %s+%s, possibly %s bytes' "$verdict" "$t" "$secs" \
            "${errors:-?}" "${def:-?}" "${ind:-?}" "${poss:-?}"
        [[ $verdict != skip ]] || printf ' (%s)' "$(grep -m 1 '^SKIP:' "$out" | cut -c1-100)"
        sep=': '
        for w in "${why[@]}"; do
            printf '%s%s' "$sep" "$w"
            sep='; '
        done
        printf '\n'
        for n in "${notes[@]}"; do
            printf '     note: %s\n' "$n"
        done
        if [[ $verdict == fail ]]; then
            # (|| true: grep finds nothing in an empty output, and under
            # set -e with pipefail that would end this job unprinted.)
            echo "    | the test's output (last 40 lines; all in $out):"
            { grep -a -v -e ':0: aspacem ' "$out" || true; } | tail -n 40 | sed 's/^/    | /'
            # valgrind's own fatal messages (aspacem's among them) go to the
            # test's stderr, not to the log: the first ones say why it ended.
            { grep -a -m 5 -e ':0: aspacem .*\(FATAL\|fail\|assert\)' -e 'valgrind: ' "$out" || true; } |
                sed 's/^/    | /'
            echo "    | memcheck (all in $vglog):"
            { grep -a -v -e '^==[0-9]*== *$' -e ':0: aspacem ' -e 'Copyright\|Using Valgrind\|rerun with\|README_MISSING\|You may be able\|Nevertheless we\|bug_reports' \
                "$vglog" || true; } | sed 's/^/    | /'
        fi
    } 8>>"$logdir/.print.lock"
}

# A test that fails with no word from memcheck (its own check failed, or it
# timed out: under valgrind every step is ~20 times slower, and in `make
# test` the VMs share the CPUs) runs once more; if that run passes, the
# test counts as passed and a line "flaky: ..." names it and the first
# failure (all its output stays in <test>.out, <test>.vg).  An error or a
# leak that memcheck reports is never run again: it fails.
run_test_twice() {
    local t=$1 first
    run_test "$t"
    if [[ $(head -n 1 "$logdir/$t.result") != fail ]] || grep -qx memcheck "$logdir/$t.result"; then
        return 0
    fi
    first="$(sed -n 's/^why: //p' "$logdir/$t.result")"
    first+="$({ grep -m 1 -E '^FAIL|assertion failed' "$logdir/$t.out" || true; } | cut -c1-160 | sed 's/^/: /')"
    run_test "$t" .again
    if [[ $(head -n 1 "$logdir/$t.result") == pass ]]; then
        {
            flock 8
            printf 'flaky: %s failed once, then passed (the first run: %s; all in %s)\n' "$t" \
                "${first:-see its output}" "$logdir/$t.out"
        } 8>>"$logdir/.print.lock"
    fi
}

echo "$vg_version, memcheck, emulate backend; ${#tests[@]} tests, $jobs at a time"
started=$SECONDS
running=0
for t in "${tests[@]}"; do
    if [[ $running -ge $jobs ]]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_test_twice "$t" &
    running=$((running + 1))
done
wait

passed=0 failed=0 skipped=0
for t in "${tests[@]}"; do
    case $(head -n 1 "$logdir/$t.result" 2>/dev/null || echo fail) in
        pass) passed=$((passed + 1)) ;;
        skip) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
done
elapsed=$((SECONDS - started))
printf 'valgrind memcheck: %d passed, %d failed, %d skipped, %d not run (%s, %dm%02ds)\n' \
    "$passed" "$failed" "$skipped" "$not_run" "$vg_version" \
    $((elapsed / 60)) $((elapsed % 60))
if [[ $failed -eq 0 ]]; then
    exit 0
fi
exit 1

/* SPDX-License-Identifier: MIT */
/*
 * What every conformance test shares. A test is one small program checking
 * one rule or behaviour; it prints what it checked and exits 0 (pass),
 * 77 (skip: the kernel or backend cannot do the thing, with a "SKIP:" line
 * saying why) or 1 (fail, with a "FAIL:" line).
 */
#ifndef TETHER_TEST_HARNESS_H
#define TETHER_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tether.h"

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define T_FLAG_NAMES "AUTOREAP|NNP|AUTOKILL"

static inline void t_vlog(const char *tag, const char *fmt, va_list ap)
{
	fputs(tag, stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
}

__attribute__((format(printf, 1, 2))) static inline void t_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t_vlog("  ", fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void t_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t_vlog("FAIL: ", fmt, ap);
	va_end(ap);
	exit(T_EXIT_FAIL);
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void t_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t_vlog("SKIP: ", fmt, ap);
	va_end(ap);
	exit(T_EXIT_SKIP);
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void t_pass(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t_vlog("PASS: ", fmt, ap);
	va_end(ap);
	exit(T_EXIT_PASS);
}

#define T_ASSERT(cond, ...)                                                        \
	do {                                                                       \
		if (!(cond)) {                                                     \
			t_info("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond); \
			t_fail(__VA_ARGS__);                                       \
		}                                                                  \
	} while (0)

/* What serves these flags in this run, as a word for messages. */
static inline const char *t_backend_word(uint64_t flags)
{
	return tether_backend_name(tether_backend_for(flags));
}

static inline unsigned int t_features_for(uint64_t flags)
{
	unsigned int f = 0;
	if (flags & CLONE_AUTOREAP)
		f |= TETHER_FEATURE_AUTOREAP;
	if (flags & CLONE_NNP)
		f |= TETHER_FEATURE_NNP;
	if (flags & CLONE_PIDFD_AUTOKILL)
		f |= TETHER_FEATURE_AUTOKILL;
	return f;
}

/*
 * How many rounds a stress test runs: n on the host. Reduced, n divided by
 * T_SCALE_DOWN (at least min), in the test VMs (TETHER_TEST_VM=1, set by the
 * VM's /init), where QEMU's TCG emulates every instruction and seven kernels
 * share one test command's time, and where TETHER_TEST_REDUCED=1 (the
 * sanitizer and valgrind runs, which look for memory errors, not races):
 * there the point is each kernel's behaviour or the memory checks, the plain
 * host run's full size the races. TETHER_TEST_FULL=1 keeps n everywhere.
 */
#define T_SCALE_DOWN 8
static inline bool t_env_is_1(const char *name)
{
	const char *v = getenv(name);
	return v && strcmp(v, "1") == 0;
}

/* The memory checkers' runs (TETHER_TEST_REDUCED=1), unless TETHER_TEST_FULL=1. */
static inline bool t_memcheck_reduced(void)
{
	return t_env_is_1("TETHER_TEST_REDUCED") && !t_env_is_1("TETHER_TEST_FULL");
}

static inline long t_scaled(long n, long min)
{
	if (t_env_is_1("TETHER_TEST_FULL") || !(t_env_is_1("TETHER_TEST_VM") || t_env_is_1("TETHER_TEST_REDUCED")))
		return n;
	return n / T_SCALE_DOWN > min ? n / T_SCALE_DOWN : min;
}

/* Whether the native backend is in charge of flags the kernel does not have. */
static inline bool t_native_without(uint64_t flags)
{
	unsigned int need = t_features_for(flags);
	return tether_backend_for(flags) == TETHER_BACKEND_NATIVE && (tether_features() & need) != need;
}

/*
 * For a test whose every use of the lifecycle flags is skipped where the
 * native backend is forced on a kernel without them: that native pass runs
 * only the flagless parts, and a flagless call never consults the backend
 * (src/spawn/spawn.c, src/api/clone3.c), so the emulate pass makes the very
 * same calls. Skip the repeat (it cost the VM matrix a minute).
 */
static inline void t_skip_native_pass_without(uint64_t flags)
{
	if (tether_get_backend() == TETHER_BACKEND_NATIVE && t_native_without(flags)) {
		t_skip("native backend on a kernel without the flags: only the flagless parts would run, "
		       "which the emulate pass runs the same way");
	}
}

/*
 * A test of behaviour needs a backend that provides the flags: skip when the
 * native backend is forced on a kernel without them (after checking the
 * kernel refuses them with EINVAL, as it must).
 */
void t_require_flags(uint64_t flags);

/* Whether the run uses the emulation for these flags. */
static inline bool t_emulated(uint64_t flags)
{
	return tether_backend_for(flags) == TETHER_BACKEND_EMULATE;
}

/* tether_clone3() with just flags and an exit signal; *pidfd set when CLONE_PIDFD. */
pid_t t_clone(uint64_t flags, int exit_signal, int *pidfd);

/* A child (created with t_clone's arguments) that runs fn() and exits with its value. */
pid_t t_clone_fn(uint64_t flags, int exit_signal, int *pidfd, int (*fn)(void *), void *arg);

/* Block until the pidfd polls readable, at most timeout_ms. */
bool t_pidfd_wait_readable(int pidfd, int timeout_ms);

/* The exit status (wait-status form) through tether_pidfd_get_info(), or -errno. */
int t_pidfd_exit_status(int pidfd);

/* /proc/<pid>/stat state letter, or 0 when the pid is gone. */
char t_proc_state(pid_t pid);

/* Whether pid is gone or a zombie, waiting up to timeout_ms for it to go. */
bool t_wait_pid_gone(pid_t pid, int timeout_ms);

/* /proc/self/status field value as a number (e.g. "NoNewPrivs"), or -1. */
long t_status_field(pid_t pid, const char *field);

/* The same field's text (e.g. "Cpus_allowed_list"), into out; false if there is none. */
bool t_status_text(pid_t pid, const char *field, char *out, size_t out_len);

static inline int t_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The only way a test signals through a pidfd: one it holds, so the
 * target is its own process (pidfds cannot name a process group). */
static inline int t_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/*
 * kill() of one process the test created, and nothing else: refuses (-1,
 * EPERM) pid <= 1 (kill(0) and kill(-1) reach whole groups or every
 * process; 1 is init), negative pids (process groups) and the test itself.
 * The si_code the target sees is SI_USER, as for kill(1).
 */
static inline int t_safe_kill(pid_t pid, int sig)
{
	if (pid <= 1 || pid == getpid()) {
		errno = EPERM;
		return -1;
	}
	return kill(pid, sig);
}

/* Milliseconds on the monotonic clock, for bounding waits (never for asserting speed). */
static inline long long t_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A pipe pair used to hold a child until the test releases it. */
struct t_gate {
	int rd, wr;
};
void t_gate_open(struct t_gate *g);
/* In the child: block until the parent opens the gate (or dies). */
void t_gate_wait(struct t_gate *g);
void t_gate_release(struct t_gate *g);

/* Run fn in a forked helper process and return its exit status (for isolation). */
int t_in_subprocess(int (*fn)(void *), void *arg);

/* Drop to an unprivileged uid/gid (65534) with no capabilities. */
void t_drop_privileges(void);

#endif

/*
 * Rule tests: expect tether_clone3() to fail with err and create nothing.
 * Returns false when the native backend is forced on a kernel without the
 * flags (the call then fails with EINVAL for the unknown flag, which proves
 * nothing about the rule itself).
 */
bool t_expect_rejected(uint64_t flags, int exit_signal, int err, const char *what);
/* The matching control: the call succeeds; the child exits at once and is cleaned up. */
bool t_expect_accepted(uint64_t flags, int exit_signal, const char *what);

/* Wait (bounded) until pid has no /proc entry at all: reaped, not a zombie. */
bool t_wait_pid_reaped(pid_t pid, int timeout_ms);

/* Count SIGCHLD deliveries from now on. */
void t_count_sigchld(void);
extern volatile sig_atomic_t t_sigchld_count;

/* A child that waits on the gate, then exits with code. */
pid_t t_clone_gated(uint64_t flags, int exit_signal, int *pidfd, struct t_gate *g, int code);

/* Whether the process stays alive for settle_ms (used for "must not be killed"). */
bool t_stays_alive(int pidfd, int settle_ms);

#define T_AUTOKILL_FLAGS (CLONE_PIDFD_AUTOKILL | CLONE_PIDFD | CLONE_AUTOREAP | CLONE_NNP)

/*
 * An autokill child that sleeps until killed. *watch gets a pidfd from
 * pidfd_open(), which neither keeps it alive nor kills it (B14), to see it die.
 */
pid_t t_autokill_sleeper(uint64_t extra_flags, int *pidfd, int *watch);

/* Whether the process watched by the pidfd dies (SIGKILL) within timeout_ms. */
bool t_dies(int watch, int timeout_ms);

/* Milliseconds a process must stay alive for "not killed" checks. */
#define T_SETTLE_MS 300

/* Skip unless this run emulates the flags (deviation and emulation-design tests). */
void t_require_emulation(uint64_t flags);

/*
 * The emulation's monitors among this process's children (named
 * tether-monitor), up to max; returns how many.
 */
int t_find_monitors(pid_t *out, int max);

/*
 * The only ways a test sends a signal. t_kill() refuses pid <= 1 (and so
 * 0 and every negative "process group" or "everybody" form): as root,
 * kill(-1, SIGKILL) ends every process on the machine. t_killpg() refuses
 * any process group the test did not declare its own with t_own_pgroup().
 * Both fail the test when they refuse; they return kill()'s result.
 */
int t_kill(pid_t pid, int sig);
void t_own_pgroup(pid_t pgid);
int t_killpg(pid_t pgid, int sig);

/* Wait (bounded, 10 s) until this process has no thread but the main one:
 * the emulation's reaper thread ends 50 ms after its last child, and its
 * descriptors with it. Before a snapshot of descriptors or threads. */
void t_settle_threads(void);

/* Wait (bounded) until thread tid of this process is gone. */
bool t_wait_thread_gone(pid_t tid, int timeout_ms);

/* How many fds this process has open. */
int t_count_fds(void);
/* Open descriptors of another process (/proc/PID/fd), or -1. */
int t_count_fds_of(pid_t pid);

/* Live (not zombie) children of this process, up to max; returns how many. */
int t_live_children(pid_t *out, int max);

/*
 * A copy of this test program with the given owner and mode (e.g. 04755
 * root:root, or 02755 root:65534), on a private tmpfs that honours set-id
 * bits whatever /tmp is mounted with. Needs root; the mount lives in a mount
 * namespace of this process's own (unshared here, once).
 */
const char *t_setid_copy_of_self(const char *name, uid_t uid, gid_t gid, mode_t mode);

/* SPDX-License-Identifier: MIT */
/* Raw system calls that Debian 12's glibc does not wrap (or wraps differently). */
#ifndef TETHER_SYSCALLS_H
#define TETHER_SYSCALLS_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFS_MAGIC
#define PIDFS_MAGIC 0x50494446
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/*
 * A system call without the C library, returning -errno: for the first steps
 * of a fork-like child. There each write to memory copies a page the fork
 * shares with the parent, and the C library's wrappers write some (errno,
 * the thread's cancellation state, the GOT on a lazily bound first call).
 */
static inline long raw_syscall5(long nr, long a, long b, long c, long d, long e)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return r;
#elif defined(__aarch64__)
	/* Arguments in x0-x5, the number in x8; the kernel keeps every register
	 * but x0, which carries the result. */
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4)
			 : "memory");
	return x0;
#else
	/* Not the C library's syscall(): it writes errno, which is what must
	 * not happen here (and in the monitor, whose thread pointer is another
	 * thread's). meson.build refuses other architectures before this. */
#error "raw_syscall5: port me to this architecture"
#endif
}

static inline long raw_syscall(long nr, long a, long b, long c)
{
	return raw_syscall5(nr, a, b, c, 0, 0);
}

static inline void raw_close(int fd)
{
	if (fd >= 0)
		raw_syscall(SYS_close, fd, 0, 0);
}

static inline long sys_clone3(struct clone_args *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

static inline int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static inline int sys_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

/* waitid() without glibc's wrapper, so P_PIDFD and __WALL pass untouched. */
static inline int sys_waitid(int idtype, int id, siginfo_t *info, int options)
{
	return (int)syscall(SYS_waitid, idtype, id, info, options, NULL);
}

static inline int sys_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

/*
 * Whether the pidfd's process has ended (the pidfd polls readable),
 * waiting at most timeout_ms (-1: until it has). Retries on EINTR.
 */
static inline bool pidfd_exited(int pidfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int n;

	while ((n = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return n == 1 && (pfd.revents & (POLLIN | POLLHUP));
}

/*
 * Wait for a child of ours to end and reap it, retrying on EINTR (a signal
 * of the caller's without SA_RESTART must not leave a zombie). The one place
 * in the library, outside the monitor's own libc-free code, that reaps by
 * pidfd and blocks; 0 or -errno.
 */
static inline int pidfd_reap(int pidfd, siginfo_t *si)
{
	int r;

	while ((r = sys_waitid(P_PIDFD, pidfd, si, WEXITED | __WALL)) < 0 && errno == EINTR)
		;
	return r < 0 ? -errno : 0;
}

/* SIGKILL a child of ours that must not live on, and reap it: no half-made
 * child and no zombie stays. si (may be NULL): how it ended. */
static inline void pidfd_kill_and_reap(int pidfd, siginfo_t *si)
{
	siginfo_t ignored;

	sys_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	pidfd_reap(pidfd, si ? si : &ignored);
}

/*
 * The same by pid, where no pidfd of it can be had (a descriptor sweep, no
 * descriptor free): only for a child of ours without exit signal that we
 * have not reaped, whose pid stays its own until we do (nobody else gets
 * its exit; only a __WALL wait of the caller's could take it).
 */
static inline void pid_kill_and_reap(pid_t pid, siginfo_t *si)
{
	siginfo_t ignored;

	kill(pid, SIGKILL);
	while (sys_waitid(P_PID, pid, si ? si : &ignored, WEXITED | __WALL) < 0 && errno == EINTR)
		;
}

/* A waitid() result in wait-status form (what waitpid() would have given). */
static inline int status_from_siginfo(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_KILLED:
		return si->si_status & 0x7f;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	}
	return 0;
}

#endif

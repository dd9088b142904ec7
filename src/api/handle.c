/* SPDX-License-Identifier: MIT */
/*
 * struct tether_child: a spawned child, owning its pidfd.
 *
 * The pidfd is the one clone3() returned, so for an autokill child it is
 * the autokill file (natively) or the emulation's record is keyed by it;
 * tether_pidfd_close() drops both. Waiting collects the exit once and keeps
 * it: a child without CLONE_AUTOREAP is reaped with waitid(P_PIDFD), an
 * autoreap child's status comes from PIDFD_GET_INFO (or the emulation).
 *
 * The handle knows its pidfd by identity, not only by number: an
 * application that sweeps its descriptors (close_range(3, ~0U)) takes it,
 * and its next open() may get the same number. Before each use the number
 * is checked to still hold the same file (its pidfs inode, Linux 6.9; before
 * that every pidfd shares one inode, and /proc's fdinfo tells whose it is);
 * a number that holds another file is never signalled, waited on or closed
 * again: the calls answer -EBADF and the release frees only the handle
 * (the emulation's record is released as if the pidfd had been closed).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spawn.h"
#include "syscalls.h"

struct tether_child {
	pthread_mutex_t lock; /* guards the fields below pidfd */
	int pidfd;
	bool pidfd_gone;   /* its number no longer holds the handle's pidfd (set once) */
	dev_t pidfd_dev;   /* the pidfd's identity: pidfs inode (6.9), else the */
	ino_t pidfd_ino;   /* anon inode all pidfds share (then fdinfo decides) */
	pid_t pid;
	uint64_t flags;
	enum tether_backend backend;
	bool ended; /* info is final */
	struct tether_exit_info info;
};

struct tether_child *child_handle_alloc(void)
{
	struct tether_child *c = calloc(1, sizeof(*c));

	if (c) {
		pthread_mutex_init(&c->lock, NULL);
		c->pidfd = -1;
	}
	return c;
}

void child_handle_init(struct tether_child *c, int pidfd, pid_t pid, uint64_t flags, enum tether_backend backend)
{
	struct stat st;

	c->pidfd = pidfd;
	if (fstat(pidfd, &st) == 0) {
		c->pidfd_dev = st.st_dev;
		c->pidfd_ino = st.st_ino;
	}
	c->pid = pid;
	c->flags = flags;
	c->backend = backend;
}

void child_handle_free(struct tether_child *c)
{
	if (c) {
		pthread_mutex_destroy(&c->lock);
		free(c);
	}
}

/*
 * Whether /proc is of our own pid namespace (its fdinfo's "Pid:" is then a
 * pid of ours). Asked once: a process's namespace does not change.
 */
static bool proc_is_ours(void)
{
	static int ours = -1;
	int v = __atomic_load_n(&ours, __ATOMIC_RELAXED);

	if (v < 0) {
		char buf[32];
		ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
		if (n > 0)
			buf[n] = '\0';
		v = n > 0 && strtol(buf, NULL, 10) == getpid();
		__atomic_store_n(&ours, v, __ATOMIC_RELAXED);
	}
	return v;
}

/*
 * The handle's pidfd if its number still holds it, else -EBADF (from then
 * on). Only system calls: async-signal-safe, as tether_child_kill() is.
 * Where the kernel gives pidfds no inode of their own (before 6.9) and /proc
 * cannot say whose pidfd the number holds, it is taken as the handle's.
 */
int child_pidfd(const struct tether_child *child)
{
	struct tether_child *c = (struct tether_child *)child;
	struct stat st;
	bool ours;

	if (__atomic_load_n(&c->pidfd_gone, __ATOMIC_RELAXED))
		return -EBADF;
	ours = fstat(c->pidfd, &st) == 0 && st.st_dev == c->pidfd_dev && st.st_ino == c->pidfd_ino;
	if (ours && !feature_has(TETHER_FEATURE_PIDFS) && proc_is_ours())
		ours = pidfd_fdinfo_names(c->pidfd, c->pid) != 0;
	if (ours)
		return c->pidfd;
	__atomic_store_n(&c->pidfd_gone, true, __ATOMIC_RELAXED);
	return -EBADF;
}

_public_ int tether_child_pidfd(const struct tether_child *child)
{
	PRESERVE_ERRNO;
	return child ? child->pidfd : -EINVAL;
}

_public_ pid_t tether_child_pid(const struct tether_child *child)
{
	PRESERVE_ERRNO;
	return child ? child->pid : -EINVAL;
}

_public_ enum tether_backend tether_child_backend(const struct tether_child *child)
{
	PRESERVE_ERRNO;
	/* AUTO is never a child's: NULL cannot pass for a real answer. */
	return child ? child->backend : TETHER_BACKEND_AUTO;
}

_public_ int tether_child_kill(struct tether_child *child, int sig)
{
	PRESERVE_ERRNO;
	if (!child)
		return -EINVAL;
	/* System calls only: async-signal-safe, and errno is left as it was. */
	int pidfd = child_pidfd(child);
	if (pidfd < 0)
		return pidfd;
	long r = syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
	if (r < 0) {
		int err = errno;
		return -err;
	}
	return 0;
}

_public_ int tether_child_autokill_fd(const struct tether_child *child)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	if (!child)
		return -EINVAL;
	if (!(child->flags & CLONE_PIDFD_AUTOKILL))
		return -ENOENT;
	if (child_pidfd(child) < 0)
		return -EBADF;
	if (child->backend == TETHER_BACKEND_NATIVE)
		return child->pidfd; /* the kernel's autokill file is the pidfd itself */
	return tether_autokill_fd(child->pidfd);
}

static void info_from_status(struct tether_exit_info *info, int status)
{
	info->status = status;
	info->exited = WIFEXITED(status);
	info->exit_code = info->exited ? WEXITSTATUS(status) : 0;
	info->signaled = WIFSIGNALED(status);
	info->signal = info->signaled ? WTERMSIG(status) : 0;
	info->core_dumped = info->signaled && WCOREDUMP(status);
}

/* What the pidfd says about a core dump: only what the kernel (or emulation) filled. */
static void info_add_coredump(struct tether_exit_info *info, const struct tether_pidfd_info *pi)
{
	if (pi->mask & TETHER_PIDFD_INFO_COREDUMP) {
		info->have_coredump_info = true;
		info->coredump_mask = pi->coredump_mask;
	}
	if (pi->mask & TETHER_PIDFD_INFO_COREDUMP_SIGNAL) {
		info->have_coredump_signal = true;
		info->coredump_signal = (int)pi->coredump_signal;
	}
	if (pi->mask & TETHER_PIDFD_INFO_COREDUMP_CODE) {
		info->have_coredump_code = true;
		info->coredump_code = (int)pi->coredump_code;
	}
}

static int pidfd_info(int pidfd, struct tether_pidfd_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->mask = TETHER_PIDFD_INFO_EXIT | TETHER_PIDFD_INFO_COREDUMP;
	return tether_pidfd_get_info(pidfd, pi, sizeof(*pi));
}

/*
 * The exit info of an ended autoreap child. The pidfd polls readable when
 * the process has exited, a moment before its reap stores the exit info
 * (natively) or before the emulation's reaper has reaped it; wait out that
 * moment with short sleeps, bounded.
 */
/* How long autoreap_info() waits for the exit record: the moment between
 * POLLIN and the reap is microseconds natively and one wake-up of the
 * emulation's reaper; 2 s (of 1 ms sleeps) covers a loaded machine, and a
 * record that never comes (a kernel that forgot it) ends in -ENODATA. */
#define EXIT_RECORD_PAUSE_NS (1000 * 1000)
#define EXIT_RECORD_TRIES 2000

static int autoreap_info(struct tether_child *c, struct tether_pidfd_info *pi)
{
	const struct timespec pause = { .tv_nsec = EXIT_RECORD_PAUSE_NS };
	int r;

	for (int tries = 0;; tries++) {
		r = pidfd_info(c->pidfd, pi);
		if (r == 0 && (pi->mask & TETHER_PIDFD_INFO_EXIT))
			return 0;
		if ((r < 0 && r != -ESRCH) || tries >= EXIT_RECORD_TRIES)
			return r < 0 ? r : -ENODATA;
		nanosleep(&pause, NULL);
	}
}

/* The child has ended (its pidfd polled readable): collect how. Under the lock. */
static int collect_locked(struct tether_child *c)
{
	struct tether_pidfd_info pi;
	siginfo_t si = {};
	int r, status;

	if (c->flags & CLONE_AUTOREAP) {
		r = autoreap_info(c, &pi);
		if (r < 0)
			return r;
		status = pi.exit_code;
	} else {
		/* Ask before the reap: a zombie still has its coredump info. */
		if (pidfd_info(c->pidfd, &pi) < 0)
			pi.mask = 0;
		r = pidfd_reap(c->pidfd, &si) < 0 ? -1 : 0;
		if (r == 0 && si.si_pid != 0) {
			status = status_from_siginfo(&si);
		} else if (r < 0 && errno == ECHILD) {
			/* Reaped by someone else (waitpid(-1)): the kernel may still know. */
			if (pidfd_info(c->pidfd, &pi) < 0 || !(pi.mask & TETHER_PIDFD_INFO_EXIT))
				return -ECHILD;
			status = pi.exit_code;
		} else {
			return r < 0 ? negative_errno() : -EIO;
		}
	}
	if (c->backend == TETHER_BACKEND_EMULATE && (c->flags & CLONE_AUTOREAP))
		registry_spawned_ended(c->pidfd); /* its monitor follows it: reap it now */
	memset(&c->info, 0, sizeof(c->info));
	info_from_status(&c->info, status);
	info_add_coredump(&c->info, &pi);
	c->ended = true;
	return 0;
}

/* Poll the pidfd for at most timeout_ms (< 0: forever). */
static int pidfd_wait_readable(int pidfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	struct timespec start, now;
	int left = timeout_ms;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int n = poll(&pfd, 1, left);
		if (n > 0)
			return (pfd.revents & POLLNVAL) ? -EBADF : (pfd.revents & (POLLIN | POLLHUP)) ? 0 : -EIO;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return negative_errno();
		if (timeout_ms >= 0) {
			long long ms;
			clock_gettime(CLOCK_MONOTONIC, &now);
			ms = (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
			left = ms >= timeout_ms ? 0 : timeout_ms - (int)ms;
		}
	}
}

_public_ int tether_child_wait_info(struct tether_child *child, int timeout_ms, struct tether_exit_info *info,
				    size_t size)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	int r;

	if (!child || (info && size < TETHER_EXIT_INFO_SIZE_VER0))
		return -EINVAL;
	pthread_mutex_lock(&child->lock);
	r = child->ended ? 0 : -EAGAIN;
	pthread_mutex_unlock(&child->lock);
	if (r == -EAGAIN && child_pidfd(child) < 0)
		r = -EBADF;
	if (r == -EAGAIN) {
		/* Wait without the lock: tether_child_kill() and other waiters go on. */
		r = pidfd_wait_readable(child->pidfd, timeout_ms);
		if (r == 0) {
			pthread_mutex_lock(&child->lock);
			r = child->ended ? 0 : collect_locked(child);
			pthread_mutex_unlock(&child->lock);
		}
	}
	if (r == 0 && info) {
		/* What both sides know; a larger struct's tail is zeroed (the
		 * kernel's copy_struct_to_user() convention). */
		memcpy(info, &child->info, size < sizeof(child->info) ? size : sizeof(child->info));
		if (size > sizeof(child->info))
			memset((char *)info + sizeof(child->info), 0, size - sizeof(child->info));
	}
	return r;
}

_Static_assert(sizeof(struct tether_exit_info) >= TETHER_EXIT_INFO_SIZE_VER0, "the first version is a prefix");

_public_ int tether_child_wait(struct tether_child *child, int timeout_ms, struct tether_exit_info *info)
{
	PRESERVE_ERRNO;
	/* The 0.1 entry point: callers built against the first layout. */
	return tether_child_wait_info(child, timeout_ms, info, TETHER_EXIT_INFO_SIZE_VER0);
}

_public_ void tether_child_release(struct tether_child *child)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	int saved_errno = errno;

	if (!child)
		return;
	if (child_pidfd(child) < 0) {
		/* Not ours any more: release what the library holds for it, as
		 * if the pidfd had been closed; the number is the application's. */
		pidfd_records_forget(child->pidfd);
		child_handle_free(child);
		errno = saved_errno;
		return;
	}
	if (!child->ended && !(child->flags & CLONE_AUTOREAP)) {
		/* Ended but never waited for: reap it, no zombie stays behind. A live
		 * child goes on; its exit is the process's to wait for. */
		siginfo_t si;
		sys_waitid(P_PIDFD, child->pidfd, &si, WEXITED | WNOHANG | __WALL);
	}
	tether_pidfd_close(child->pidfd);
	child_handle_free(child);
	errno = saved_errno;
}

/* SPDX-License-Identifier: MIT */
/*
 * tether_clone3() on kernels without the lifecycle flags.
 *
 * The call is checked exactly as the kernel would (validate.c), then made
 * with the flags taken out, no exit signal for autoreap children and a pidfd
 * for the library. Whatever must happen inside the child before it runs the
 * caller's code (no_new_privs, arming autokill) happens right after the clone;
 * the child reports the outcome on a pipe and the parent waits for it, so a
 * failure gives the caller an error and never a half-made child.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "emulate.h"
#include "raw_clone.h"
#include "syscalls.h"

/* The child's outcome travels on a pipe: an errno, 0 for success. A child
 * of an emulated CLONE_VFORK keeps its (O_CLOEXEC) end open: its exec or exit
 * closes it, which is what the parent waits for (parent_await_vfork_done()). */
static void child_report(int report_wr, int err, bool keep_open)
{
	long n;

	do /* raw: see raw_syscall() */
		n = raw_syscall(SYS_write, report_wr, (long)&err, sizeof(err));
	while (n == -EINTR);
	if (!keep_open)
		raw_close(report_wr);
}

/* The child's outcome: 0, its errno, or EIO if it died before saying. */
static int parent_await_report(int report_rd, int pidfd)
{
	struct pollfd pfd[2] = { { report_rd, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
	int err;

	for (;;) {
		ssize_t n = read(report_rd, &err, sizeof(err));
		if (n == (ssize_t)sizeof(err))
			return err;
		if (n == 0)
			return EIO;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno;
		/* Not yet: wait for the report or for the child's death, whichever
		 * comes first (a forked sibling may hold the pipe's write end). */
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return errno;
		if ((pfd[1].revents & POLLIN) && !(pfd[0].revents & POLLIN)) {
			n = read(report_rd, &err, sizeof(err));
			return n == (ssize_t)sizeof(err) ? err : EIO;
		}
	}
}

/*
 * CLONE_VFORK with autokill: the kernel would suspend us until the child
 * execs or exits, but the child waits to be armed by us first. So the clone
 * is made without CLONE_VFORK and the suspension happens here, after the
 * arming: until the child's exec or exit closes its end of the report pipe,
 * or it dies (a fork() of another thread's may hold a copy of that end; the
 * child's exit still ends the wait, see tether_clone3(3)).
 */
static void parent_await_vfork_done(int report_rd, int pidfd)
{
	struct pollfd pfd[2] = { { report_rd, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
	char byte;

	for (;;) {
		ssize_t n = read(report_rd, &byte, 1);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return;
		if (pfd[1].revents & POLLIN)
			return;
	}
}

static int sigprocmask_raw(int how, const uint64_t *set, uint64_t *old)
{
	/* Raw: the C library's wrappers leave its internal signals unblocked.
	 * The fourth argument is the kernel's sigset size: anything else is
	 * EINVAL, and then nothing at all is blocked. */
	return (int)raw_syscall5(SYS_rt_sigprocmask, how, (long)set, (long)old, sizeof(*set), 0) < 0 ? -1 : 0;
}

/* One attempt; -1 and errno on failure. */
static pid_t emulate_clone3_once(const struct clone_args *k, size_t size)
{
	struct emulated_child c;
	bool caller_pidfd = k->flags & CLONE_PIDFD;
	bool needs_report = k->flags & (CLONE_NNP | CLONE_PIDFD_AUTOKILL);
	/* The child waits to be armed: a real vfork would deadlock with it. */
	bool vfork_here = (k->flags & CLONE_VFORK) && (k->flags & CLONE_PIDFD_AUTOKILL);
	struct clone_args a = *k;
	int report[2] = { -1, -1 }, own_pidfd = -1, pidfd, own, err, r;
	uint64_t all = ~0ULL, saved;
	pid_t pid;

	a.flags &= ~TETHER_CLONE_FLAGS;
	if (vfork_here)
		a.flags &= ~(uint64_t)CLONE_VFORK;
	if (!caller_pidfd) {
		/* The library needs a pidfd even when the caller wants none. */
		a.flags |= CLONE_PIDFD;
		a.pidfd = (uintptr_t)&own_pidfd;
	}
	/* Non-blocking: a fork() of another thread's may copy the write end, so
	 * only the child's report or its death may end the parent's wait, never
	 * the pipe's end of file (parent_await_report()). */
	if (needs_report && pipe2(report, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	r = emulated_child_prepare(&c, k->flags, true);
	if (r < 0) {
		safe_close(report[0]);
		safe_close(report[1]);
		errno = -r;
		return -1;
	}

	/*
	 * Every signal blocked across the clone: no handler of the caller's
	 * runs in the child before its set-up (no_new_privs first, SPEC B9);
	 * it gets the caller's mask back once set up. The registry lock is
	 * held so that the child inherits a consistent registry.
	 */
	sigprocmask_raw(SIG_SETMASK, &all, &saved);
	registry_lock();
	pid = (pid_t)clone3_or_clone(&a, size < sizeof(a) ? size : sizeof(a), feature_has(TETHER_FEATURE_CLONE3));
	if (pid == 0) {
		err = -emulated_child_setup(&c);
		registry_forget_in_child();
		monitor_atfork_child();
		if (needs_report) {
			raw_close(report[0]);
			child_report(report[1], err, vfork_here && err == 0);
		}
		if (err == 0)
			err = -emulated_child_await_armed(&c);
		if (err)
			raw_syscall(SYS_exit_group, 127, 0, 0);
		sigprocmask_raw(SIG_SETMASK, &saved, NULL);
		return 0;
	}
	err = errno;
	registry_unlock();
	sigprocmask_raw(SIG_SETMASK, &saved, NULL);
	safe_close(report[1]);
	if (pid < 0) {
		emulated_child_abort(&c, -1);
		safe_close(report[0]);
		errno = err;
		return -1;
	}
	safe_close(c.arm_rd); /* the child's end */
	c.arm_rd = -1;

	pidfd = caller_pidfd ? *(int *)(uintptr_t)k->pidfd : own_pidfd;
	err = needs_report ? parent_await_report(report[0], pidfd) : 0;
	if (err == 0)
		err = -emulated_child_arm(&c, pid);
	if (err == 0 && vfork_here)
		parent_await_vfork_done(report[0], pidfd);
	safe_close(report[0]);
	if (err == 0 && (k->flags & CLONE_AUTOREAP)) {
		/* The reaper keeps its own reference: the caller may close theirs. */
		own = caller_pidfd ? fcntl(pidfd, F_DUPFD_CLOEXEC, 3) : own_pidfd;
		r = own < 0 ? negative_errno() : emulated_child_commit(&c, pid, caller_pidfd ? pidfd : -1, own);
		if (r < 0 && caller_pidfd)
			safe_close(own);
		err = -r;
	}
	if (err) {
		emulated_child_abort(&c, pidfd);
		close(pidfd);
		errno = err;
		return -1;
	}
	emulated_child_release(&c);
	if (!(k->flags & CLONE_AUTOREAP) && !caller_pidfd)
		close(own_pidfd);
	return pid;
}

pid_t emulate_clone3(const struct clone_args *k, size_t size)
{
	/* Cancelled half-way, the call would leave a half-made child. */
	NO_CANCELLATION;
	int r = lifecycle_flags_validate(k);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	/*
	 * The child sets itself up in C right after the clone, which needs our
	 * stack and our fd table as a fork gives them: a child sharing our
	 * memory or our fds, or starting on a stack of the caller's (where it
	 * would run the caller's code before the setup), cannot be made this
	 * way. Vfork-style spawning is tether_spawn's.
	 */
	if ((k->flags & (CLONE_VM | CLONE_FILES)) || k->stack) {
		errno = EINVAL;
		return -1;
	}
	if (!feature_has(TETHER_FEATURE_WAITID_PIDFD)) {
		errno = ENOSYS;
		return -1;
	}
	return emulate_clone3_once(k, size);
}

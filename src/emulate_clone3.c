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
#include <sys/prctl.h>

#include "emulate.h"
#include "syscalls.h"

struct child_plan {
	bool nnp;
	int warden_sock; /* autokill: where to arm, else -1 */
	int handle_rd, handle_wr;
	int report_rd, report_wr; /* the child's outcome: an errno, 0 for success */
};

static void child_report(const struct child_plan *p, int err)
{
	ssize_t n;

	do
		n = write(p->report_wr, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(p->report_wr);
}

/* In the child, before any code of the caller's. Returns only on success. */
static void child_setup(const struct child_plan *p, bool shares_memory)
{
	int err = 0;

	if (p->report_rd >= 0)
		close(p->report_rd);
	if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = errno;
	if (!err && p->warden_sock >= 0) {
		close(p->handle_wr); /* the child must never keep itself alive */
		err = -warden_arm_from_child(p->warden_sock, p->handle_rd);
		close(p->handle_rd);
	}
	if (!shares_memory)
		registry_forget_in_child();
	if (p->report_wr >= 0)
		child_report(p, err);
	if (err)
		_exit(127);
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

static void plan_close(struct child_plan *p)
{
	safe_close(p->handle_rd);
	safe_close(p->handle_wr);
	safe_close(p->report_rd);
	safe_close(p->report_wr);
}

pid_t emulate_clone3(const struct clone_args *k, size_t size)
{
	struct child_plan plan = { .warden_sock = -1, .handle_rd = -1, .handle_wr = -1,
				   .report_rd = -1, .report_wr = -1 };
	bool autoreap = k->flags & CLONE_AUTOREAP, autokill = k->flags & CLONE_PIDFD_AUTOKILL;
	bool caller_pidfd = k->flags & CLONE_PIDFD, shares_memory = k->flags & CLONE_VM;
	struct clone_args a = *k;
	int own_pidfd = -1, pidfd, err, r;
	pid_t pid;

	r = lifecycle_flags_validate(k);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (!feature_has(TETHER_FEATURE_CLONE3 | TETHER_FEATURE_WAITID_PIDFD)) {
		errno = ENOSYS;
		return -1;
	}

	a.flags &= ~TETHER_CLONE_FLAGS;
	if (!caller_pidfd) {
		/* The library needs a pidfd even when the caller wants none. */
		a.flags |= CLONE_PIDFD;
		a.pidfd = (uintptr_t)&own_pidfd;
	}
	plan.nnp = k->flags & CLONE_NNP;
	if (plan.nnp || autokill) {
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) < 0)
			return -1;
		plan.report_rd = fds[0];
		plan.report_wr = fds[1];
	}

	/* Held across the clone so the child inherits a consistent registry. */
	registry_lock();
	if (autokill) {
		int fds[2];
		r = warden_socket_locked();
		if (r < 0 || pipe2(fds, O_CLOEXEC) < 0) {
			err = r < 0 ? -r : errno;
			if (r >= 0)
				warden_child_closed_locked();
			registry_unlock();
			plan_close(&plan);
			errno = err;
			return -1;
		}
		plan.warden_sock = r;
		plan.handle_rd = fds[0];
		plan.handle_wr = fds[1];
	}
	pid = (pid_t)sys_clone3(&a, size < sizeof(a) ? size : sizeof(a));
	if (pid == 0) {
		child_setup(&plan, shares_memory);
		return 0;
	}
	err = errno;
	if (pid < 0) {
		if (autokill)
			warden_child_closed_locked();
		registry_unlock();
		plan_close(&plan);
		errno = err;
		return -1;
	}
	registry_unlock();

	pidfd = caller_pidfd ? *(int *)(uintptr_t)k->pidfd : own_pidfd;
	safe_close(plan.report_wr);
	plan.report_wr = -1;
	safe_close(plan.handle_rd);
	plan.handle_rd = -1;

	err = plan.report_rd >= 0 ? parent_await_report(plan.report_rd, pidfd) : 0;
	if (err == 0 && autoreap) {
		int own = caller_pidfd ? fcntl(pidfd, F_DUPFD_CLOEXEC, 3) : own_pidfd;
		registry_lock();
		r = own < 0 ? negative_errno()
			    : registry_add_locked(caller_pidfd ? pidfd : -1, own, plan.handle_wr, autokill);
		registry_unlock();
		if (r == 0)
			plan.handle_wr = -1; /* the registry owns both now */
		else if (caller_pidfd)
			safe_close(own);
		err = -r;
	}
	if (err) {
		/* No half-made child: it dies here and is reaped here. */
		siginfo_t si;
		sys_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		sys_waitid(P_PIDFD, pidfd, &si, WEXITED | __WALL);
		if (autokill && plan.handle_wr >= 0) {
			registry_lock();
			warden_child_closed_locked();
			registry_unlock();
		}
		close(pidfd);
		plan_close(&plan);
		errno = err;
		return -1;
	}
	if (!autoreap && !caller_pidfd)
		close(own_pidfd);
	plan_close(&plan);
	return pid;
}

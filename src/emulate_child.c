/* SPDX-License-Identifier: MIT */
/*
 * One emulated child's lifecycle, shared by every way of creating one
 * (tether_clone3's fork-like children, and vfork-style spawning): what the
 * parent prepares before the clone, what the child does before it runs any
 * code of the caller's, and what the parent does after.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>

#include "emulate.h"
#include "syscalls.h"

int emulated_child_prepare_locked(struct emulated_child *c, uint64_t flags)
{
	int fds[2], r;

	*c = (struct emulated_child){ .flags = flags, .warden_sock = -1, .handle_rd = -1, .handle_wr = -1 };
	if (!(flags & CLONE_PIDFD_AUTOKILL))
		return 0;
	r = warden_socket_locked(&c->warden_gen);
	if (r < 0)
		return r;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = negative_errno();
		warden_child_gone_locked(c->warden_gen);
		return r;
	}
	c->warden_sock = r;
	c->handle_rd = fds[0];
	c->handle_wr = fds[1];
	return 0;
}

int emulated_child_prepare(struct emulated_child *c, uint64_t flags)
{
	int r;

	registry_lock();
	r = emulated_child_prepare_locked(c, flags);
	registry_unlock();
	return r;
}

int emulated_child_setup(const struct emulated_child *c)
{
	long r;

	/* Raw system calls: see raw_syscall(). */
	if ((c->flags & CLONE_NNP) && (r = raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0)) < 0)
		return (int)r;
	if (c->flags & CLONE_PIDFD_AUTOKILL) {
		raw_close(c->handle_wr); /* the child must never keep itself alive */
		r = warden_arm_from_child(c->warden_sock, c->handle_rd);
		raw_close(c->handle_rd);
		if (r < 0)
			return (int)r;
	}
	return 0;
}

void emulated_child_parent_after_clone(struct emulated_child *c)
{
	/* The read end went to the child, which passes it to the warden. */
	safe_close(c->handle_rd);
	c->handle_rd = -1;
}

int emulated_child_commit(struct emulated_child *c, int caller_fd, int own_fd)
{
	int r = 0;

	if (c->flags & CLONE_AUTOREAP) {
		registry_lock();
		r = registry_add_locked(caller_fd, own_fd, c->handle_wr, c->warden_gen);
		registry_unlock();
		if (r == 0)
			c->handle_wr = -1; /* the registry owns it now */
	}
	return r;
}

void emulated_child_abort(struct emulated_child *c, int pidfd)
{
	if (pidfd >= 0) {
		/* No half-made child: it dies here and is reaped here. */
		siginfo_t si;
		sys_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		sys_waitid(P_PIDFD, pidfd, &si, WEXITED | __WALL);
	}
	safe_close(c->handle_rd);
	c->handle_rd = -1;
	if (c->handle_wr >= 0) {
		/* Never committed: the child is gone without the registry knowing it. */
		close(c->handle_wr);
		c->handle_wr = -1;
		registry_lock();
		warden_child_gone_locked(c->warden_gen);
		registry_unlock();
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * One emulated fork-like child's lifecycle (tether_clone3): what the parent
 * prepares before the clone, what the child does before it runs any code of
 * the caller's, and what the parent does after. Spawned children with
 * CLONE_AUTOREAP have a monitor as their parent instead (monitor.c); with
 * CLONE_NNP alone they use emulated_child_setup() only.
 *
 * Fork-like autokill: the handle is a pipe's write end; its read end goes to
 * a monitor in watch mode, which kills the child when it hangs up. The child
 * runs none of the caller's code before the monitor is there: after its
 * report it waits on a second pipe for the parent's "armed"; if the parent
 * dies first, the pipe's end of file ends the child.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>

#include "emulate.h"
#include "syscalls.h"

int emulated_child_prepare(struct emulated_child *c, uint64_t flags, bool fork_like)
{
	int fds[2];

	*c = (struct emulated_child){ .flags = flags, .handle_rd = -1, .handle_wr = -1, .arm_rd = -1, .arm_wr = -1 };
	if (!(flags & CLONE_PIDFD_AUTOKILL))
		return 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return negative_errno();
	c->handle_rd = fds[0];
	c->handle_wr = fds[1];
	if (fork_like) {
		/* The read end is non-blocking: see emulated_child_await_armed(). */
		if (pipe2(fds, O_CLOEXEC) < 0) {
			int r = negative_errno();
			emulated_child_release(c);
			return r;
		}
		c->arm_rd = fds[0];
		c->arm_wr = fds[1];
		if (fcntl(c->arm_rd, F_SETFL, O_NONBLOCK) < 0) {
			int r = negative_errno();
			emulated_child_release(c);
			return r;
		}
	}
	return 0;
}

int emulated_child_setup(const struct emulated_child *c)
{
	long r;

	/* Raw system calls: see raw_syscall(). */
	if ((c->flags & CLONE_NNP) && (r = raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0)) < 0)
		return (int)r;
	if (c->flags & CLONE_PIDFD_AUTOKILL) {
		/* The child must never keep itself alive, nor hold what is the
		 * monitor's; its end of the arming pipe must see the parent go. */
		raw_close(c->handle_wr);
		raw_close(c->handle_rd);
		raw_close(c->arm_wr);
	}
	return 0;
}

int emulated_child_await_armed(const struct emulated_child *c)
{
	struct pollfd pfd[2] = { { c->arm_rd, POLLIN, 0 }, { -1, POLLIN, 0 } };
	long ppid, n;
	char byte;

	if (c->arm_rd < 0)
		return 0;
	/*
	 * The parent's death must end the wait, not the pipe's end of file: a
	 * fork() of another of its threads may hold a copy of the write end
	 * for as long as that sibling lives. So watch the parent's pidfd too
	 * (opened, then checked against getppid() again: a parent that died
	 * before the open has left us to a subreaper).
	 */
	ppid = raw_syscall(SYS_getppid, 0, 0, 0);
	n = raw_syscall(SYS_pidfd_open, ppid, 0, 0);
	if (n >= 0 && raw_syscall(SYS_getppid, 0, 0, 0) != ppid) {
		raw_close((int)n);
		raw_close(c->arm_rd);
		return -EPIPE;
	}
	pfd[1].fd = n >= 0 ? (int)n : -1;
	for (;;) {
		n = raw_syscall(SYS_read, c->arm_rd, (long)&byte, 1);
		if (n != -EAGAIN && n != -EINTR)
			break;
		if (pfd[1].fd >= 0 && (pfd[1].revents & POLLIN) && !(pfd[0].revents & POLLIN)) {
			n = -EPIPE; /* the parent is gone and said nothing */
			break;
		}
		raw_syscall5(SYS_ppoll, (long)pfd, 2, 0, 0, 8);
	}
	raw_close(pfd[1].fd);
	raw_close(c->arm_rd);
	return n == 1 ? 0 : n < 0 ? (int)n : -EPIPE;
}

int emulated_child_arm(struct emulated_child *c, pid_t pid)
{
	char byte = 1;
	int r;

	if (!(c->flags & CLONE_PIDFD_AUTOKILL))
		return 0;
	r = monitor_watch(&c->mon, pid, c->handle_rd, c->flags);
	if (r < 0)
		return r;
	ssize_t n;

	while ((n = write(c->arm_wr, &byte, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return negative_errno();
	safe_close(c->arm_wr);
	c->arm_wr = -1;
	return 0;
}

int emulated_child_commit(struct emulated_child *c, pid_t pid, int caller_fd, int own_fd)
{
	int r = 0;

	if (c->flags & CLONE_AUTOREAP) {
		registry_lock();
		r = registry_add_locked(pid, caller_fd, own_fd, c->handle_wr, c->handle_rd, c->mon);
		registry_unlock();
		if (r == 0) {
			c->handle_wr = c->handle_rd = -1; /* the registry owns them now */
			c->mon = NULL;
		}
	}
	return r;
}

void emulated_child_release(struct emulated_child *c)
{
	safe_close(c->handle_rd);
	safe_close(c->handle_wr);
	safe_close(c->arm_rd);
	safe_close(c->arm_wr);
	c->handle_rd = c->handle_wr = c->arm_rd = c->arm_wr = -1;
	if (c->mon) {
		monitor_free(c->mon); /* its child is dead or dies: it ends too */
		c->mon = NULL;
	}
}

void emulated_child_abort(struct emulated_child *c, int pidfd)
{
	if (pidfd >= 0) {
		/* No half-made child: it dies here and is reaped here. */
		pidfd_kill_and_reap(pidfd, NULL);
	}
	emulated_child_release(c);
}

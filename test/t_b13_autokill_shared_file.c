/* SPDX-License-Identifier: MIT */
/*
 * B13: dup(), inheritance across fork() and SCM_RIGHTS share the one autokill
 * file: each reference extends the child's life until the last one goes.
 * tether_autokill_fd() names that file (the pidfd itself natively).
 */
#include <sys/socket.h>

#include "harness.h"

static void check_dup(void)
{
	int pidfd, watch;
	t_autokill_sleeper(0, &pidfd, &watch);
	int file = tether_autokill_fd(pidfd);
	T_ASSERT(file >= 0, "tether_autokill_fd: %s", strerror(-file));
	int copy = dup(file);
	T_ASSERT(copy >= 0, "dup");
	tether_pidfd_close(pidfd);
	T_ASSERT(t_stays_alive(watch, T_SETTLE_MS), "killed although a dup() was open");
	close(copy);
	T_ASSERT(t_dies(watch, 10000), "not killed when the dup() was closed");
	close(watch);
	t_info("dup(): kept alive, killed at its close");
}

static void check_fork(void)
{
	int pidfd, watch, status;
	struct t_gate g;
	t_autokill_sleeper(0, &pidfd, &watch);
	t_gate_open(&g);
	pid_t holder = fork(); /* inherits every fd, the autokill file included */
	if (holder == 0) {
		t_gate_wait(&g);
		_exit(0);
	}
	close(g.rd);
	tether_pidfd_close(pidfd);
	T_ASSERT(t_stays_alive(watch, T_SETTLE_MS), "killed although a forked process holds the file");
	t_gate_release(&g);
	T_ASSERT(waitpid(holder, &status, 0) == holder, "waitpid holder");
	T_ASSERT(t_dies(watch, 10000), "not killed when the forked holder exited");
	close(watch);
	t_info("fork(): kept alive by the forked holder, killed at its exit");
}

static void check_scm_rights(void)
{
	int sv[2], pidfd, watch, status;
	char byte = 0;
	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	/* The receiver exists before the child, so it inherits nothing of it. */
	pid_t receiver = fork();
	if (receiver == 0) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &byte, 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		close(sv[0]);
		if (recvmsg(sv[1], &msg, 0) != 1)
			_exit(1);
		(void)!read(sv[1], &byte, 1); /* hold it until told to let go */
		_exit(0);
	}
	close(sv[1]);
	t_autokill_sleeper(0, &pidfd, &watch);
	int file = tether_autokill_fd(pidfd);
	T_ASSERT(file >= 0, "tether_autokill_fd: %s", strerror(-file));
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &file, sizeof(int));
	T_ASSERT(sendmsg(sv[0], &msg, 0) == 1, "sendmsg: %s", strerror(errno));
	tether_pidfd_close(pidfd);
	T_ASSERT(t_stays_alive(watch, T_SETTLE_MS), "killed although another process received the file");
	T_ASSERT(write(sv[0], "x", 1) == 1, "tell the receiver");
	T_ASSERT(waitpid(receiver, &status, 0) == receiver && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "receiver failed");
	T_ASSERT(t_dies(watch, 10000), "not killed when the receiver let go");
	close(sv[0]);
	close(watch);
	t_info("SCM_RIGHTS: kept alive by the receiver, killed when it exited");
}

int main(void)
{
	t_require_flags(T_AUTOKILL_FLAGS);
	check_dup();
	check_fork();
	check_scm_rights();
	t_pass("dup, fork and SCM_RIGHTS share the autokill file (%s backend)", t_backend_word(T_AUTOKILL_FLAGS));
}

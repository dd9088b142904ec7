/* SPDX-License-Identifier: MIT */
/*
 * A caller with autoreap children forks: the forked process starts with none
 * of them (it is not their parent) and can make and reap its own, while the
 * original caller still reaps its children and gets their statuses.
 */
#include "harness.h"

static int in_forked_process(void *arg)
{
	int pidfd = -1;
	(void)arg;
	pid_t pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
	if (pid == 0)
		_exit(12);
	if (pid < 0 || !t_pidfd_wait_readable(pidfd, 10000))
		return 1;
	if (!t_wait_pid_reaped(pid, 10000))
		return 2;
	int st = t_pidfd_exit_status(pidfd);
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 12 ? 0 : 3;
}

int main(void)
{
	struct t_gate g;
	int pidfd = -1;

	t_require_flags(CLONE_AUTOREAP);
	t_gate_open(&g);
	pid_t pid = t_clone_gated(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd, &g, 11);
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(g.rd);
	int status = t_in_subprocess(in_forked_process, NULL); /* fork() with our child alive */
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "forked process: step %d failed", WEXITSTATUS(status));
	t_info("the forked process made and reaped its own autoreap child");
	t_gate_release(&g);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "our child did not exit");
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "our child was not reaped after the fork");
	int st = t_pidfd_exit_status(pidfd);
	T_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 11, "status %d", st);
	tether_pidfd_close(pidfd);
	t_pass("fork() of the caller: both sides reap their own children (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

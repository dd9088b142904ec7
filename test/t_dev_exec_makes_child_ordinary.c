/* SPDX-License-Identifier: MIT */
/*
 * Deviation "exec": execve() resets a process's exit signal to SIGCHLD, so an
 * emulated autoreap child that execs is an ordinary child from then on: its
 * exit sends SIGCHLD to the parent, and a wait(-1) of the parent's could
 * reap it. Pinned here: the SIGCHLD arrives, and when nobody else waits,
 * tether's reaper still reaps it (no zombie) and its status is still there.
 */
#include "harness.h"

int main(int argc, char **argv)
{
	int pidfd = -1;

	if (argc > 1 && strcmp(argv[1], "--exit-6") == 0)
		return 6;
	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	t_count_sigchld();
	pid_t pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
	if (pid == 0) {
		char *args[] = { "t_dev_exec", "--exit-6", NULL };
		execv("/proc/self/exe", args);
		_exit(127);
	}
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "did not exit");
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "left a zombie");
	T_ASSERT(t_sigchld_count == 1, "expected the one SIGCHLD of the deviation, got %d", (int)t_sigchld_count);
	int st = t_pidfd_exit_status(pidfd);
	T_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 6, "status %d", st);
	tether_pidfd_close(pidfd);
	t_pass("after exec: SIGCHLD reached the parent; tether still reaped it and kept exit 6");
}

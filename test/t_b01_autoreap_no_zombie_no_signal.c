/* SPDX-License-Identifier: MIT */
/* B1: an autoreap child never lingers as a zombie, sends no exit signal, and wait() cannot see it. */
#include "harness.h"

int main(void)
{
	struct t_gate g;
	int pidfd = -1, status;
	siginfo_t si = {};

	t_require_flags(CLONE_AUTOREAP);
	t_count_sigchld();
	t_gate_open(&g);
	pid_t pid = t_clone_gated(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd, &g, 3);
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(g.rd);
	T_ASSERT(waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD, "waitpid on the live child: not ECHILD");
	t_gate_release(&g);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "child did not exit");
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "child stayed in /proc (state %c) after exit", t_proc_state(pid));
	T_ASSERT(waitpid(pid, &status, 0) < 0 && errno == ECHILD, "waitpid: expected ECHILD");
	T_ASSERT(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG) < 0 && errno == ECHILD, "waitid: expected ECHILD");
	T_ASSERT(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD, "waitpid(-1): expected ECHILD");
	T_ASSERT(t_sigchld_count == 0, "%d SIGCHLD delivered", (int)t_sigchld_count);
	tether_pidfd_close(pidfd);
	t_pass("reaped on exit, no SIGCHLD, waitpid/waitid give ECHILD (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

/* SPDX-License-Identifier: MIT */
/*
 * Deviation "__WALL": an emulated autoreap child is a child without an exit
 * signal. wait(-1), waitpid() and waitid() without __WALL/__WCLONE cannot see
 * it (B1), but a wait with __WALL can, and then it takes the status first.
 */
#include "harness.h"

int main(void)
{
	struct t_gate g;
	int pidfd = -1, status;

	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	t_gate_open(&g);
	pid_t pid = t_clone_gated(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd, &g, 4);
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(g.rd);
	T_ASSERT(waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD, "visible without __WALL");
	siginfo_t si = {};
	T_ASSERT(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0,
		 "not visible with __WALL: %s", strerror(errno));
	t_info("waitid(__WALL) sees the live child");
	t_gate_release(&g);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "did not exit");
	tether_pidfd_close(pidfd);
	t_pass("emulated autoreap children are visible to __WALL waits only");
}

/* SPDX-License-Identifier: MIT */
/* B2: CLONE_AUTOREAP works without CLONE_PIDFD: fire and forget. */
#include "harness.h"

int main(void)
{
	int fds[2], status;
	char c = 0;

	t_require_flags(CLONE_AUTOREAP);
	t_count_sigchld();
	if (pipe(fds) < 0)
		t_fail("pipe");
	pid_t pid = t_clone(CLONE_AUTOREAP, 0, NULL);
	if (pid == 0) {
		(void)!write(fds[1], "x", 1);
		_exit(0);
	}
	T_ASSERT(pid > 0, "tether_clone3 without CLONE_PIDFD: %s", strerror(errno));
	close(fds[1]);
	T_ASSERT(read(fds[0], &c, 1) == 1 && c == 'x', "child did not run");
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "child not reaped (state %c)", t_proc_state(pid));
	T_ASSERT(waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD, "waitpid: expected ECHILD");
	T_ASSERT(t_sigchld_count == 0, "SIGCHLD delivered");
	t_pass("fire-and-forget child ran and was reaped (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

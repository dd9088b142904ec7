/* SPDX-License-Identifier: MIT */
/* B4: autoreap is a property of one child: siblings stay waitable, SIGCHLD's disposition is untouched. */
#include "harness.h"

int main(void)
{
	struct sigaction before, after;
	int pidfd = -1, status;

	t_require_flags(CLONE_AUTOREAP);
	t_count_sigchld();
	sigaction(SIGCHLD, NULL, &before);
	pid_t reaped = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
	if (reaped == 0)
		_exit(0);
	T_ASSERT(reaped > 0, "autoreap child: %s", strerror(errno));
	pid_t plain = fork();
	if (plain == 0)
		_exit(9);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "autoreap child did not exit");
	T_ASSERT(t_wait_pid_reaped(reaped, 10000), "autoreap child not reaped");
	T_ASSERT(waitpid(plain, &status, 0) == plain, "ordinary sibling not waitable: %s", strerror(errno));
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 9, "sibling status %#x", status);
	T_ASSERT(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD, "another child visible to wait");
	sigaction(SIGCHLD, NULL, &after);
	T_ASSERT(before.sa_handler == after.sa_handler && before.sa_flags == after.sa_flags,
		 "SIGCHLD disposition changed");
	T_ASSERT(t_sigchld_count == 1, "expected exactly the sibling's SIGCHLD, got %d", (int)t_sigchld_count);
	tether_pidfd_close(pidfd);
	t_pass("sibling waitable, one SIGCHLD (the sibling's), disposition unchanged (%s backend)",
	       t_backend_word(CLONE_AUTOREAP));
}

/* SPDX-License-Identifier: MIT */
/* B10: a child created without CLONE_NNP (autoreap or not) does not get no_new_privs. */
#include "harness.h"

int main(void)
{
	int status, pidfd = -1;

	T_ASSERT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0, "the test itself already has no_new_privs");
	pid_t pid = t_clone(0, SIGCHLD, NULL);
	if (pid == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	T_ASSERT(pid > 0 && waitpid(pid, &status, 0) == pid, "plain child");
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "plain child has no_new_privs");

	t_require_flags(CLONE_AUTOREAP);
	pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
	if (pid == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 ? 0 : 1);
	T_ASSERT(pid > 0, "autoreap child: %s", strerror(errno));
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "autoreap child did not exit");
	status = t_pidfd_exit_status(pidfd);
	tether_pidfd_close(pidfd);
	if (status < 0)
		t_skip("no exit info on this kernel to read the autoreap child's verdict (%s)", strerror(-status));
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "autoreap child without CLONE_NNP has no_new_privs");
	t_pass("no no_new_privs without CLONE_NNP, plain or autoreap (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

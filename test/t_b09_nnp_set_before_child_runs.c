/* SPDX-License-Identifier: MIT */
/* B9: a CLONE_NNP child has no_new_privs before it runs any code of its own; the parent's flag is unchanged. */
#include "harness.h"

int main(void)
{
	static const uint64_t variants[] = { CLONE_NNP, CLONE_NNP | CLONE_AUTOREAP | CLONE_PIDFD };
	int status;

	t_require_flags(CLONE_NNP);
	T_ASSERT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0, "the test itself already has no_new_privs");
	for (size_t i = 0; i < 2; i++) {
		int pidfd = -1;
		bool autoreap = variants[i] & CLONE_AUTOREAP;
		pid_t pid = t_clone(variants[i], autoreap ? 0 : SIGCHLD, &pidfd);
		if (pid == 0) /* the first thing the child does */
			_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
		T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
		if (autoreap) {
			T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "child did not exit");
			status = t_pidfd_exit_status(pidfd);
			tether_pidfd_close(pidfd);
			if (status < 0) {
				t_info("autoreap variant: no exit info on this kernel (%s)", strerror(-status));
				continue;
			}
		} else {
			T_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
		}
		T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "variant %zu: child ran without no_new_privs", i);
		t_info("variant %zu: PR_GET_NO_NEW_PRIVS == 1 in the child", i);
	}
	T_ASSERT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0, "the parent's no_new_privs changed");
	t_pass("child had no_new_privs from its first instruction; parent unchanged (%s backend)",
	       t_backend_word(CLONE_NNP));
}

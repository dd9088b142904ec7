/* SPDX-License-Identifier: MIT */
/* B7: autoreap is not inherited: the autoreap child's own children are ordinary. */
#include "harness.h"

static int child(void *arg)
{
	int status;
	(void)arg;
	pid_t g = fork();
	if (g == 0)
		_exit(3);
	if (g < 0 || waitpid(g, &status, 0) != g)
		return 10;
	return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? 0 : 11;
}

int main(void)
{
	int pidfd = -1;

	t_require_flags(CLONE_AUTOREAP);
	pid_t pid = t_clone_fn(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd, child, NULL);
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "child did not exit");
	int st = t_pidfd_exit_status(pidfd);
	if (st == -ENOTTY || st == -ENODATA)
		t_skip("kernel keeps no exit info to read the child's verdict");
	T_ASSERT(st >= 0 && WIFEXITED(st), "no exit status: %d", st);
	T_ASSERT(WEXITSTATUS(st) == 0, "grandchild was not an ordinary waitable child (code %d)", WEXITSTATUS(st));
	tether_pidfd_close(pidfd);
	t_pass("the grandchild was waitable with its status (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

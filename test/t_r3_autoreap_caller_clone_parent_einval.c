/* SPDX-License-Identifier: MIT */
/* R3: a caller that is itself an autoreap process cannot use CLONE_PARENT (any flags). */
#include "harness.h"

static int report_fd;

/* Runs inside the autoreap child: try CLONE_PARENT and report each errno. */
static int try_clone_parent(void *arg)
{
	static const uint64_t variants[] = { CLONE_PARENT, CLONE_PARENT | CLONE_PIDFD, CLONE_PARENT | CLONE_NNP };
	(void)arg;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		int pidfd = -1, err = 0;
		pid_t pid = t_clone(variants[i], 0, &pidfd);
		if (pid == 0)
			_exit(0);
		err = pid < 0 ? errno : 0;
		if (write(report_fd, &err, sizeof(err)) != sizeof(err))
			return 2;
	}
	return 0;
}

/* The control: an ordinary process may use CLONE_PARENT. */
static int control(void *arg)
{
	(void)arg;
	pid_t pid = t_clone(CLONE_PARENT, 0, NULL);
	if (pid == 0)
		_exit(0);
	return pid > 0 ? 0 : 1;
}

int main(void)
{
	int fds[2], pidfd = -1, err;
	siginfo_t si;

	t_require_flags(CLONE_AUTOREAP);
	if (pipe2(fds, O_CLOEXEC) < 0)
		t_fail("pipe2");
	report_fd = fds[1];
	pid_t pid = t_clone_fn(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd, try_clone_parent, NULL);
	T_ASSERT(pid > 0, "creating the autoreap child: %s", strerror(errno));
	close(fds[1]);
	for (int i = 0; i < 3; i++) {
		T_ASSERT(read(fds[0], &err, sizeof(err)) == sizeof(err), "child did not report variant %d", i);
		T_ASSERT(err == EINVAL, "variant %d: CLONE_PARENT from an autoreap child gave %s, expected EINVAL", i,
			 err ? strerror(err) : "success");
	}
	t_info("CLONE_PARENT, CLONE_PARENT|PIDFD, CLONE_PARENT|NNP from an autoreap child: EINVAL");
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "autoreap child did not exit");
	tether_pidfd_close(pidfd);

	/* Control, in a plain child so the CLONE_PARENT sibling is ours to reap. */
	T_ASSERT(t_in_subprocess(control, NULL) == 0, "control: CLONE_PARENT from an ordinary process failed");
	while (waitid(P_ALL, 0, &si, WEXITED | __WALL) == 0)
		;
	t_pass("R3 holds (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

/* SPDX-License-Identifier: MIT */
/*
 * Create a child that reaps itself and runs with no_new_privs, on any kernel,
 * and say what happened and which backend served it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tether.h>

int main(void)
{
	const __u64 flags = CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD;
	int pidfd = -1, status;
	struct clone_args args = { .flags = flags, .pidfd = (__u64)(uintptr_t)&pidfd, .exit_signal = 0 };
	struct tether_pidfd_info info = { .mask = TETHER_PIDFD_INFO_EXIT };
	unsigned int features = tether_features();

	printf("tether %s; kernel has:", tether_version());
	for (unsigned int bit = 1; bit & TETHER_FEATURE_ALL; bit <<= 1)
		if (features & bit)
			printf(" %s", tether_feature_name(bit));
	printf("\n");

	pid_t pid = tether_clone3(&args, sizeof(args));
	if (pid < 0) {
		fprintf(stderr, "tether_clone3: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		/* The child: report no_new_privs through the exit code. */
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 7 : 1);
	}
	printf("child %d created by the %s backend (CLONE_AUTOREAP|CLONE_NNP|CLONE_PIDFD)\n", pid,
	       tether_backend_name(tether_backend_for(flags)));

	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	poll(&pfd, 1, -1);
	printf("pidfd polled readable: the child exited\n");
	if (waitpid(pid, &status, 0) < 0)
		printf("waitpid(%d): %s (it reaped itself; no zombie)\n", pid, strerror(errno));
	int r = tether_pidfd_get_info(pidfd, &info, sizeof(info));
	if (r == 0 && (info.mask & TETHER_PIDFD_INFO_EXIT))
		printf("exit status from the pidfd: exited with %d%s\n", WEXITSTATUS(info.exit_code),
		       WEXITSTATUS(info.exit_code) == 7 ? " (no_new_privs was set in the child)" : "");
	else
		printf("no exit status: %s\n", r ? strerror(-r) : "not reported");
	tether_pidfd_close(pidfd);
	return 0;
}

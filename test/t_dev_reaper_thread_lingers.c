/* SPDX-License-Identifier: MIT */
/*
 * Deviation "library thread": natively an autoreap child costs its parent
 * no thread. Emulated, one reaper thread lives while such children do and
 * for 50 ms after the last one is reaped; meanwhile a call that needs a
 * single-threaded process, unshare(CLONE_NEWUSER), fails with EINVAL. The
 * thread then ends by itself, and with it that restriction.
 */
#include <sched.h>

#include "harness.h"

int main(void)
{
	struct tether_pidfd_info info = { .mask = TETHER_PIDFD_INFO_EXIT };
	int pidfd = -1;

	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	T_ASSERT(t_status_field(getpid(), "Threads") == 1, "threaded before the first child");
	pid_t pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
	if (pid == 0)
		_exit(7);
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "did not exit");
	T_ASSERT(tether_pidfd_get_info(pidfd, &info, sizeof(info)) == 0 && (info.mask & TETHER_PIDFD_INFO_EXIT) &&
		 WEXITSTATUS(info.exit_code) == 7, "exit status");
	tether_pidfd_close(pidfd);

	/* Reaped, and the reaper still there: it waits for a next child. */
	long threads = t_status_field(getpid(), "Threads");
	if (threads == 2) {
		errno = 0;
		T_ASSERT(unshare(CLONE_NEWUSER) < 0 && errno == EINVAL,
			 "unshare(CLONE_NEWUSER) with the reaper alive: %s, expected EINVAL", strerror(errno));
		t_info("right after the reap: 2 threads, unshare(CLONE_NEWUSER) fails with EINVAL");
	} else {
		/* A slow machine may have let the 50 ms pass already. */
		t_info("the reaper had ended already (%ld thread(s))", threads);
	}
	t_settle_threads();
	T_ASSERT(t_status_field(getpid(), "Threads") == 1, "the reaper thread did not end");
	if (unshare(CLONE_NEWUSER) == 0)
		t_info("then single-threaded again: unshare(CLONE_NEWUSER) works");
	else
		t_info("then single-threaded again; unshare(CLONE_NEWUSER): %s (user namespaces restricted here)",
		       strerror(errno));
	t_pass("the emulation's reaper thread outlives the last child by a moment, then ends");
}

/* SPDX-License-Identifier: MIT */
/*
 * A program with a lot of thread-local data (128 KiB of __thread) uses the
 * emulation: the library's threads are sized from the program's TLS (the C
 * library's default stack), so they neither fail (a fixed 64 KiB stack gave
 * EINVAL) nor overflow.
 */
#include <pthread.h>

#include "harness.h"

#define BIG_TLS (128 * 1024)

static __thread char big[BIG_TLS];

int main(void)
{
	t_require_flags(CLONE_AUTOREAP);
	big[0] = 1;
	big[BIG_TLS - 1] = 1;
	for (int i = 0; i < 20; i++) {
		int pidfd = -1;
		pid_t pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
		if (pid == 0)
			_exit(big[0] + 2);
		T_ASSERT(pid > 0, "tether_clone3 with %d KiB of TLS: %s", BIG_TLS / 1024, strerror(errno));
		T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "the child did not exit");
		T_ASSERT(t_wait_pid_reaped(pid, 10000), "the child was not reaped");
		int st = t_pidfd_exit_status(pidfd);
		T_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %d", st);
		tether_pidfd_close(pidfd);
		if (i % 5 == 4)
			t_settle_threads(); /* the reaper ends: the next child starts a new one */
	}
	t_pass("20 autoreap children with %d KiB of TLS (%s backend)", BIG_TLS / 1024, t_backend_word(CLONE_AUTOREAP));
}

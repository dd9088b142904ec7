/* SPDX-License-Identifier: MIT */
/* B14: a pidfd from pidfd_open() is a different file: closing it neither kills the child nor keeps it alive. */
#include "harness.h"

int main(void)
{
	int pidfd, watch;

	t_require_flags(T_AUTOKILL_FLAGS);
	pid_t pid = t_autokill_sleeper(0, &pidfd, &watch);
	int other = t_pidfd_open(pid);
	T_ASSERT(other >= 0, "pidfd_open: %s", strerror(errno));
	close(other);
	T_ASSERT(t_stays_alive(watch, T_SETTLE_MS), "closing a pidfd_open() pidfd killed the child");
	t_info("closing a pidfd_open() pidfd: child lives");
	other = t_pidfd_open(pid); /* held open across the last close of the clone3 pidfd */
	T_ASSERT(other >= 0, "pidfd_open: %s", strerror(errno));
	tether_pidfd_close(pidfd);
	T_ASSERT(t_dies(watch, 10000), "an open pidfd_open() pidfd kept the child alive");
	t_info("an open pidfd_open() pidfd does not keep it alive");
	close(other);
	close(watch);
	t_pass("other pidfds are other files (%s backend)", t_backend_word(T_AUTOKILL_FLAGS));
}

/* SPDX-License-Identifier: MIT */
/* R1: CLONE_AUTOREAP with a non-zero exit_signal is EINVAL. */
#include "harness.h"

int main(void)
{
	bool judged = t_expect_rejected(CLONE_AUTOREAP, SIGCHLD, EINVAL, "AUTOREAP, exit_signal=SIGCHLD");
	judged &= t_expect_rejected(CLONE_AUTOREAP | CLONE_PIDFD, SIGUSR1, EINVAL, "AUTOREAP|PIDFD, exit_signal=SIGUSR1");
	judged &= t_expect_accepted(CLONE_AUTOREAP | CLONE_PIDFD, 0, "AUTOREAP|PIDFD, exit_signal=0");
	if (!judged)
		t_require_flags(CLONE_AUTOREAP);
	t_pass("R1 holds");
}

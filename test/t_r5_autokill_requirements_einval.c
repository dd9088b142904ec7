/* SPDX-License-Identifier: MIT */
/* R5: CLONE_PIDFD_AUTOKILL needs CLONE_PIDFD and CLONE_AUTOREAP and refuses CLONE_THREAD. */
#include "harness.h"

int main(void)
{
	const uint64_t ak = CLONE_PIDFD_AUTOKILL | CLONE_NNP;
	bool judged = t_expect_rejected(ak | CLONE_AUTOREAP, 0, EINVAL, "AUTOKILL without PIDFD");
	judged &= t_expect_rejected(ak | CLONE_PIDFD, 0, EINVAL, "AUTOKILL without AUTOREAP");
	judged &= t_expect_rejected(ak | CLONE_PIDFD, SIGCHLD, EINVAL, "AUTOKILL without AUTOREAP, SIGCHLD");
	judged &= t_expect_rejected(CLONE_PIDFD_AUTOKILL | CLONE_PIDFD | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0,
				    EINVAL, "AUTOKILL|PIDFD|THREAD|SIGHAND|VM");
	judged &= t_expect_accepted(ak | CLONE_PIDFD | CLONE_AUTOREAP, 0, "AUTOKILL|PIDFD|AUTOREAP|NNP");
	if (!judged)
		t_require_flags(CLONE_PIDFD_AUTOKILL);
	t_pass("R5 holds");
}

/* SPDX-License-Identifier: MIT */
/* R4: CLONE_NNP with CLONE_THREAD is EINVAL (threads share credentials). */
#include "harness.h"

int main(void)
{
	bool judged = t_expect_rejected(CLONE_NNP | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, EINVAL,
					"NNP|THREAD|SIGHAND|VM");
	judged &= t_expect_accepted(CLONE_NNP, SIGCHLD, "NNP alone");
	if (!judged)
		t_require_flags(CLONE_NNP);
	t_pass("R4 holds");
}

/* SPDX-License-Identifier: MIT */
/* R2: CLONE_AUTOREAP with CLONE_THREAD or with CLONE_PARENT is EINVAL. */
#include "harness.h"

int main(void)
{
	bool judged = t_expect_rejected(CLONE_AUTOREAP | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, EINVAL,
					"AUTOREAP|THREAD|SIGHAND|VM");
	judged &= t_expect_rejected(CLONE_AUTOREAP | CLONE_PARENT, 0, EINVAL, "AUTOREAP|PARENT");
	judged &= t_expect_rejected(CLONE_AUTOREAP | CLONE_PARENT | CLONE_PIDFD, 0, EINVAL, "AUTOREAP|PARENT|PIDFD");
	if (!judged)
		t_require_flags(CLONE_AUTOREAP);
	t_pass("R2 holds");
}

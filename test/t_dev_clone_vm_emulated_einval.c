/* SPDX-License-Identifier: MIT */
/*
 * Deviation "CLONE_VM": the emulation sets a child up in C after the clone,
 * which cannot work for a child sharing the caller's memory and running on
 * a stack of its own; tether_clone3 refuses the combination with EINVAL (the
 * kernel would accept it). tether_spawn is the vfork-style way.
 */
#include "harness.h"

int main(void)
{
	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	T_ASSERT(t_expect_rejected(CLONE_AUTOREAP | CLONE_PIDFD | CLONE_VM, 0, EINVAL, "AUTOREAP|PIDFD|VM"),
		 "not judged");
	T_ASSERT(t_expect_rejected(CLONE_NNP | CLONE_VM | CLONE_VFORK, SIGCHLD, EINVAL, "NNP|VM|VFORK"),
		 "not judged");
	t_pass("emulated lifecycle flags with CLONE_VM: EINVAL, nothing created");
}

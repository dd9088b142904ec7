/* SPDX-License-Identifier: MIT */
/*
 * Deviation "newer flags" (R0): the emulation rejects every clone flag tether
 * does not know with EINVAL, even one the running kernel knows (7.2's
 * CLONE_EMPTY_MNTNS, bit 37), because it cannot vouch for how that flag
 * combines with the emulated ones. Natively the kernel decides.
 */
#include "harness.h"

int main(void)
{
	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	T_ASSERT(t_expect_rejected(CLONE_AUTOREAP | CLONE_PIDFD | (1ULL << 37), 0, EINVAL, "AUTOREAP|PIDFD|bit 37"),
		 "not judged");
	t_pass("emulation: flags unknown to tether are EINVAL whatever the kernel knows");
}

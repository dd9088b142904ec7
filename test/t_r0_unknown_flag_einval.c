/* SPDX-License-Identifier: MIT */
/* R0: a flag bit the implementation does not know fails the whole call with EINVAL. */
#include "harness.h"

int main(void)
{
	const uint64_t unknown = 1ULL << 40;
	bool judged = true;

	judged &= t_expect_rejected(unknown, SIGCHLD, EINVAL, "unknown bit 40 alone");
	judged &= t_expect_rejected(CLONE_AUTOREAP | unknown, 0, EINVAL, "AUTOREAP|bit 40");
	judged &= t_expect_rejected(CLONE_NNP | unknown, SIGCHLD, EINVAL, "NNP|bit 40");
	judged &= t_expect_rejected(CLONE_PIDFD | CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL | (1ULL << 63), 0,
				    EINVAL, "AUTOKILL set|bit 63");
	(void)judged; /* unknown bits are rejected by every kernel and backend alike */
	t_pass("unknown clone flags are rejected with EINVAL");
}

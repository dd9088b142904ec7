/* SPDX-License-Identifier: MIT */
/*
 * R6: CLONE_PIDFD_AUTOKILL without CLONE_NNP needs CAP_SYS_ADMIN: an
 * unprivileged caller gets EPERM; with CLONE_NNP it is allowed.
 */
#include "harness.h"

#define AK (CLONE_PIDFD_AUTOKILL | CLONE_PIDFD | CLONE_AUTOREAP)

static int unprivileged(void *arg)
{
	(void)arg;
	t_drop_privileges();
	t_expect_rejected(AK, 0, EPERM, "unprivileged AUTOKILL without NNP");
	t_expect_accepted(AK | CLONE_NNP, 0, "unprivileged AUTOKILL with NNP");
	return 0;
}

int main(void)
{
	t_require_flags(AK);
	if (geteuid() != 0)
		t_skip("needs root to test both sides of the capability check");
	t_expect_accepted(AK, 0, "root (CAP_SYS_ADMIN) AUTOKILL without NNP");
	int status = t_in_subprocess(unprivileged, NULL);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unprivileged half failed");
	t_pass("R6 holds (%s backend)", t_backend_word(AK));
}

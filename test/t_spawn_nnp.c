/* SPDX-License-Identifier: MIT */
/*
 * CLONE_NNP through tether_spawn(): the program starts with no_new_privs
 * (also with autoreap); without the flag it does not; the caller's own flag
 * is unchanged.
 */
#include "spawn_common.h"

static int nnp_of(uint64_t flags)
{
	struct tether_spawn_attr *attr = ts_attr_flags(flags);
	struct tether_child *c;
	struct tether_exit_info info;
	int r = ts_spawn_self(&c, NULL, attr, "nnp", NULL);

	T_ASSERT(r == 0, "spawn (flags %#llx): %s", (unsigned long long)flags, strerror(-r));
	info = ts_wait(c, "nnp");
	tether_child_release(c);
	tether_spawn_attr_destroy(attr);
	T_ASSERT(info.exited, "nnp child did not exit normally (status %#x)", info.status);
	return info.exit_code;
}

int main(int argc, char **argv)
{
	ts_child_dispatch(argc, argv);
	t_require_flags(CLONE_NNP);
	T_ASSERT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0, "the test already has no_new_privs");
	T_ASSERT(nnp_of(0) == 0, "no_new_privs without CLONE_NNP");
	T_ASSERT(nnp_of(CLONE_NNP) == 1, "no no_new_privs with CLONE_NNP");
	t_info("CLONE_NNP: the program has no_new_privs; without it, not");
	if (t_native_without(CLONE_AUTOREAP)) {
		t_info("CLONE_NNP|CLONE_AUTOREAP: not checked (native backend, kernel without autoreap)");
	} else {
		T_ASSERT(nnp_of(CLONE_NNP | CLONE_AUTOREAP) == 1, "no no_new_privs with CLONE_NNP|CLONE_AUTOREAP");
		T_ASSERT(nnp_of(CLONE_AUTOREAP) == 0, "no_new_privs with CLONE_AUTOREAP alone");
		t_info("the same with CLONE_AUTOREAP");
	}
	T_ASSERT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0, "the caller's no_new_privs changed");
	ts_assert_no_children("end");
	t_pass("spawned CLONE_NNP children run with no_new_privs (%s backend)", t_backend_word(CLONE_NNP));
}

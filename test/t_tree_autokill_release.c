/* SPDX-License-Identifier: MIT */
/*
 * With CLONE_PIDFD_AUTOKILL, tether_child_release() of the last reference
 * to the handle kills the whole tree, not just its root: a setsid() +
 * double-fork daemon dies with it (the 7.1 kernel's autokill would leave it).
 */
#include "tree_common.h"

#define FLAGS (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, FLAGS);
	for (int i = 0; i < n; i++) {
		pid_t pids[2];
		int out, z;
		struct tether_child *c = tt_spawn(mech[i], FLAGS, "daemon", NULL, &out);

		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		T_ASSERT(tt_count_marked(tt_mark(), &z) == 2 && z == 0, "%s: the root and the daemon run",
			 tt_name(mech[i]));
		tether_child_release(c);
		tt_assert_none_left(tt_mark(), "release of the handle");
		close(out);
		t_info("%s: the release of the handle killed the tree", tt_name(mech[i]));
	}
	t_pass("the last release of an autokill handle kills the whole tree");
}

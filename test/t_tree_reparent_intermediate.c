/* SPDX-License-Identifier: MIT */
/*
 * A process whose parent (a short-lived intermediate) exited at once is
 * re-parented to the tree's monitor, not to init: it is killed with the
 * tree, and the intermediate never stays a zombie.
 */
#include "tree_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, 0);
	for (int i = 0; i < n; i++) {
		pid_t pids[2];
		int out, z;
		struct tether_child *c = tt_spawn(mech[i], 0, "reparent", NULL, &out);

		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		/* The grandchild says its pid after its parent has gone. */
		T_ASSERT(tt_count_marked(tt_mark(), &z) == 2, "%s: expected the root and the re-parented grandchild",
			 tt_name(mech[i]));
		T_ASSERT(z == 0, "%s: the intermediate stayed a zombie", tt_name(mech[i]));
		tt_kill_and_check(c, tt_name(mech[i]));
		close(out);
		tether_child_release(c);
	}
	t_pass("a process re-parented through a short-lived intermediate stays in the tree");
}

/* SPDX-License-Identifier: MIT */
/*
 * tether_child_terminate() on a tree's root is the deadline of the whole
 * tree: the signal reaches every member (a daemon outside the root's
 * process group too), the grace is the tree's, and members that ignore the
 * signal are killed when it has passed (return 1); nothing is left, and
 * *info is the root's.
 */
#include "tree_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, 0);
	for (int i = 0; i < n; i++) {
		struct tether_exit_info info;
		pid_t pids[2];
		int out, r, z;
		struct tether_child *c = tt_spawn(mech[i], 0, "daemon", NULL, &out);

		/* Members that die of SIGTERM: within the grace. */
		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		r = tether_child_terminate(c, SIGTERM, 20000, &info);
		T_ASSERT(r == 0, "%s: terminate returned %d, expected 0 (ended within the grace)", tt_name(mech[i]), r);
		T_ASSERT(info.signaled && info.signal == SIGTERM, "%s: the root did not die of SIGTERM", tt_name(mech[i]));
		T_ASSERT(tt_count_marked(tt_mark(), &z) == 0, "%s: %d members (%d zombies) outlived the SIGTERM",
			 tt_name(mech[i]), tt_count_marked(tt_mark(), &z), z);
		close(out);
		tether_child_release(c);

		/* Members that ignore it: killed once the grace has passed. */
		c = tt_spawn(mech[i], 0, "noterm-daemon", NULL, &out);
		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		r = tether_child_terminate(c, SIGTERM, 500, &info);
		T_ASSERT(r == 1, "%s: terminate returned %d, expected 1 (killed after the grace)", tt_name(mech[i]), r);
		T_ASSERT(info.signaled && info.signal == SIGKILL, "%s: the root did not die of SIGKILL", tt_name(mech[i]));
		T_ASSERT(tt_count_marked(tt_mark(), &z) == 0, "%s: %d members (%d zombies) outlived the SIGKILL",
			 tt_name(mech[i]), tt_count_marked(tt_mark(), &z), z);
		close(out);
		tether_child_release(c);
		t_info("%s: the grace and the kill were the whole tree's", tt_name(mech[i]));
	}
	t_pass("tether_child_terminate() ends the whole tree: signal, the tree's grace, then SIGKILL");
}

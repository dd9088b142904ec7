/* SPDX-License-Identifier: MIT */
/*
 * A shell's "nohup cmd &": a member that ignores SIGHUP, in a process group
 * of its own, outlives the root (the script ends). It is still the tree's:
 * listed, the tree not gone, a SIGHUP to the tree leaves it be, and the kill
 * ends it.
 */
#include "tree_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, 0);
	for (int i = 0; i < n; i++) {
		pid_t pids[2], listed[4];
		int out, k, z;
		struct tether_child *c = tt_spawn(mech[i], 0, "nohup", NULL, &out);
		struct tether_exit_info info = ts_wait(c, "root");

		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		T_ASSERT(info.exited && info.exit_code == 0, "%s: the root ended with code 0", tt_name(mech[i]));
		pid_t bg = pids[0] == tether_child_pid(c) ? pids[1] : pids[0];
		T_ASSERT(getpgid(bg) == bg, "%s: the background member leads a group of its own", tt_name(mech[i]));
		T_ASSERT(tether_child_kill_tree(c, SIGHUP) == 0, "%s: kill_tree(SIGHUP)", tt_name(mech[i]));
		usleep(T_SETTLE_MS * 1000);
		T_ASSERT(tether_child_wait_tree(c, 0) == -ETIMEDOUT, "%s: the tree ended with its root",
			 tt_name(mech[i]));
		k = tether_child_tree_pids(c, listed, 4);
		T_ASSERT(k == 1 && listed[0] == bg, "%s: %d members listed, expected the background one (%d)",
			 tt_name(mech[i]), k, (int)bg);
		T_ASSERT(tt_count_marked(tt_mark(), &z) == 1 && z == 0, "%s: the background member runs",
			 tt_name(mech[i]));
		tt_kill_and_check(c, tt_name(mech[i]));
		close(out);
		tether_child_release(c);
	}
	t_pass("a nohup'd background member outlives the root and dies with the tree");
}

/* SPDX-License-Identifier: MIT */
/*
 * tether_child_wait() reports the root's own exit while the rest of the
 * tree lives on; tether_child_wait_tree() waits for the whole tree; the
 * root is never a zombie.
 */
#include "tree_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, 0);
	for (int i = 0; i < n; i++) {
		pid_t pids[2], listed[4];
		int out, k;
		struct tether_child *c = tt_spawn(mech[i], 0, "exit-after", "7", &out);
		struct tether_exit_info info = ts_wait(c, "root");

		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		T_ASSERT(info.exited && info.exit_code == 7, "%s: root's status: exited %d code %d signal %d",
			 tt_name(mech[i]), info.exited, info.exit_code, info.signal);
		T_ASSERT(t_wait_pid_reaped(tether_child_pid(c), 10000), "%s: the root stays a zombie", tt_name(mech[i]));
		T_ASSERT(tether_child_wait_tree(c, 100) == -ETIMEDOUT, "%s: the tree ended with its root",
			 tt_name(mech[i]));
		k = tether_child_tree_pids(c, listed, 4);
		T_ASSERT(k == 1, "%s: %d members listed, expected the daemon alone", tt_name(mech[i]), k);
		tt_kill_and_check(c, tt_name(mech[i]));
		info = ts_wait(c, "root, again");
		T_ASSERT(info.exited && info.exit_code == 7, "%s: the status changed after the kill", tt_name(mech[i]));
		close(out);
		tether_child_release(c);
	}
	t_pass("the root's status comes as soon as it exits; the tree ends when its last member does");
}

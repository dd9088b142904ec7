/* SPDX-License-Identifier: MIT */
/* A member under another uid (nobody) is killed with the tree (as root). */
#include "tree_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, 0);
	if (geteuid() != 0)
		t_skip("needs root to start a member under another uid");
	for (int i = 0; i < n; i++) {
		pid_t pids[2];
		int out;
		struct tether_child *c = tt_spawn(mech[i], 0, "otheruid", NULL, &out);

		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		pid_t other = pids[0] == tether_child_pid(c) ? pids[1] : pids[0];
		T_ASSERT(t_status_field(other, "Uid") == 65534, "%s: the member runs as uid 65534", tt_name(mech[i]));
		tt_kill_and_check(c, tt_name(mech[i]));
		close(out);
		tether_child_release(c);
	}
	t_pass("a member under another uid dies with the tree");
}

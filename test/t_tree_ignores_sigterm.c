/* SPDX-License-Identifier: MIT */
/*
 * tether_child_kill_tree(SIGTERM) reaches every member; members that ignore
 * it live on; SIGKILL then ends them all.
 */
#include "tree_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, 0);
	for (int i = 0; i < n; i++) {
		pid_t pids[2];
		int out, z, r;
		struct tether_child *c = tt_spawn(mech[i], 0, "noterm", NULL, &out);
		struct tether_tree_stats st;

		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		r = tether_child_kill_tree(c, SIGTERM);
		T_ASSERT(r == 0, "%s: kill_tree(SIGTERM): %s", tt_name(mech[i]), strerror(-r));
		T_ASSERT(tether_child_tree_stats(c, &st) == 0 && st.signalled >= 2, "%s: SIGTERM reached %u members",
			 tt_name(mech[i]), st.signalled);
		usleep(T_SETTLE_MS * 1000);
		T_ASSERT(tt_count_marked(tt_mark(), &z) == 2 && z == 0, "%s: members ignoring SIGTERM died of it",
			 tt_name(mech[i]));
		T_ASSERT(tether_child_wait_tree(c, 0) == -ETIMEDOUT, "%s: the tree is not gone", tt_name(mech[i]));
		tt_kill_and_check(c, tt_name(mech[i]));
		close(out);
		tether_child_release(c);
	}
	t_pass("SIGTERM reaches every member, SIGKILL ends those that ignore it");
}

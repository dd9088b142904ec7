/* SPDX-License-Identifier: MIT */
/*
 * 200 processes fork without pause while the tree is killed: the kill goes
 * on until none is left (a pending SIGKILL makes fork() fail), and nothing
 * of the tree survives, alive or zombie.
 */
#include "tree_common.h"

#define STORM 200

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	tt_child_dispatch(argc, argv);
	ts_child_dispatch(argc, argv);
	n = tt_mechanisms(mech);
	for (int i = 0; i < n; i++) {
		static pid_t pids[STORM];
		int out;
		struct tether_child *c = tt_spawn(mech[i], 0, "storm", "200", &out);

		int got = tt_read_pids(out, pids, STORM);
		if (got != STORM) {
			tether_child_kill_tree(c, SIGKILL); /* never leave a storm behind */
			t_fail("%s: the storm did not start (%d of %d)", tt_name(mech[i]), got, STORM);
		}
		tt_kill_and_check(c, tt_name(mech[i]));
		close(out);
		tether_child_release(c);
	}
	t_pass("a fork storm of %d processes is killed to the last process", STORM);
}

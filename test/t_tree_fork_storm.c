/* SPDX-License-Identifier: MIT */
/*
 * A bounded fork storm: 200 processes (50 in the VMs and under the memory
 * checkers) that all fork without pause while the tree is killed. The kill
 * goes on until none is left (a pending SIGKILL makes fork() fail), and
 * nothing of the tree survives, alive or zombie, for each mechanism.
 *
 * The storm starts only once every member is set up, and the kill only once
 * every member has forked at least once: the kill meets a storm at full
 * strength, and no spinning process waits for the rest to start.
 */
#include "tree_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	const int storm = (int)t_scaled(200, 50);
	char arg[16];
	int n;

	n = tt_start(argc, argv, mech, 0);
	snprintf(arg, sizeof(arg), "%d", storm);
	for (int i = 0; i < n; i++) {
		static pid_t pids[TT_MAX];
		int out, in, got;
		struct tether_child *c = tt_spawn_io(mech[i], 0, "storm", arg, &out, &in);

		got = tt_read_pids(out, pids, storm);
		if (got == storm) {
			T_ASSERT(write(in, "!", 1) == 1, "letting the storm go");
			/* Every member but the root says its pid again after its first fork. */
			got = tt_read_pids(out, pids, storm - 1) + 1;
		}
		if (got != storm) {
			tether_child_kill_tree(c, SIGKILL); /* never leave a storm behind */
			t_fail("%s: the storm did not start (%d of %d)", tt_name(mech[i]), got, storm);
		}
		tt_kill_and_check(c, tt_name(mech[i]));
		close(out);
		close(in);
		tether_child_release(c);
	}
	t_pass("a fork storm of %d processes is killed to the last process", storm);
}

/* SPDX-License-Identifier: MIT */
/*
 * tether_child_kill_tree(SIGTERM) reaches the children of a root that dies
 * of it at once. Such children come to the tree's reaper (the monitor, a
 * child subreaper) while the walk is reading the root's list of children:
 * one walk, all that SIGKILL needs (a process with SIGKILL pending cannot
 * fork any more), missed them in about half the trees. So every member of
 * each of ROUNDS trees (the root and FAN-1 children, none ignoring SIGTERM)
 * must die of the one SIGTERM, for each mechanism; the test SIGKILLs the
 * rest only to clean up, after counting.
 */
#include "tree_common.h"

#define ROUNDS 20 /* t_scaled() in the VMs and under the memory checkers */
#define FAN 4

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	const long rounds = t_scaled(ROUNDS, 5);
	int n = tt_start(argc, argv, mech, 0);

	for (int i = 0; i < n; i++) {
		for (long k = 0; k < rounds; k++) {
			pid_t pids[FAN];
			int out, left = 0, z = 0, r;
			char fan[8];
			struct tether_child *c;

			snprintf(fan, sizeof(fan), "%d", FAN);
			c = tt_spawn(mech[i], 0, "fan", fan, &out);
			T_ASSERT(tt_read_pids(out, pids, FAN) == FAN, "%s: the tree did not start", tt_name(mech[i]));
			r = tether_child_kill_tree(c, SIGTERM);
			T_ASSERT(r == 0, "%s: kill_tree(SIGTERM): %s", tt_name(mech[i]), strerror(-r));
			for (long long end = t_now_ms() + 5000; t_now_ms() < end; usleep(5 * 1000))
				if ((left = tt_count_marked(tt_mark(), &z)) == z)
					break;
			T_ASSERT(left == z, "%s, tree %ld: %d of its %d processes outlived the SIGTERM",
				 tt_name(mech[i]), k + 1, left - z, FAN);
			tt_kill_and_check(c, tt_name(mech[i]));
			close(out);
			tether_child_release(c);
		}
		t_info("%s: %ld trees of %d, every process died of the one SIGTERM", tt_name(mech[i]), rounds, FAN);
	}
	t_pass("tether_child_kill_tree(SIGTERM) reaches the children of a root that dies of it at once");
}

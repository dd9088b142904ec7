/* SPDX-License-Identifier: MIT */
/*
 * A daemon made the classic way (fork, setsid(), fork, the middle process
 * exits) is still a member of the tree: listed, and killed with it, for each
 * mechanism on its own, and counted among the processes the kill met.
 * Nothing is left: no member, no zombie, no cgroup.
 */
#include "tree_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, 0);
	for (int i = 0; i < n; i++) {
		pid_t pids[2], listed[16];
		int out, k;
		bool found = false;
		struct tether_child *c = tt_spawn(mech[i], 0, "daemon", NULL, &out);

		T_ASSERT(tether_child_tree(c) == mech[i], "%s: tree served by %s", tt_name(mech[i]),
			 tt_name(tether_child_tree(c)));
		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the daemon did not start", tt_name(mech[i]));
		pid_t daemon = pids[0] == tether_child_pid(c) ? pids[1] : pids[0];
		T_ASSERT(getsid(daemon) > 0 && getsid(daemon) != getsid(tether_child_pid(c)),
			 "the daemon is in a session of its own");
		k = tether_child_tree_pids(c, listed, 16);
		for (int j = 0; j < k && j < 16; j++)
			found |= listed[j] == daemon;
		T_ASSERT(found, "%s: the daemon (pid %d) is not listed among the %d members", tt_name(mech[i]),
			 (int)daemon, k);
		tt_kill_and_check(c, tt_name(mech[i]));
		{
			struct tether_tree_stats st;
			T_ASSERT(tether_child_tree_stats(c, &st) == 0 && st.processes_at_kill == 2,
				 "%s: %u processes when killed, expected the root and the daemon", tt_name(mech[i]),
				 st.processes_at_kill);
		}
		close(out);
		tether_child_release(c);
	}
	t_pass("a setsid() + double-fork daemon belongs to the tree and dies with it");
}

/* SPDX-License-Identifier: MIT */
/*
 * tether run --tree --timeout --kill-after: members that ignore the
 * deadline's SIGTERM, a daemon outside the command's process group among
 * them, are killed with the tree's SIGKILL once --kill-after has passed
 * (half a second: the members ignore SIGTERM from the start, so nothing
 * needs longer);
 * tether exits 137 and nothing of the tree is left.
 */
#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	struct tc_cli t[2];
	pid_t pids[2];
	int n, z;

	ttc_dispatch(argc, argv);
	tt_flagless_one_pass(); /* no --autokill, no --nnp */
	n = tt_mechanisms(mech);
	/* Both mechanisms at once: the deadlines run out together. */
	for (int i = 0; i < n; i++)
		ttc_start(&t[i], pids, 2, "run", ttc_tree_option(mech[i]), "--timeout", ttc_deadline(), "--kill-after",
			  "0.5", "--", TS_SELF, "child", "tree-noterm-daemon", tt_mark(), NULL);
	for (int i = 0; i < n; i++) {
		int status = ttc_wait(&t[i]);
		T_ASSERT(status == 137, "%s: tether exited %d, expected 137", tt_name(mech[i]), status);
	}
	/* tether's SIGKILL to the tree returns once the tree is gone. */
	T_ASSERT(tt_count_marked(tt_mark(), &z) == 0, "%d members (%d zombies) outlived tether",
		 tt_count_marked(tt_mark(), &z), z);
	t_pass("--kill-after kills the whole tree, members that ignore SIGTERM too (%s)",
	       n == 2 ? "cgroup and subreaper" : tt_name(mech[0]));
}

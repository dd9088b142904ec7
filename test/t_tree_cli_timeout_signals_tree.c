/* SPDX-License-Identifier: MIT */
/*
 * tether run --tree --timeout: the deadline's signal goes to the whole
 * tree, not just the command's process group: a daemon that left the group
 * (setsid() + double fork) gets the SIGTERM too and dies of it; tether
 * exits 124 as timeout(1) does.
 */
#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	struct tc_cli t[2];
	pid_t pids[2];
	int n;

	ttc_dispatch(argc, argv);
	tt_flagless_one_pass(); /* no --autokill, no --nnp */
	n = tt_mechanisms(mech);
	/* Both mechanisms at once: the deadlines run out together. */
	for (int i = 0; i < n; i++)
		ttc_start(&t[i], pids, 2, "run", ttc_tree_option(mech[i]), "--timeout", ttc_deadline(), "--", TS_SELF,
			  "child", "tree-daemon", tt_mark(), NULL);
	for (int i = 0; i < n; i++) {
		int status = ttc_wait(&t[i]);
		T_ASSERT(status == EXIT_TIMEDOUT, "%s: tether exited %d, expected 124", tt_name(mech[i]), status);
	}
	tt_assert_none_left(tt_mark(), "the deadline's SIGTERM");
	t_pass("--timeout signals the whole tree (%s)", n == 2 ? "cgroup and subreaper" : tt_name(mech[0]));
}

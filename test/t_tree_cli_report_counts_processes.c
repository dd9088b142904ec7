/* SPDX-License-Identifier: MIT */
/*
 * tether run --tree --autokill --report=json: once the command exits, the
 * rest of its tree (a setsid() + double-fork daemon) dies with tether's
 * handle, and the report, written after that, says how many processes the
 * kill met (the daemon: 1), which mechanism held the tree and, for the
 * cgroup, that its directory is gone. tether exits with the command's
 * status and nothing of the tree is left.
 */
#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	ttc_dispatch(argc, argv);
	n = tt_mechanisms(mech);
	for (int i = 0; i < n; i++) {
		const char *name = tt_name(mech[i]);
		char out[256], err[8192], want[64];
		struct tc_cli t;
		pid_t pids[1];
		int status;

		/* No pid is read: the root exits once the daemon exists, and the
		 * daemon may be killed before it says its pid. */
		ttc_start(&t, pids, 0, "run", ttc_tree_option(mech[i]), "--autokill", "--report=json", "--", TS_SELF,
			  "child", "tree-exit-after", tt_mark(), "5", NULL);
		status = tc_finish(&t, out, sizeof(out), err, sizeof(err));
		T_ASSERT(status == 5, "%s: tether exited %d, expected the command's 5; it said: %s", name, status, err);
		tt_assert_none_left(tt_mark(), name);
		snprintf(want, sizeof(want), "\"mechanism\":\"%s\"", name);
		T_ASSERT(strstr(err, want), "%s: no %s in the report: %s", name, want, err);
		T_ASSERT(strstr(err, "\"processes_at_kill\":1,"), "%s: the report does not count the daemon: %s", name,
			 err);
		if (mech[i] == TETHER_TREE_CGROUP)
			T_ASSERT(strstr(err, "\"cgroup_removed\":true"), "%s: the cgroup is not gone in the report: %s",
				 name, err);
		t_info("%s: %s", name, strstr(err, "\"tree\""));
	}
	t_pass("the report of a --tree --autokill run counts the processes its kill met");
}

/* SPDX-License-Identifier: MIT */
/*
 * tether init: when the command exits, what is left of its tree (a
 * setsid() + double-fork daemon) is killed before tether exits; with
 * --keep-tree, tether waits for it instead.
 */
#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	struct tc_cli t;
	pid_t pids[2];
	int z, status;

	ttc_dispatch(argc, argv);
	tt_flagless_one_pass(); /* no --autokill, no --nnp */
	status = tc_run("init", "--", TS_SELF, "child", "tree-exit-after", tt_mark(), "0", NULL);
	T_ASSERT(status == 0, "tether init exited %d; stderr: %s", status, tc_err);
	T_ASSERT(tt_count_marked(tt_mark(), &z) == 0, "%d members (%d zombies) outlived tether init",
		 tt_count_marked(tt_mark(), &z), z);

	/* --keep-tree: tether stays while the daemon lives. */
	ttc_start(&t, pids, 2, "init", "--keep-tree", "--", TS_SELF, "child", "tree-exit-after", tt_mark(), "0",
		  NULL);
	usleep(T_SETTLE_MS * 1000);
	T_ASSERT(!t_pidfd_wait_readable(tether_child_pidfd(t.child), 0), "tether init --keep-tree left its tree");
	T_ASSERT(tt_count_marked(tt_mark(), &z) == 1 && z == 0, "the daemon runs under --keep-tree");
	tt_kill_marked(tt_mark());
	T_ASSERT(ttc_wait(&t) == 0, "tether init --keep-tree ended with the command's status once the tree was gone");
	t_pass("tether init kills the rest of the tree when the command exits, unless --keep-tree");
}

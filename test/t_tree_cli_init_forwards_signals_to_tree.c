/* SPDX-License-Identifier: MIT */
/*
 * tether init passes a signal it gets on to every process of the tree, not
 * just the command's group: with --keep-tree (so that the command's end
 * kills nothing), a SIGTERM to tether ends a daemon in a session of its own
 * too, and tether then dies of the command's SIGTERM.
 */
#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	struct tc_cli t;
	pid_t pids[2];
	int z, status;

	ttc_dispatch(argc, argv);
	tt_flagless_one_pass(); /* no --autokill, no --nnp */
	ttc_start(&t, pids, 2, "init", "--keep-tree", "--", TS_SELF, "child", "tree-daemon", tt_mark(), NULL);
	T_ASSERT(tt_count_marked(tt_mark(), &z) == 2 && z == 0, "the command and its daemon run");
	T_ASSERT(tether_child_kill(t.child, SIGTERM) == 0, "SIGTERM to tether");
	status = ttc_wait(&t);
	T_ASSERT(status == 128 + SIGTERM, "tether init exited %d, expected death by SIGTERM", status);
	T_ASSERT(tt_count_marked(tt_mark(), &z) == 0, "%d members (%d zombies) outlived the SIGTERM",
		 tt_count_marked(tt_mark(), &z), z);
	t_pass("tether init passes signals on to the whole tree");
}

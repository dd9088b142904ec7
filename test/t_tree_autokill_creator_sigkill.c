/* SPDX-License-Identifier: MIT */
/*
 * With CLONE_PIDFD_AUTOKILL, the creator's death by SIGKILL (no code of
 * its own runs) kills the whole tree: the root and a setsid() +
 * double-fork daemon alike.
 */
#include "tree_common.h"

#define FLAGS (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

static enum tether_tree g_mech;

/* The creator: spawns the tree, says so once it runs, waits to be killed. */
static int creator(int pipe_wr)
{
	int out;
	pid_t pids[2];
	struct tether_child *c = tt_spawn(g_mech, FLAGS, "daemon", NULL, &out);

	if (tt_read_pids(out, pids, 2) != 2)
		return 2;
	(void)!write(pipe_wr, "!", 1);
	(void)c;
	tt_sleep_forever();
}

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, FLAGS);
	for (int i = 0; i < n; i++) {
		int p[2], z;
		char byte;
		pid_t cr;

		g_mech = mech[i];
		T_ASSERT(pipe2(p, O_CLOEXEC) == 0, "pipe2");
		cr = fork();
		T_ASSERT(cr >= 0, "fork");
		if (cr == 0) {
			close(p[0]);
			_exit(creator(p[1]));
		}
		close(p[1]);
		if (read(p[0], &byte, 1) != 1) {
			t_kill(cr, SIGKILL);
			waitpid(cr, NULL, 0);
			t_fail("%s: the creator did not start its tree", tt_name(mech[i]));
		}
		close(p[0]);
		T_ASSERT(tt_count_marked(tt_mark(), &z) == 2 && z == 0, "%s: the root and the daemon run",
			 tt_name(mech[i]));
		t_kill(cr, SIGKILL);
		waitpid(cr, NULL, 0);
		tt_assert_none_left(tt_mark(), "the creator's SIGKILL");
		t_info("%s: the creator's SIGKILL killed the tree", tt_name(mech[i]));
	}
	t_pass("the creator's SIGKILL kills the whole autokill tree");
}

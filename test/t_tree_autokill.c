/* SPDX-License-Identifier: MIT */
/*
 * With CLONE_PIDFD_AUTOKILL the whole tree dies when the last reference to
 * the handle goes: by tether_child_release(), and by the creator's SIGKILL.
 */
#include "tree_common.h"

#define FLAGS (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

static enum tether_tree g_mech;

/* The creator: spawns the tree, says so, waits to be killed. */
static int creator(void *arg)
{
	int *pipe_wr = arg, out;
	pid_t pids[2];
	struct tether_child *c = tt_spawn(g_mech, FLAGS, "daemon", NULL, &out);

	if (tt_read_pids(out, pids, 2) != 2)
		return 2;
	(void)!write(*pipe_wr, "!", 1);
	tt_sleep_forever();
	(void)c;
}

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	tt_child_dispatch(argc, argv);
	ts_child_dispatch(argc, argv);
	n = tt_mechanisms(mech);
	for (int i = 0; i < n; i++) {
		pid_t pids[2], cr;
		int out, p[2], z;
		char byte;
		struct tether_child *c = tt_spawn(mech[i], FLAGS, "daemon", NULL, &out);

		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the tree did not start", tt_name(mech[i]));
		tether_child_release(c);
		tt_assert_none_left(tt_mark(), "release of the handle");
		close(out);
		t_info("%s: the release of the handle killed the tree", tt_name(mech[i]));

		/* The creator killed by SIGKILL. */
		g_mech = mech[i];
		T_ASSERT(pipe2(p, O_CLOEXEC) == 0, "pipe2");
		cr = fork();
		T_ASSERT(cr >= 0, "fork");
		if (cr == 0) {
			close(p[0]);
			_exit(creator(&p[1]));
		}
		close(p[1]);
		T_ASSERT(read(p[0], &byte, 1) == 1, "%s: the creator did not start its tree", tt_name(mech[i]));
		close(p[0]);
		T_ASSERT(tt_count_marked(tt_mark(), &z) >= 2, "the tree runs");
		t_kill(cr, SIGKILL);
		waitpid(cr, NULL, 0);
		tt_assert_none_left(tt_mark(), "the creator's SIGKILL");
		t_info("%s: the creator's SIGKILL killed the tree", tt_name(mech[i]));
	}
	t_pass("autokill takes the whole tree, on release and on the creator's death");
}

/* SPDX-License-Identifier: MIT */
/*
 * tether run --tree --autokill, SIGKILLed at random moments (while it
 * starts, while the tree builds itself, once it runs): not one process of
 * the tree survives, alive or zombie. 40 trials per mechanism on the host
 * (10 in the VMs and under the memory checkers); TETHER_TEST_FULL=1 with
 * TETHER_TREE_TRIALS=1000 for the long run.
 */
#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	const char *env = getenv("TETHER_TREE_TRIALS");
	long trials = env ? atol(env) : t_scaled(40, 10);
	int n;

	ttc_dispatch(argc, argv);
	srand((unsigned int)getpid());
	n = tt_mechanisms(mech);
	for (int i = 0; i < n; i++) {
		for (long k = 0; k < trials; k++) {
			struct tc_cli t;
			pid_t pids[2];
			int wait_us = rand() % 60000;

			ttc_start(&t, pids, 0, "run", ttc_tree_option(mech[i]), "--autokill", "--nnp", "--", TS_SELF,
				  "child", "tree-daemon", tt_mark(), NULL);
			/* A third of the trials once the whole tree runs, the rest at any moment. */
			if (k % 3 == 0)
				T_ASSERT(tt_read_pids(t.out, pids, 2) == 2, "%s: trial %ld: the tree did not start",
					 tt_name(mech[i]), k);
			else
				usleep((useconds_t)wait_us);
			tether_child_kill(t.child, SIGKILL);
			T_ASSERT(ttc_wait(&t) == 128 + SIGKILL, "%s: trial %ld: tether did not die of SIGKILL",
				 tt_name(mech[i]), k);
			tt_assert_none_left(tt_mark(), "tether(1) SIGKILLed");
		}
		t_info("%s: %ld trials, no survivor", tt_name(mech[i]), trials);
	}
	t_pass("tether run --tree --autokill SIGKILLed at random moments leaves no survivor");
}

/* SPDX-License-Identifier: MIT */
/*
 * A tree command that meets the tree ending on its own gets 0 or -ESRCH,
 * and a tree that ended before its handle is freed leaves no descriptor
 * behind. The monitor's descriptor table goes in do_exit() (exit_files(),
 * kernel/exit.c) a moment before its pidfd reports the exit; a zombie
 * monitor has none. There kcmp(KCMP_FILE) on the command eventfd says
 * EBADF, which read as "not ours": tether_child_kill_tree() returned
 * -EBADF (2 runs in a CI matrix), and freeing a handle whose monitor was
 * a zombie kept the eventfd open. Each round SIGTERMs a tree (every member
 * dies of it, so the monitor ends) and then sends SIGKILL in a loop until
 * the tree is gone; half the rounds instead let the tree end and free the
 * handle without any command, half of those without waiting for the tree
 * (the handle goes with a zombie monitor).
 */
#include "tree_common.h"

#define ROUNDS 40 /* t_scaled() in the VMs and under the memory checkers */
#define FAN 3

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	const long rounds = t_scaled(ROUNDS, 8);
	int n = tt_start(argc, argv, mech, 0);

	for (int i = 0; i < n; i++) {
		long calls = 0, srch = 0;

		for (long k = 0; k < rounds; k++) {
			pid_t pids[FAN];
			int out, fds, now, r;
			char fan[8];
			struct tether_child *c;

			fds = t_count_fds();
			snprintf(fan, sizeof(fan), "%d", FAN);
			c = tt_spawn(mech[i], 0, "fan", fan, &out);
			T_ASSERT(tt_read_pids(out, pids, FAN) == FAN, "%s: the tree did not start", tt_name(mech[i]));
			r = tether_child_kill_tree(c, SIGTERM);
			T_ASSERT(r == 0, "%s: kill_tree(SIGTERM): %s", tt_name(mech[i]), strerror(-r));
			if (k % 2 == 0) {
				/* Commands while the monitor ends on its own. */
				for (long long end = t_now_ms() + 20000;; calls++) {
					r = tether_child_kill_tree(c, SIGKILL);
					T_ASSERT(r == 0 || r == -ESRCH, "%s, round %ld: kill_tree(SIGKILL) as the tree ends: %s",
						 tt_name(mech[i]), k + 1, strerror(-r));
					if (r == -ESRCH) {
						srch++;
						break;
					}
					T_ASSERT(t_now_ms() < end, "%s: the tree did not end", tt_name(mech[i]));
				}
			}
			if (k % 4 == 3) {
				/* Released without tether_child_wait_tree(): the monitor
				 * is a zombie by then, which that call would have reaped. */
				ts_wait(c, "root");
				usleep(100 * 1000);
			} else {
				T_ASSERT(tether_child_wait_tree(c, 20000) == 0, "%s: the tree did not end", tt_name(mech[i]));
			}
			close(out);
			tether_child_release(c);
			/* A monitor not reaped yet at the release is the reaper
			 * thread's: its descriptors go when it has reaped it. */
			for (long long end = t_now_ms() + 10000; t_count_fds() != fds && t_now_ms() < end;)
				usleep(2000);
			now = t_count_fds();
			T_ASSERT(now == fds, "%s, round %ld: %d descriptors before the tree, %d 10 s after it",
				 tt_name(mech[i]), k + 1, fds, now);
		}
		tt_assert_none_left(tt_mark(), tt_name(mech[i]));
		t_info("%s: %ld trees; %ld commands as they ended, each 0 or -ESRCH (%ld -ESRCH)", tt_name(mech[i]), rounds,
		       calls + srch, srch);
	}
	t_pass("a tree command meets the tree's own end with 0 or -ESRCH; an ended tree leaves no descriptor");
}

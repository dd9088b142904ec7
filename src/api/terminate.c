/* SPDX-License-Identifier: MIT */
/*
 * tether_child_terminate(): end a child the way timeout(1) and service
 * managers do. Ask first (sig, then SIGCONT so that a stopped child can act
 * on it), give it grace_ms to clean up, then SIGKILL, which it cannot refuse.
 * Built only on the public calls (tether_child_kill(), tether_child_wait()),
 * so that it works the same for every backend.
 */
#include <errno.h>
#include <signal.h>

#include <tether.h>

#include "macro.h"

/*
 * A tree (tether_spawn_attr_set_tree()): the same steps for every process
 * of it, and the grace is the whole tree's, as a deadline is in tether(1).
 * *info is the root's, as tether_child_wait() reports it.
 */
static int terminate_tree(struct tether_child *child, int sig, int grace_ms, struct tether_exit_info *info)
{
	int r = tether_child_kill_tree(child, sig), killed = 0;

	if (r < 0 && r != -ESRCH)
		return r;
	if (r == 0 && sig != SIGKILL && sig != SIGCONT)
		tether_child_kill_tree(child, SIGCONT);
	if (tether_child_wait_tree(child, grace_ms) == -ETIMEDOUT) {
		/* Out of grace: returns once no process of the tree is left. */
		r = tether_child_kill_tree(child, SIGKILL);
		if (r < 0 && r != -ESRCH)
			return r;
		tether_child_wait_tree(child, -1);
		killed = 1;
	}
	r = tether_child_wait(child, -1, info);
	return r < 0 ? r : killed;
}

_public_ int tether_child_terminate(struct tether_child *child, int sig, int grace_ms,
				    struct tether_exit_info *info)
{
	int r, saved_errno = errno;

	if (!child || sig <= 0 || sig >= NSIG || grace_ms < -1)
		return -EINVAL;
	if (tether_child_tree(child) != TETHER_TREE_NONE) {
		r = terminate_tree(child, sig, grace_ms, info);
		goto out;
	}
	/* -ESRCH: it has ended already; the wait below collects it. */
	r = tether_child_kill(child, sig);
	if (r < 0 && r != -ESRCH)
		goto out;
	if (r == 0 && sig != SIGKILL && sig != SIGCONT)
		tether_child_kill(child, SIGCONT);
	r = tether_child_wait(child, grace_ms, info);
	if (r != -ETIMEDOUT)
		goto out;
	/* Out of grace. SIGKILL ends it even while it is stopped. */
	r = tether_child_kill(child, SIGKILL);
	if (r < 0 && r != -ESRCH)
		goto out;
	r = tether_child_wait(child, -1, info);
	if (r == 0)
		r = 1;
out:
	errno = saved_errno;
	return r;
}

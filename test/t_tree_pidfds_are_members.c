/* SPDX-License-Identifier: MIT */
/*
 * tether_child_tree_pidfds(): a pidfd for each live member of the tree (the
 * root and a setsid() + double-fork daemon), for each mechanism on its own;
 * each pidfd is the member's (its fdinfo Pid), close-on-exec, O_NONBLOCK
 * when asked; with max too small the count is still right and no pidfd is
 * left open; the pidfds poll readable once the tree is killed, after which
 * the call returns 0. A child that is not a tree: -ENOTSUP; bad arguments:
 * -EINVAL.
 */
#include <fcntl.h>

#include "tree_common.h"

/* The pid a pidfd refers to, from /proc/self/fdinfo (pidfd_open(2)). */
static pid_t fd_pid(int fd)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, "\nPid:");
	return p ? (pid_t)strtol(p + 5, NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	int n;

	n = tt_start(argc, argv, mech, 0);

	/* Not a tree. */
	{
		struct tether_child *c = NULL;
		int fd;

		T_ASSERT(ts_spawn_self(&c, NULL, NULL, "exit", "0", NULL) == 0, "spawn");
		T_ASSERT(tether_child_tree_pidfds(c, &fd, 1, 0) == -ENOTSUP, "a plain child: expected -ENOTSUP");
		T_ASSERT(tether_child_tree_pidfds(NULL, &fd, 1, 0) == -EINVAL, "NULL child: expected -EINVAL");
		tether_child_wait(c, -1, NULL);
		tether_child_release(c);
	}

	for (int i = 0; i < n; i++) {
		const char *name = tt_name(mech[i]);
		pid_t pids[2];
		int out, fds[8], one, k, fds_before;
		struct tether_child *c = tt_spawn(mech[i], 0, "daemon", NULL, &out);

		T_ASSERT(tt_read_pids(out, pids, 2) == 2, "%s: the daemon did not start", name);
		T_ASSERT(tether_child_tree_pidfds(c, NULL, 1, 0) == -EINVAL, "%s: NULL array with max 1", name);
		T_ASSERT(tether_child_tree_pidfds(c, fds, 8, O_CLOEXEC) == -EINVAL, "%s: unknown flag", name);

		fds_before = t_count_fds();
		k = tether_child_tree_pidfds(c, &one, 1, 0);
		T_ASSERT(k == 2, "%s: max 1: returned %d, expected the 2 members", name, k);
		T_ASSERT(t_count_fds() == fds_before + 1, "%s: max 1: %d new fds, expected 1", name,
			 t_count_fds() - fds_before);
		close(one);
		T_ASSERT(tether_child_tree_pidfds(c, NULL, 0, 0) == 2, "%s: max 0 counts the members", name);
		T_ASSERT(t_count_fds() == fds_before, "%s: max 0 left a pidfd open", name);

		k = tether_child_tree_pidfds(c, fds, 8, O_NONBLOCK); /* PIDFD_NONBLOCK */
		T_ASSERT(k == 2, "%s: returned %d, expected 2", name, k);
		T_ASSERT(fd_pid(fds[0]) == tether_child_pid(c), "%s: the first pidfd is pid %d's, not the root's (%d)",
			 name, (int)fd_pid(fds[0]), (int)tether_child_pid(c));
		for (int j = 0; j < k; j++) {
			pid_t p = fd_pid(fds[j]);
			T_ASSERT(p == pids[0] || p == pids[1], "%s: pidfd %d is pid %d's, no member's", name, j, (int)p);
			T_ASSERT(fcntl(fds[j], F_GETFD) & FD_CLOEXEC, "%s: pidfd %d not close-on-exec", name, j);
			T_ASSERT(fcntl(fds[j], F_GETFL) & O_NONBLOCK, "%s: pidfd %d not O_NONBLOCK", name, j);
		}
		T_ASSERT(fd_pid(fds[0]) != fd_pid(fds[1]), "%s: the same member twice", name);

		tt_kill_and_check(c, name);
		for (int j = 0; j < k; j++) {
			struct pollfd pfd = { .fd = fds[j], .events = POLLIN };
			T_ASSERT(poll(&pfd, 1, 0) == 1, "%s: member %d's pidfd not readable after the kill", name, j);
			close(fds[j]);
		}
		T_ASSERT(tether_child_tree_pidfds(c, fds, 8, 0) == 0, "%s: a gone tree has members", name);
		close(out);
		tether_child_release(c);
	}
	t_pass("tree pidfds: one per live member, each the member's; none left open when max is short");
}

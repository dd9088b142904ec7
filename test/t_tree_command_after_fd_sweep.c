/* SPDX-License-Identifier: MIT */
/*
 * A descriptor sweep while a tree lives, then the application's own
 * eventfds on the numbers the library had, its command channel to the
 * tree's monitor among them. The application's eventfds never receive the
 * library's 8 bytes (their counters stay 0): the channel is checked by
 * identity before each command, never trusted by number. A sweep that
 * spares the handle's pidfd leaves the handle working: the channel is
 * copied back from the monitor (pidfd_getfd()) and tether_child_kill_tree()
 * kills every member. A sweep that closes the pidfd too ends the handle, as
 * any use of a closed pidfd fails: the command fails with an error. Where
 * the copy finds no free descriptor (RLIMIT_NOFILE), the command fails with
 * EMFILE and sends nothing, and works once a descriptor is free again.
 */
#include <sys/eventfd.h>
#include <sys/resource.h>

#include "harness.h"

#define MEMBERS 5

enum sweep { SPARE_PIDFD, SPARE_PIDFD_NO_ROOM, ALL };

static void run(enum sweep how)
{
	const bool spare_pidfd = how != ALL;
	char *cargv[] = { (char *)"/proc/self/exe", (char *)"fan", NULL };
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	pid_t pids[MEMBERS + 8];
	uint64_t count = 0;
	int n = 0, mine[64], nmine = 0, r, keep;

	T_ASSERT(tether_spawn_attr_init(&attr) == 0 && tether_spawn_attr_set_tree(attr, TETHER_TREE_SUBREAPER) == 0,
		 "attr");
	T_ASSERT(tether_spawn(&c, cargv[0], NULL, attr, cargv, NULL) == 0, "spawn");
	for (int i = 0; i < 2000 && n < MEMBERS + 1; i++) {
		n = tether_child_tree_pids(c, pids, MEMBERS + 8);
		usleep(1000);
	}
	T_ASSERT(n == MEMBERS + 1, "the tree has %d members, %d expected", n, MEMBERS + 1);

	/* The sweep, then eventfds of the application's on every low number. */
	keep = tether_child_pidfd(c);
	if (spare_pidfd) {
		T_ASSERT(keep > 3 && syscall(SYS_close_range, 3, keep - 1, 0) == 0 &&
			 syscall(SYS_close_range, keep + 1, ~0U, 0) == 0, "close_range around %d", keep);
	} else {
		T_ASSERT(syscall(SYS_close_range, 3, ~0U, 0) == 0, "close_range");
	}
	for (int fd; nmine < 64 && (fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0;) {
		if (fd >= 64) {
			close(fd);
			break;
		}
		mine[nmine++] = fd;
	}
	T_ASSERT(nmine > 0, "eventfd");

	if (how == SPARE_PIDFD_NO_ROOM) {
		struct rlimit rl, low;

		/* A first call lets the library see the sweep while it has room
		 * (with none, a monitor whose pidfd cannot be had back is killed
		 * with its tree: fail closed, t_emul_hostile_fd_sweep). Then every
		 * number below 64 is taken (the eventfds filled them): no room
		 * for the channel's copy. */
		T_ASSERT(tether_child_kill_tree(c, 0) == 0, "the tree is gone");
		T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
		low = rl;
		low.rlim_cur = 64;
		T_ASSERT(setrlimit(RLIMIT_NOFILE, &low) == 0, "setrlimit");
		r = tether_child_kill_tree(c, SIGKILL);
		T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit");
		T_ASSERT(r == -EMFILE, "kill_tree with no free descriptor returned %d (%s), not -EMFILE", r,
			 strerror(-r));
		for (int i = 0; i < n; i++)
			T_ASSERT(t_proc_state(pids[i]) != 0, "member %d ended though nothing was sent", (int)pids[i]);
	}
	r = tether_child_kill_tree(c, SIGKILL);
	for (int i = 0; i < nmine; i++) {
		T_ASSERT(read(mine[i], &count, sizeof(count)) < 0 && errno == EAGAIN,
			 "the application's eventfd %d received a count of %llu", mine[i], (unsigned long long)count);
	}
	if (spare_pidfd) {
		T_ASSERT(r == 0, "kill_tree after a sweep that spared the pidfd: %d", r);
	} else {
		T_ASSERT(r < 0, "kill_tree with a swept pidfd returned %d", r);
		/* The handle is gone with its pidfd: the test ends the tree by pid. */
		for (int i = 0; i < n; i++)
			t_kill(pids[i], SIGKILL);
	}
	for (int i = 0; i < n; i++)
		T_ASSERT(t_wait_pid_gone(pids[i], 10000), "member %d still there", (int)pids[i]);
	for (int i = 0; i < nmine; i++)
		close(mine[i]);
	tether_child_release(c);
	tether_spawn_attr_destroy(attr);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "fan") == 0) {
		for (int i = 0; i < MEMBERS; i++)
			if (fork() == 0) {
				sleep(120); /* bounded: a failed run leaves nothing for good */
				_exit(0);
			}
		sleep(120);
		_exit(0);
	}
	t_skip_native_pass_without(0);
	run(SPARE_PIDFD);
	run(SPARE_PIDFD_NO_ROOM);
	run(ALL);
	t_pass("after a descriptor sweep the application's files get nothing; a kept pidfd still kills the tree");
}

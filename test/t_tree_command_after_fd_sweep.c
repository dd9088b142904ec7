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
 * Where there is no room at all once the sweep is seen, the monitor's pidfd
 * cannot be had back: the monitor and the whole tree are killed (fail
 * closed), never left unwatched.
 */
#include <sys/eventfd.h>
#include <sys/resource.h>

#include "harness.h"

#define MEMBERS 5

enum sweep { SPARE_PIDFD, SPARE_PIDFD_NO_ROOM, SPARE_PIDFD_NO_ROOM_AT_ONCE, ALL };

/* RLIMIT_NOFILE's soft limit down to 64 (every number below is taken by
 * then); the limit as it was, for restore_nofile(). */
static struct rlimit nofile_down_to_64(void)
{
	struct rlimit rl, low;

	T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	low = rl;
	low.rlim_cur = 64;
	T_ASSERT(setrlimit(RLIMIT_NOFILE, &low) == 0, "setrlimit");
	return rl;
}

static void restore_nofile(const struct rlimit *rl)
{
	T_ASSERT(setrlimit(RLIMIT_NOFILE, rl) == 0, "setrlimit");
}

/*
 * A sweep that leaves no number free at any moment: every free number below
 * 64 is the application's first, RLIMIT_NOFILE drops to 64, the library's
 * numbers below 64 are replaced by dup2() (never free), and those at 64 and
 * up closed. Whichever sees the sweep first (the reaper thread, woken by
 * its pipe, or the next call) cannot open the monitor's pidfd again: the
 * monitor is killed, and it must take its whole tree with it (fail closed;
 * the members would go to init, unwatched).
 */
static void no_room_at_once(struct tether_child *c, int keep, const pid_t *pids, int n)
{
	struct rlimit rl;
	bool app[64] = { false };
	int spare = -1, fd, r;
	uint64_t count;

	for (int i = 0; i < 3; i++)
		app[i] = true;
	app[keep] = true;
	while ((fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0 && fd < 64) {
		app[fd] = true;
		spare = fd;
	}
	if (fd >= 0)
		close(fd);
	T_ASSERT(spare >= 0, "eventfd");
	rl = nofile_down_to_64();
	for (int i = 3; i < 64; i++)
		if (!app[i])
			T_ASSERT(dup3(spare, i, O_CLOEXEC) == i, "dup3 onto %d", i);
	T_ASSERT(syscall(SYS_close_range, 64, ~0U, 0) == 0, "close_range");
	r = tether_child_kill_tree(c, 0);
	for (int i = 0; i < n; i++)
		T_ASSERT(t_wait_pid_gone(pids[i], 20000), "member %d outlived its unwatchable monitor", (int)pids[i]);
	r = r == 0 ? tether_child_kill_tree(c, 0) : r;
	restore_nofile(&rl);
	T_ASSERT(r == -ESRCH || r == -ENOTSUP, "kill_tree(0) on the killed tree returned %d (%s)", r, strerror(-r));
	T_ASSERT(read(spare, &count, sizeof(count)) < 0 && errno == EAGAIN,
		 "the application's eventfd received a count of %llu", (unsigned long long)count);
	for (int i = 3; i < 64; i++)
		if (i != keep)
			close(i);
}

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
	if (how == SPARE_PIDFD_NO_ROOM_AT_ONCE) {
		no_room_at_once(c, keep, pids, n);
		tether_child_release(c);
		tether_spawn_attr_destroy(attr);
		return;
	}
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
		struct rlimit rl;

		/* A first call lets the library see the sweep while it has room
		 * (with none, a monitor whose pidfd cannot be had back is killed
		 * with its tree: fail closed, no_room_at_once()). Then every
		 * number below 64 is taken (the eventfds filled them): no room
		 * for the channel's copy. */
		T_ASSERT(tether_child_kill_tree(c, 0) == 0, "the tree is gone");
		rl = nofile_down_to_64();
		r = tether_child_kill_tree(c, SIGKILL);
		restore_nofile(&rl);
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
	run(SPARE_PIDFD_NO_ROOM_AT_ONCE);
	run(ALL);
	t_pass("after a descriptor sweep the application's files get nothing; a kept pidfd still kills the tree");
}

/* SPDX-License-Identifier: MIT */
/*
 * A caller that has spawned forks, and then both processes spawn at the same
 * time: each one's spawns work and give exact statuses. The library keeps a
 * spawned child's monitor state and stack in a MAP_SHARED page and caches
 * one for the next monitor; a fork must not leave the parent and the child
 * using that same page (both processes' next monitors then shared one stack
 * and one state: one in thirty t_spawn_autokill runs lost a spawn to EIO).
 */
#include "spawn_common.h"

#define ROUNDS 150 /* t_scaled() in the VMs and under the memory checkers */

static long rounds;

/* Spawns of "exit K", one after the other; the number that went wrong. */
static int spawn_loop(uint64_t flags, int base)
{
	struct tether_spawn_attr *attr = ts_attr_flags(flags);
	int bad = 0;

	for (long i = 0; i < rounds; i++) {
		struct tether_child *c;
		struct tether_exit_info info;
		char ks[16];
		int k = (int)((base + i) % 100);

		snprintf(ks, sizeof(ks), "%d", k);
		if (ts_spawn_self(&c, NULL, attr, "exit", ks, NULL) != 0) {
			bad++;
			continue;
		}
		if (tether_child_wait(c, 20000, &info) != 0 || !info.exited || info.exit_code != k) {
			t_info("spawn %ld: status %#x, expected exit %d", i, info.status, k);
			bad++;
		}
		tether_child_release(c);
	}
	tether_spawn_attr_destroy(attr);
	return bad;
}

int main(int argc, char **argv)
{
	const uint64_t flags = CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL;
	int st, bad;
	pid_t child;

	ts_child_dispatch(argc, argv);
	t_require_flags(flags);
	rounds = t_scaled(ROUNDS, 40);
	/* One spawn first: its monitor's page is what the library keeps. */
	T_ASSERT(spawn_loop(flags, 0) == 0, "spawns before the fork went wrong");
	fflush(NULL);
	child = fork();
	T_ASSERT(child >= 0, "fork: %s", strerror(errno));
	if (child == 0)
		_exit(spawn_loop(flags, 50) ? 1 : 0);
	bad = spawn_loop(flags, 1);
	T_ASSERT(waitpid(child, &st, 0) == child, "waitpid");
	T_ASSERT(bad == 0, "%d of the parent's %ld spawns after the fork went wrong", bad, rounds);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the forked process's spawns went wrong (status %#x)", st);
	t_pass("parent and forked child spawned %ld times each at once: every status exact (%s backend)", rounds,
	       t_backend_word(flags));
}

/* SPDX-License-Identifier: MIT */
/*
 * One thread fork()s over and over (each forked child itself spawns one
 * autoreap child, checks its status, and exits) while other threads spawn
 * autokill and autoreap children: no deadlock in the fork handlers, every
 * status exact in the parent and in the forked children, and 0 survivors
 * once every handle is released.
 *
 * Every lock of the library is taken in one order (the registry's, then the
 * image pipe's), in the fork handlers too. The mapping kept for the next
 * monitor is MAP_SHARED: a fork shares its pages instead of copying them,
 * so a forked child that kept it would run its monitor on the same stack and
 * page as the parent's next one (spawns failing with EIO or EBADF, statuses
 * landing in the other process, waits timing out).
 */
#include <pthread.h>

#include "hostile_common.h"

#define SPAWNS 60 /* per spawning thread; t_scaled() in the VMs and under the memory checkers */
#define FORKS 40

static volatile int stop;
static long spawns, forks;

static void *forker(void *arg)
{
	int *bad = arg;
	for (int i = 0; i < forks && !stop; i++) {
		int st;
		pid_t p = fork();
		if (p == 0) {
			struct tether_child *c;
			struct tether_exit_info info;
			alarm(30);
			int r = hc_spawn(&c, CLONE_AUTOREAP, "exit", "9", NULL);
			if (r != 0) {
				t_info("forked child: spawn failed: %s", strerror(-r));
				_exit(2);
			}
			r = tether_child_wait(c, 20000, &info);
			if (r != 0 || !info.exited || info.exit_code != 9) {
				t_info("forked child: wait %s, exited %d, code %d, signaled %d signal %d, status 0x%x",
				       strerror(-r), info.exited, info.exit_code, info.signaled, info.signal, info.status);
				_exit(3);
			}
			tether_child_release(c);
			_exit(0);
		}
		if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			t_info("fork %d: %s", i, p < 0 ? strerror(errno) : "");
			if (p > 0)
				t_info("forked child %d ended with status 0x%x", (int)p, st);
			__atomic_fetch_add(bad, 1, __ATOMIC_SEQ_CST);
		}
	}
	return NULL;
}

static void *spawner(void *arg)
{
	int *bad = arg;
	for (int i = 0; i < spawns; i++) {
		struct tether_child *c;
		struct tether_exit_info info;
		const uint64_t flags = i % 2 ? HC_AUTOKILL_SPAWN : CLONE_AUTOREAP;
		char ks[16];
		snprintf(ks, sizeof(ks), "%d", i + 1);
		int r = hc_spawn(&c, flags, "exit", ks, NULL);
		if (r != 0) {
			t_info("spawn %d (flags 0x%llx) failed: %s", i, (unsigned long long)flags, strerror(-r));
			__atomic_fetch_add(bad, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		r = tether_child_wait(c, 20000, &info);
		if (r != 0 || !info.exited || info.exit_code != i + 1) {
			t_info("spawn %d (flags 0x%llx): wait %s, exited %d, code %d, signaled %d signal %d, status 0x%x", i,
			       (unsigned long long)flags, strerror(-r), info.exited, info.exit_code, info.signaled, info.signal,
			       info.status);
			__atomic_fetch_add(bad, 1, __ATOMIC_SEQ_CST);
		}
		tether_child_release(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t f, s[2];
	int bad_fork = 0, bad_spawn = 0, watch[8], nd;
	struct tether_child *k[8];
	pid_t d[64];
	long long end;

	hc_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	alarm(240);
	spawns = t_scaled(SPAWNS, 15);
	forks = t_scaled(FORKS, 10);
	/* Live autokill children across all the forks: the forked children
	 * inherit their handles and drop them at exit. */
	for (int i = 0; i < 8; i++) {
		T_ASSERT(hc_spawn(&k[i], HC_AUTOKILL_SPAWN, "sleep", NULL) == 0, "spawn sleeper");
		watch[i] = t_pidfd_open(tether_child_pid(k[i]));
	}
	T_ASSERT(pthread_create(&f, NULL, forker, &bad_fork) == 0, "forker");
	for (int i = 0; i < 2; i++)
		T_ASSERT(pthread_create(&s[i], NULL, spawner, &bad_spawn) == 0, "spawner");
	for (int i = 0; i < 2; i++)
		pthread_join(s[i], NULL);
	stop = 1;
	pthread_join(f, NULL);
	T_ASSERT(bad_spawn == 0, "%d spawns failed or reported a wrong status during forks", bad_spawn);
	T_ASSERT(bad_fork == 0, "%d forked children failed (spawn, status, or hang)", bad_fork);
	for (int i = 0; i < 8; i++)
		T_ASSERT(t_stays_alive(watch[i], 0), "autokill child %d died while its handle was held", i);
	for (int i = 0; i < 8; i++)
		tether_child_release(k[i]);
	for (int i = 0; i < 8; i++)
		T_ASSERT(t_dies(watch[i], 20000), "autokill child %d survived its release", i);
	end = t_now_ms() + 20000;
	while ((nd = hc_descendants(getpid(), d, 64)) > 0 && t_now_ms() < end)
		usleep(10000);
	T_ASSERT(nd == 0, "%d process(es) left behind", nd);
	t_pass("%ld forks during %ld spawns: statuses exact everywhere, 0 survivors, nothing left (%s backend)", forks,
	       2 * spawns, t_backend_word(T_AUTOKILL_FLAGS));
}

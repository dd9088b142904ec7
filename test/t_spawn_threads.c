/* SPDX-License-Identifier: MIT */
/*
 * Several threads spawn at once, with and without lifecycle flags, while
 * others wait and release: every child reports its own exit code, nothing
 * is left behind (processes, zombies, descriptors).
 */
#include <pthread.h>

#include "spawn_common.h"

#define THREADS 4
#define ROUNDS 15

static uint64_t kinds[3];
static int nkinds;

static void *worker(void *arg)
{
	intptr_t t = (intptr_t)arg;

	for (int i = 0; i < ROUNDS; i++) {
		struct tether_spawn_attr *a = ts_attr_flags(kinds[(t + i) % nkinds]);
		struct tether_child *c;
		char code[16];
		int want = (int)(t * ROUNDS + i) % 200;

		snprintf(code, sizeof(code), "%d", want);
		char *v[] = { (char *)TS_SELF, (char *)"child", (char *)"exit", code, NULL }; /* ts_argv() is not thread-safe */
		int r = tether_spawn(&c, TS_SELF, NULL, a, v, NULL);
		tether_spawn_attr_destroy(a);
		T_ASSERT(r == 0, "thread %d round %d: spawn: %s", (int)t, i, strerror(-r));
		struct tether_exit_info info = ts_wait(c, "worker");
		T_ASSERT(info.exited && info.exit_code == want, "thread %d round %d: status %#x, expected exit %d",
			 (int)t, i, info.status, want);
		tether_child_release(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char before[4096], after[4096];
	pthread_t th[THREADS];

	ts_child_dispatch(argc, argv);
	kinds[nkinds++] = 0;
	if (!t_native_without(CLONE_AUTOREAP))
		kinds[nkinds++] = CLONE_AUTOREAP;
	if (!t_native_without(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL))
		kinds[nkinds++] = CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL;
	{
		/* A first spawn before the snapshot: what the library sets up
		 * once (its probes) is then there. */
		struct tether_child *c;
		struct tether_spawn_attr *attr = ts_attr_flags(kinds[nkinds - 1]);
		T_ASSERT(ts_spawn_self(&c, NULL, attr, "exit", "0", NULL) == 0, "warm-up spawn");
		ts_wait(c, "warm-up");
		tether_child_release(c);
		tether_spawn_attr_destroy(attr);
	}
	t_settle_threads();
	ts_fd_list(before, sizeof(before));
	for (intptr_t t = 0; t < THREADS; t++)
		T_ASSERT(pthread_create(&th[t], NULL, worker, (void *)t) == 0, "pthread_create");
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	ts_assert_no_children("end");
	long long end = t_now_ms() + 5000; /* emulation helpers wind down */
	do
		ts_fd_list(after, sizeof(after));
	while (strcmp(before, after) != 0 && t_now_ms() < end && usleep(2000) == 0);
	T_ASSERT(strcmp(before, after) == 0, "descriptors before '%s', after '%s'", before, after);
	t_pass("%d threads x %d spawns (%d kinds of flags): every exit code right, nothing left", THREADS, ROUNDS, nkinds);
}

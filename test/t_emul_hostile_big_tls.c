/* SPDX-License-Identifier: MIT */
/*
 * An application with 128 KiB of thread-local storage (static TLS, touched
 * in every thread) spawns from the main thread and from other threads:
 * the library's helpers run on stacks of their own and must not trip over
 * the thread pointer they share with the caller. Statuses exact, autokill
 * holds.
 */
#include <pthread.h>

#include "hostile_common.h"

static __thread char big[128 * 1024];

static void *run(void *arg)
{
	int *bad = arg;
	memset(big, 0x5a, sizeof(big));
	for (int i = 0; i < 20; i++) {
		struct tether_child *c;
		struct tether_exit_info info;
		const uint64_t flags = i % 2 ? HC_AUTOKILL_SPAWN : CLONE_AUTOREAP;
		char ks[16];
		snprintf(ks, sizeof(ks), "%d", i + 1);
		if (hc_spawn(&c, flags, "exit", ks, NULL) != 0 || tether_child_wait(c, 20000, &info) != 0 ||
		    !info.exited || info.exit_code != i + 1)
			(*bad)++;
		else
			tether_child_release(c);
	}
	for (size_t i = 0; i < sizeof(big); i++)
		if (big[i] != 0x5a)
			(*bad)++;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[3];
	int bad[4] = { 0 };

	hc_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	for (int i = 0; i < 3; i++)
		T_ASSERT(pthread_create(&th[i], NULL, run, &bad[i]) == 0, "thread");
	run(&bad[3]);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		T_ASSERT(bad[i] == 0, "thread %d: %d failures (spawn, status or TLS clobbered)", i, bad[i]);
	t_pass("128 KiB TLS, 4 threads x 20 spawns: statuses exact, TLS intact (%s backend)",
	       t_backend_word(T_AUTOKILL_FLAGS));
}

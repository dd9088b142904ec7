/* SPDX-License-Identifier: MIT */
/*
 * The reaper thread fetches events before it takes the registry lock, so a
 * record that an event points at must not be freed meanwhile by a caller's
 * thread (tether_pidfd_close(), tether_pidfd_get_info()). Stress for the
 * ASan build: threads make autokill children (a record watched twice: the
 * child and its monitor) that exit at once, and release them at once, some
 * before and some after asking for the status, so that releases, reaps and
 * monitor ends meet in every order. A use after free is ASan's to report;
 * here every status must be right and nothing may be left behind.
 */
#include <pthread.h>

#include "harness.h"

#define THREADS 4
#define PER_THREAD 150 /* t_scaled() in the VMs and under the memory checkers */

static long per_thread;

static volatile int bad;

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	for (long i = 0; i < per_thread; i++) {
		int pidfd = -1;
		pid_t pid = t_clone(T_AUTOKILL_FLAGS, 0, &pidfd);
		if (pid == 0)
			_exit(4);
		if (pid < 0) {
			bad = 1;
			break;
		}
		switch (rand_r(&seed) % 3) {
		case 0: /* release while it may be exiting */
			break;
		case 1: { /* the status first: the caller's thread may reap it */
			if (!t_pidfd_wait_readable(pidfd, 10000))
				bad = 2;
			int st = t_pidfd_exit_status(pidfd);
			if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 4)
				bad = 3;
			break;
		}
		default:
			sched_yield();
			break;
		}
		tether_pidfd_close(pidfd);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	t_require_emulation(T_AUTOKILL_FLAGS);
	per_thread = t_scaled(PER_THREAD, 40);
	for (int i = 0; i < THREADS; i++)
		T_ASSERT(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0, "pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	T_ASSERT(!bad, "step %d went wrong", bad);
	t_settle_threads();
	pid_t live[16];
	T_ASSERT(t_live_children(live, 16) == 0, "children or monitors left behind");
	t_pass("%d autokill children released against the reaper in every order", (int)(THREADS * per_thread));
}

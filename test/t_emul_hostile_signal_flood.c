/* SPDX-License-Identifier: MIT */
/*
 * The application is flooded with signals (a handled SIGUSR1 without
 * SA_RESTART, and SIGCHLD-like noise) from a thread of its own while it
 * spawns and waits: every spawn succeeds, every status is exact, autokill
 * children die at release, and no signal reaches a helper of the library
 * or a program it did not send to.
 */
#include <pthread.h>

#include "hostile_common.h"

#define N 80 /* t_scaled() in the VMs and under the memory checkers */

static volatile int stop;
static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	(void)sig;
	got++;
}

static void *flooder(void *arg)
{
	pid_t self = *(pid_t *)arg;
	while (!stop) {
		t_kill(self, SIGUSR1);
		sched_yield();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART: every call gets EINTR */
	pthread_t th;
	pid_t self = getpid();

	hc_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	const long n = t_scaled(N, 20);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	T_ASSERT(pthread_create(&th, NULL, flooder, &self) == 0, "thread");
	for (int i = 0; i < n; i++) {
		const uint64_t flags = i % 2 ? HC_AUTOKILL_SPAWN : CLONE_AUTOREAP;
		struct tether_child *c;
		struct tether_exit_info info;
		char ks[16];
		int r;

		snprintf(ks, sizeof(ks), "%d", i + 1);
		r = hc_spawn(&c, flags, "exit", ks, NULL);
		if (r != 0) {
			stop = 1;
			pthread_join(th, NULL);
			t_fail("spawn %d under a signal flood: %s", i, strerror(-r));
		}
		r = tether_child_wait(c, 20000, &info);
		if (r != 0 || !info.exited || info.exit_code != i + 1) {
			stop = 1;
			pthread_join(th, NULL);
			t_fail("child %d under a signal flood: wait %s, status %#x", i, strerror(-r), info.status);
		}
		tether_child_release(c);
	}
	/* Autokill still holds under the flood. */
	{
		struct tether_child *c;
		int watch;
		T_ASSERT(hc_spawn(&c, HC_AUTOKILL_SPAWN, "sleep", NULL) == 0, "spawn sleeper");
		watch = t_pidfd_open(tether_child_pid(c));
		T_ASSERT(t_stays_alive(watch, T_SETTLE_MS), "autokill child died under the flood");
		tether_child_release(c);
		T_ASSERT(t_dies(watch, 20000), "autokill child survived its release under the flood");
	}
	stop = 1;
	pthread_join(th, NULL);
	t_pass("%d spawns under a flood of %d signals: statuses exact, autokill holds (%s backend)", (int)n, (int)got,
	       t_backend_word(T_AUTOKILL_FLAGS));
}

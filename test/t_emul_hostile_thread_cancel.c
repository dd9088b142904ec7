/* SPDX-License-Identifier: MIT */
/*
 * Threads cancelled (pthread_cancel, deferred) around and inside
 * tether_spawn() at random moments: whatever point a cancellation hits,
 * nothing is left behind (no program, no helper) once the surviving
 * handles are released, and the library keeps working afterwards.
 *
 * No public call is a cancellation point (t_api_not_cancellation_points):
 * a request that comes during one acts at the caller's next cancellation
 * point after it. So the spawning loop has its own, between the calls, as
 * a real program's loop would (a read, a sleep); without one, nothing in it
 * could ever act on the request and the thread would spawn for ever. Half
 * the threads release their handle in a cleanup handler (its descriptor
 * numbers come back at once for the next spawns), half lose it; the thread
 * that created a monitor is often gone before the monitor is.
 */
#include <pthread.h>
#include <time.h>

#include "hostile_common.h"

#define ROUNDS 60
/* How long a cancelled thread may take to end: it acts at its next
 * cancellation point, a spawn and a wait of a program that exits at once
 * away (milliseconds; seconds on a loaded VM). */
#define JOIN_LIMIT_S 60

static void release_handle(void *p)
{
	struct tether_child *volatile *c = p;

	if (*c)
		tether_child_release(*c);
	*c = NULL;
}

static void forget_handle(void *p)
{
	(void)p; /* lost: its descriptors stay open, as a pidfd's would */
}

static void *spawner(void *arg)
{
	struct tether_child *volatile c = NULL; /* read by the cleanup handler */

	pthread_cleanup_push(arg ? release_handle : forget_handle, (void *)&c);
	for (;;) {
		struct tether_child *t;
		struct tether_exit_info info;

		pthread_testcancel();
		if (hc_spawn(&t, HC_AUTOKILL_SPAWN, "exit", "3", NULL) != 0)
			continue;
		c = t;
		pthread_testcancel();
		tether_child_wait(c, 20000, &info);
		pthread_testcancel();
		tether_child_release(c);
		c = NULL;
	}
	pthread_cleanup_pop(0);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned int seed = (unsigned int)getpid();
	pid_t d[256];
	int n = 0;
	long long end;
	struct tether_child *c;
	struct tether_exit_info info;

	hc_child_dispatch(argc, argv);
#ifdef __SANITIZE_ADDRESS__
	/* The forced unwinding of pthread_cancel leaves AddressSanitizer's
	 * poisoning of the unwound frames behind: ASan then reports a
	 * stack-buffer-overflow in its own sigaltstack() call at thread exit. */
	t_skip("pthread_cancel's unwinding and AddressSanitizer's stack poisoning do not mix");
#endif
	t_require_flags(T_AUTOKILL_FLAGS);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_t th;
		struct timespec limit;
		void *ret;
		int r;

		T_ASSERT(pthread_create(&th, NULL, spawner, i % 2 ? (void *)1 : NULL) == 0, "thread");
		usleep((useconds_t)(rand_r(&seed) % 5000));
		pthread_cancel(th);
		clock_gettime(CLOCK_REALTIME, &limit);
		limit.tv_sec += JOIN_LIMIT_S;
		r = pthread_timedjoin_np(th, &ret, &limit);
		T_ASSERT(r == 0, "spawning thread %d not ended %d s after its cancellation: %s", i, JOIN_LIMIT_S,
			 strerror(r));
		T_ASSERT(ret == PTHREAD_CANCELED, "spawning thread %d ended without being cancelled", i);
	}
	/* A cancelled thread's handle is lost (its descriptors stay in our
	 * table, as a pidfd would), but its children exit on their own: once
	 * they have, nothing may be left, no helper waiting for a go-ahead
	 * that never comes, no program that never started. */
	end = t_now_ms() + 20000;
	while ((n = hc_descendants(getpid(), d, 256)) > 0 && t_now_ms() < end)
		usleep(10000);
	if (n > 0) {
		for (int i = 0; i < n && i < 5; i++) {
			char comm[32];
			hc_comm(d[i], comm, sizeof(comm));
			t_info("left: %d (%s, state %c, parent %d)", (int)d[i], comm, t_proc_state(d[i]), (int)hc_ppid(d[i]));
		}
		for (int i = 0; i < n; i++)
			t_kill(d[i], SIGKILL);
		t_fail("%d process(es) left behind after %d cancelled spawning threads", n, ROUNDS);
	}
	T_ASSERT(hc_spawn(&c, HC_AUTOKILL_SPAWN, "exit", "4", NULL) == 0, "spawn after the cancellations");
	info = ts_wait(c, "after");
	T_ASSERT(info.exited && info.exit_code == 4, "status after the cancellations");
	tether_child_release(c);
	t_pass("%d spawning threads cancelled at random moments: nothing left behind, the library still works (%s "
	       "backend)",
	       ROUNDS, t_backend_word(T_AUTOKILL_FLAGS));
}

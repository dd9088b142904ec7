/* SPDX-License-Identifier: MIT *
 * NOT IN THE SUITE YET: with the monitor sharing the caller's descriptor
 * table until it has made the program, a spawning thread cancelled at
 * random moments can leave a later spawn waiting for a monitor that is gone
 * (the call loops in monitor_await_start()); reproduce with
 * TETHER_BACKEND=emulate build/test/t_emul_hostile_thread_cancel.
 */
/*
 * Threads cancelled (pthread_cancel, deferred) around and inside
 * tether_spawn() at random moments: whatever point a cancellation hits,
 * nothing is left behind (no program, no helper) once the surviving
 * handles are released, and the library keeps working afterwards.
 */
#include <pthread.h>

#include "hostile_common.h"

#define ROUNDS 60

static void *spawner(void *arg)
{
	(void)arg;
	for (;;) {
		struct tether_child *c;
		if (hc_spawn(&c, HC_AUTOKILL_SPAWN, "exit", "3", NULL) == 0) {
			struct tether_exit_info info;
			tether_child_wait(c, 20000, &info);
			tether_child_release(c);
		}
	}
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
		T_ASSERT(pthread_create(&th, NULL, spawner, NULL) == 0, "thread");
		usleep((useconds_t)(rand_r(&seed) % 5000));
		pthread_cancel(th);
		T_ASSERT(pthread_join(th, NULL) == 0, "join");
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

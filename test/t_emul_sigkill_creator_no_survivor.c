/* SPDX-License-Identifier: MIT */
/*
 * SIGKILL the creating process at many different points while it creates
 * autokill children (inside tether_clone3 included): no autokill child may
 * survive. The test is a subreaper, so every orphan comes to it and none can
 * hide; after each kill every one of them must die.
 */
#include "harness.h"

#ifndef TRIALS
#define TRIALS 60
#endif

static _Noreturn void creator_loop(void)
{
	for (;;) {
		int pidfd;
		pid_t pid = t_clone(T_AUTOKILL_FLAGS, 0, &pidfd);
		if (pid == 0)
			for (;;)
				pause();
		/* keep every pidfd: the children live until we die */
	}
}

int main(void)
{
	unsigned int seed = (unsigned int)getpid();
	int survivors = 0;
	long long total = 0;

	t_require_flags(T_AUTOKILL_FLAGS);
	T_ASSERT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper");
	for (int trial = 0; trial < TRIALS; trial++) {
		int status;
		pid_t c = fork();
		if (c == 0)
			creator_loop();
		/* A different moment each time: from before the first clone on. */
		usleep((useconds_t)(rand_r(&seed) % 20000));
		kill(c, SIGKILL);
		T_ASSERT(waitpid(c, &status, 0) == c, "reap creator");
		/* Everything the creator left behind is now ours; all must die. */
		long long end = t_now_ms() + 20000;
		pid_t live[4096];
		int n;
		/* The warden too must end once it has killed them all. */
		while ((n = t_live_children(live, 4096)) > 0) {
			if (t_now_ms() > end) {
				survivors += n;
				for (int i = 0; i < n; i++)
					kill(live[i], SIGKILL);
				break;
			}
			while (waitpid(-1, &status, WNOHANG | __WALL) > 0)
				total++;
			usleep(2000);
		}
		while (waitpid(-1, &status, WNOHANG | __WALL) > 0)
			total++;
		T_ASSERT(survivors == 0, "trial %d: %d process(es) survived their creator's SIGKILL", trial, survivors);
	}
	t_pass("%d creators killed at random points; %lld orphans reaped; no autokill child survived (%s backend)",
	       TRIALS, total, t_backend_word(T_AUTOKILL_FLAGS));
}

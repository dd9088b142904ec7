/* SPDX-License-Identifier: MIT */
/*
 * SIGKILL the creating process at many different points while it creates
 * autokill children, every other trial with tether_clone3() (fork-like)
 * and with tether_spawn(), inside the library's calls included: no autokill
 * child may survive. The test is a subreaper, so every orphan comes to it
 * and none can hide; after each kill every one of them must die.
 * TETHER_SIGKILL_TRIALS sets the number of trials (default 60; 1000 for
 * the long run).
 */
#include "harness.h"

#define TRIALS_DEFAULT 60

static _Noreturn void creator_loop(bool spawn)
{
	struct tether_spawn_attr *attr = NULL;
	char *argv[] = { (char *)"/proc/self/exe", (char *)"pause", NULL };

	if (spawn && (tether_spawn_attr_init(&attr) < 0 ||
		      tether_spawn_attr_set_flags(attr, T_AUTOKILL_FLAGS & ~CLONE_PIDFD) < 0))
		_exit(1);
	for (;;) {
		int pidfd;
		if (spawn) {
			struct tether_child *c;
			if (tether_spawn(&c, argv[0], NULL, attr, argv, NULL) < 0)
				continue;
			continue; /* keep every handle: the children live until we die */
		}
		pid_t pid = t_clone(T_AUTOKILL_FLAGS, 0, &pidfd);
		if (pid == 0)
			for (;;)
				pause();
		/* keep every pidfd: the children live until we die */
	}
}

int main(int argc, char **argv)
{
	unsigned int seed = (unsigned int)getpid();
	const char *env = getenv("TETHER_SIGKILL_TRIALS");
	int trials = env && atoi(env) > 0 ? atoi(env) : TRIALS_DEFAULT;
	int survivors = 0;
	long long total = 0;

	if (argc > 1 && strcmp(argv[1], "pause") == 0)
		for (;;)
			pause();
	t_require_flags(T_AUTOKILL_FLAGS);
	T_ASSERT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper");
	for (int trial = 0; trial < trials; trial++) {
		int status;
		pid_t c = fork();
		if (c == 0)
			creator_loop(trial % 2);
		/* A different moment each time: from before the first clone on. */
		usleep((useconds_t)(rand_r(&seed) % 20000));
		t_kill(c, SIGKILL);
		T_ASSERT(waitpid(c, &status, 0) == c, "reap creator");
		/* Everything the creator left behind is now ours; all must die. */
		long long end = t_now_ms() + 20000;
		pid_t live[4096];
		int n;
		/* The monitors too must end once their children have. */
		while ((n = t_live_children(live, 4096)) > 0) {
			if (t_now_ms() > end) {
				survivors += n;
				for (int i = 0; i < n; i++)
					t_kill(live[i], SIGKILL);
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
	t_pass("%d creators (tether_clone3, tether_spawn) killed at random points; %lld orphans reaped; "
	       "no autokill child survived (%s backend)",
	       trials, total, t_backend_word(T_AUTOKILL_FLAGS));
}

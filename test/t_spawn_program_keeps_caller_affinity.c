/* SPDX-License-Identifier: MIT */
/*
 * A spawned program runs with the caller's CPU affinity, and so does its
 * monitor once the program is made: the emulation starts the monitor on
 * the caller's CPU alone (a scheduling hint, monitor.c), and neither the
 * program nor the monitor may keep that pin. The caller's own affinity is
 * what it was before the call. Checked with every CPU allowed and with a
 * mask of two chosen CPUs; then as a hostile-but-legal application does it:
 * SIGCHLD ignored, and the spawn made from a thread whose affinity is not
 * the main thread's (the program takes the calling thread's, as it would
 * from posix_spawn). Needs two CPUs.
 */
#include <pthread.h>
#include <sched.h>

#include "harness.h"

static bool status_mask(pid_t pid, char *out, size_t len)
{
	return t_status_text(pid, "Cpus_allowed_list", out, len);
}

static void check(const char *what, __u64 flags)
{
	char *cargv[] = { (char *)"/proc/self/exe", (char *)"sleep", NULL };
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	char mine[256], before[256], prog[256], mon[256];
	pid_t pid, ppid;

	/* The calling thread's mask: the one a child inherits. */
	T_ASSERT(status_mask(gettid(), before, sizeof(before)), "own mask");
	T_ASSERT(tether_spawn_attr_init(&attr) == 0 && tether_spawn_attr_set_flags(attr, flags) == 0, "attr");
	T_ASSERT(tether_spawn(&c, cargv[0], NULL, attr, cargv, NULL) == 0, "spawn");
	pid = tether_child_pid(c);
	T_ASSERT(status_mask(pid, prog, sizeof(prog)), "the program's mask");
	T_ASSERT(status_mask(gettid(), mine, sizeof(mine)), "own mask after");
	T_ASSERT(strcmp(mine, before) == 0, "%s: the caller's affinity changed: '%s', was '%s'", what, mine, before);
	T_ASSERT(strcmp(prog, before) == 0, "%s: the program runs on CPUs '%s', the caller on '%s'", what, prog, before);
	ppid = (pid_t)t_status_field(pid, "PPid");
	if (ppid > 0 && ppid != getpid()) { /* a monitor */
		T_ASSERT(status_mask(ppid, mon, sizeof(mon)), "the monitor's mask");
		T_ASSERT(strcmp(mon, before) == 0, "%s: the monitor (pid %d) stays on CPUs '%s', the caller on '%s'",
			 what, (int)ppid, mon, before);
	}
	tether_child_kill(c, SIGKILL);
	T_ASSERT(tether_child_wait(c, 10000, NULL) == 0, "wait");
	tether_child_release(c);
	tether_spawn_attr_destroy(attr);
}

/* Rounds per case: t_scaled() in the VMs and under the memory checkers. */
static long rounds;

static void *spawning_thread(void *arg)
{
	(void)arg;
	for (int round = 0; round < rounds; round++)
		check("another thread, SIGCHLD ignored", CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL);
	return NULL;
}

int main(int argc, char **argv)
{
	cpu_set_t all, two, one;
	pthread_attr_t ta;
	pthread_t th;
	char main_mask[256], main_after[256];
	int first = -1, second = -1;

	if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
		pause();
		_exit(0);
	}
	T_ASSERT(sched_getaffinity(0, sizeof(all), &all) == 0, "sched_getaffinity");
	if (CPU_COUNT(&all) < 2)
		t_skip("one CPU: nothing to pin");
	t_require_flags(CLONE_AUTOREAP);
	for (int i = 0; i < CPU_SETSIZE && second < 0; i++)
		if (CPU_ISSET(i, &all))
			*(first < 0 ? &first : &second) = i;
	rounds = t_scaled(20, 5);
	for (int round = 0; round < rounds; round++) {
		check("every CPU", CLONE_AUTOREAP | CLONE_PIDFD_AUTOKILL);
		check("every CPU, autoreap", CLONE_AUTOREAP);
	}
	CPU_ZERO(&two);
	CPU_SET(first, &two);
	CPU_SET(second, &two);
	T_ASSERT(sched_setaffinity(0, sizeof(two), &two) == 0, "sched_setaffinity");
	for (int round = 0; round < rounds; round++)
		check("two CPUs", CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL);

	/* The main thread on one CPU, the spawning thread on two; SIGCHLD ignored. */
	signal(SIGCHLD, SIG_IGN);
	T_ASSERT(pthread_attr_init(&ta) == 0 && pthread_attr_setaffinity_np(&ta, sizeof(two), &two) == 0, "thread attr");
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	T_ASSERT(sched_setaffinity(0, sizeof(one), &one) == 0, "sched_setaffinity");
	T_ASSERT(status_mask(getpid(), main_mask, sizeof(main_mask)), "the main thread's mask");
	T_ASSERT(pthread_create(&th, &ta, spawning_thread, NULL) == 0, "pthread_create");
	T_ASSERT(pthread_join(th, NULL) == 0, "pthread_join");
	pthread_attr_destroy(&ta);
	T_ASSERT(status_mask(getpid(), main_after, sizeof(main_after)) && strcmp(main_after, main_mask) == 0,
		 "the main thread's affinity changed: '%s', was '%s'", main_after, main_mask);
	t_pass("the program and its monitor run with the caller's CPU affinity; the caller's is unchanged");
}

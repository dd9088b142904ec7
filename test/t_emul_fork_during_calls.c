/* SPDX-License-Identifier: MIT */
/*
 * fork() from one thread while another makes emulated tether_clone3()
 * children: every lock of the library is fork-safe from the very first call
 * (its fork handlers are registered at load, not when a reaper thread first
 * starts). Each forked process uses the library itself (it makes and waits
 * for a CLONE_NNP child of its own), which deadlocks if it inherited a
 * library lock held by a thread that does not exist in it.
 */
#include <pthread.h>

#include "harness.h"

#define FORKS 400 /* t_scaled() in the VMs */
/* A forked process that has not ended after this long is stuck. */
#define STUCK_MS 10000

static volatile int stop;

static void *maker(void *arg)
{
	(void)arg;
	while (!stop) {
		struct clone_args a = { .flags = CLONE_NNP, .exit_signal = SIGCHLD };
		int pidfd = -1;
		a.flags |= CLONE_PIDFD;
		a.pidfd = (uintptr_t)&pidfd;
		pid_t pid = tether_clone3(&a, sizeof(a));
		if (pid == 0)
			_exit(0);
		if (pid > 0) {
			siginfo_t si;
			while (waitid(P_PIDFD, pidfd, &si, WEXITED) < 0 && errno == EINTR)
				;
			close(pidfd);
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t t;
	int stuck = 0;

	t_require_flags(CLONE_NNP);
	const long forks = t_scaled(FORKS, 100);
	T_ASSERT(pthread_create(&t, NULL, maker, NULL) == 0, "pthread_create");
	for (long i = 0; i < forks && !stuck; i++) {
		pid_t p = fork();
		T_ASSERT(p >= 0, "fork: %s", strerror(errno));
		if (p == 0) {
			struct clone_args a = { .flags = CLONE_NNP, .exit_signal = SIGCHLD };
			pid_t c = tether_clone3(&a, sizeof(a));
			if (c == 0)
				_exit(0);
			_exit(c > 0 && waitpid(c, NULL, 0) == c ? 0 : 2);
		}
		int pidfd = t_pidfd_open(p), st;
		if (!t_pidfd_wait_readable(pidfd, STUCK_MS)) {
			stuck++;
			t_info("forked process %d is stuck after %ld forks", (int)p, i);
			t_kill(p, SIGKILL);
		}
		close(pidfd);
		waitpid(p, &st, 0);
		T_ASSERT(stuck || (WIFEXITED(st) && WEXITSTATUS(st) == 0), "forked process: status %#x", st);
	}
	stop = 1;
	pthread_join(t, NULL);
	T_ASSERT(!stuck, "a fork() during emulated calls deadlocked on a library lock");
	t_pass("%d forks during tether_clone3() calls of another thread: none stuck (%s backend)", (int)forks,
	       t_backend_word(CLONE_NNP));
}

/* SPDX-License-Identifier: MIT */
/*
 * Stress: thousands of autoreap children from several threads at once, of
 * every kind (exit at once, fork a grandchild, exec), some fire-and-forget.
 * Afterwards: no zombie, no leaked fd, no thread of the library left, and
 * every exit status delivered exactly once, to the right child.
 */
#include <dirent.h>
#include <pthread.h>

#include "harness.h"

#define THREADS 4
#define PER_THREAD 500 /* t_scaled() in the VMs */

static long per_thread;

static _Atomic int failures;

static int child_body(int kind, int code)
{
	if (kind == 1) { /* forks a grandchild and waits for it */
		/* Not glibc's fork(): this child is a copy of a multi-threaded
		 * process, where only async-signal-safe calls are allowed. */
		pid_t g = t_clone(0, SIGCHLD, NULL);
		if (g == 0)
			_exit(0);
		waitpid(g, NULL, 0);
	} else if (kind == 2) { /* execs */
		char arg[16];
		snprintf(arg, sizeof(arg), "%d", code);
		char *argv[] = { "t_emul_stress", "--exit", arg, NULL };
		execv("/proc/self/exe", argv);
		return 127;
	}
	return code;
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < per_thread; i++) {
		int code = (int)((id * per_thread + i) % 200), kind = i % 3, pidfd = -1;
		bool forget = i % 10 == 9;
		pid_t pid = t_clone(CLONE_AUTOREAP | (forget ? 0 : CLONE_PIDFD), 0, &pidfd);
		if (pid == 0)
			_exit(child_body(kind, code));
		if (pid < 0) {
			t_info("thread %d child %d: %s", id, i, strerror(errno));
			failures++;
			continue;
		}
		if (forget)
			continue;
		if (!t_pidfd_wait_readable(pidfd, 60000)) {
			failures++;
			continue;
		}
		int st = t_pidfd_exit_status(pidfd);
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != code) {
			t_info("thread %d child %d (kind %d): status %#x, expected exit %d", id, i, kind, st, code);
			failures++;
		}
		tether_pidfd_close(pidfd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];
	int fds_before;

	if (argc > 2 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	t_require_flags(CLONE_AUTOREAP);
	per_thread = t_scaled(PER_THREAD, 50);
	t_count_sigchld();
	fds_before = t_count_fds();
	for (int i = 0; i < THREADS; i++)
		T_ASSERT(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) == 0, "pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	T_ASSERT(failures == 0, "%d children went wrong", (int)failures);

	/* Everything settles: the reaper reaps the last ones and then ends. */
	long long end = t_now_ms() + 30000;
	pid_t live[64];
	siginfo_t si;
	while (t_live_children(live, 64) > 0 || t_status_field(getpid(), "Threads") != 1 ||
	       (si.si_pid = 0, waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 && si.si_pid)) {
		T_ASSERT(t_now_ms() < end, "did not settle: %d live children, %ld threads", t_live_children(live, 64),
			 t_status_field(getpid(), "Threads"));
		usleep(5000);
	}
	T_ASSERT(t_count_fds() == fds_before, "fds: %d before, %d after", fds_before, t_count_fds());
	/* Natively none; emulated, exec'd children send one (deviation "exec"). */
	T_ASSERT(t_sigchld_count == 0 || t_emulated(CLONE_AUTOREAP), "%d SIGCHLD", (int)t_sigchld_count);
	t_pass("%d children from %d threads: every status right and delivered once, no zombie, no leaked fd, "
	       "no thread left (%s backend)",
	       (int)(THREADS * per_thread), THREADS, t_backend_word(CLONE_AUTOREAP));
}

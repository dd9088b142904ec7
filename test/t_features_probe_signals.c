/* SPDX-License-Identifier: MIT */
/*
 * The first call's feature probe creates a short-lived child sharing the
 * caller's memory. A signal arriving then must not run the caller's handler
 * inside that child (on the stack the caller is using): the probe blocks
 * every signal across its child and gives the child a stack of its own.
 *
 * WORKERS processes (20 in the test VMs, t_scaled(): the flood grows
 * with the square of their number, and under QEMU's TCG it took up to 40 s),
 * each about to make its first tether_features() call,
 * with a SIGUSR1 handler that uses a good deal of stack, while a process of
 * the same group and a thread of every worker flood the group with SIGUSR1. Every worker must finish its
 * probe and exit normally. (The probe in question runs on kernels with exit
 * info but without PIDFD_INFO_SUPPORTED_MASK, 6.15-6.18; elsewhere this
 * checks that the probe survives the flood.)
 */
#include <pthread.h>

#include "harness.h"

#define WORKERS 80

static volatile sig_atomic_t handled;
static pid_t worker_pid;
static int report_wr = -1;

static void on_usr1(int sig)
{
	volatile char scratch[4096];

	for (size_t i = 0; i < sizeof(scratch); i += 64)
		scratch[i] = (char)sig;
	handled++;
	/* Not the worker itself: the probe's child, which shares its memory. */
	if (syscall(SYS_getpid) != worker_pid)
		(void)!write(report_wr, "x", 1);
}

static void *flood(void *arg)
{
	pid_t pgid = (pid_t)(intptr_t)arg;

	for (;;)
		t_killpg(pgid, SIGUSR1);
	return NULL;
}

/* Every worker floods the group too, from a thread that takes no SIGUSR1. */
static void start_flood_thread(pid_t pgid)
{
	sigset_t usr1, old;
	pthread_t t;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &old);
	T_ASSERT(pthread_create(&t, NULL, flood, (void *)(intptr_t)pgid) == 0, "pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* What a first probe answers without a flood, found in a child so that this
 * process's own cache stays empty for the workers it forks. */
static unsigned int quiet_probe(void)
{
	int p[2], st;
	unsigned int f = 0;
	pid_t pid;

	T_ASSERT(pipe(p) == 0, "pipe");
	pid = fork();
	T_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		f = tether_features();
		_exit(write(p[1], &f, sizeof(f)) == sizeof(f) ? 0 : 1);
	}
	close(p[1]);
	T_ASSERT(read(p[0], &f, sizeof(f)) == sizeof(f), "the quiet probe gave no answer");
	close(p[0]);
	waitpid(pid, &st, 0);
	return f;
}

static int run(void *arg)
{
	pid_t workers[WORKERS], flooder, self = getpid();
	const int n = (int)t_scaled(WORKERS, 20);
	unsigned int expected = quiet_probe();
	int gate[2], rep[2], bad = 0, in_child = 0;
	char c;

	(void)arg;
	T_ASSERT(setpgid(0, 0) == 0, "setpgid: %s", strerror(errno));
	t_own_pgroup(self);
	signal(SIGUSR1, SIG_IGN); /* the test's own process is not under test */
	T_ASSERT(pipe(gate) == 0 && pipe2(rep, O_NONBLOCK) == 0, "pipe");
	report_wr = rep[1];
	for (int i = 0; i < n; i++) {
		workers[i] = fork();
		T_ASSERT(workers[i] >= 0, "fork");
		if (workers[i] == 0) {
			struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
			worker_pid = getpid();
			sigaction(SIGUSR1, &sa, NULL);
			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			start_flood_thread(self);
			/* Under a flood the probe must find what it finds without one
			 * (under valgrind, for one, clone3 is missing either way). */
			_exit(tether_features() == expected ? 0 : 3);
		}
	}
	close(gate[0]);
	flooder = fork();
	T_ASSERT(flooder >= 0, "fork");
	if (flooder == 0) {
		close(gate[1]);
		for (;;)
			t_killpg(self, SIGUSR1);
	}
	close(gate[1]); /* go */
	for (int i = 0; i < n; i++) {
		int st;
		while (waitpid(workers[i], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			bad++;
			t_info("worker %d: status %#x", i, st);
		}
	}
	t_kill(flooder, SIGKILL);
	waitpid(flooder, NULL, 0);
	while (read(rep[0], &c, 1) == 1)
		in_child++;
	t_info("%d workers died; a handler ran %d times in a probe's child", bad, in_child);
	return bad || in_child ? 1 : 0;
}

int main(void)
{
	int st = t_in_subprocess(run, NULL);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		 "a handler ran in a probe's child, or a worker died in its first tether_features() (status %#x)", st);
	t_pass("%ld first probes under a SIGUSR1 flood: none crashed", t_scaled(WORKERS, 20));
}

/* SPDX-License-Identifier: MIT */
/*
 * Stress, mixed: 8 threads create children every way tether offers, with
 * every valid lifecycle flag combination: tether_spawn (exec) and
 * tether_clone3 fork-like children, children that are multi-threaded and
 * children that fork. A few thousand by default (an eighth in the VMs); TETHER_STRESS_TOTAL=100000
 * for the long run. Afterwards: every exit status right, delivered once;
 * no zombie, no live child, no leaked fd, no thread of the library left.
 */
#include <pthread.h>

#include "spawn_common.h"

#define THREADS 8

static const uint64_t combos[] = {
	0,
	CLONE_AUTOREAP,
	CLONE_NNP,
	CLONE_AUTOREAP | CLONE_NNP,
	CLONE_AUTOREAP | CLONE_PIDFD_AUTOKILL, /* root: CAP_SYS_ADMIN */
	CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL,
};

static long per_thread;
static _Atomic long failures, done_spawn, done_clone;
static size_t ncombos;

static void *spin(void *arg)
{
	(void)arg;
	return NULL;
}

/* A fork-like child's body: only async-signal-safe calls (we are a copy of a threaded process). */
static int clone_child(long i)
{
	if (i % 4 == 1) { /* forks a grandchild */
		pid_t g = t_clone(0, SIGCHLD, NULL);
		if (g == 0)
			_exit(0);
		if (g < 0 || waitpid(g, NULL, 0) != g)
			return 90;
	}
	return (int)(i % 100);
}

static bool run_clone(uint64_t flags, long i)
{
	int pidfd = -1, status;
	bool autoreap = flags & CLONE_AUTOREAP;
	pid_t pid = t_clone(flags | CLONE_PIDFD, autoreap ? 0 : SIGCHLD, &pidfd);
	if (pid == 0)
		_exit(clone_child(i));
	if (pid < 0) {
		t_info("clone flags %#llx: %s", (unsigned long long)flags, strerror(errno));
		return false;
	}
	if (!t_pidfd_wait_readable(pidfd, 60000))
		return false;
	if (autoreap) {
		status = t_pidfd_exit_status(pidfd);
	} else {
		siginfo_t si = { 0 };
		status = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | __WALL) == 0 ? (si.si_status & 0xff) << 8 : -1;
	}
	tether_pidfd_close(pidfd);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != i % 100) {
		t_info("clone %ld flags %#llx: status %#x", i, (unsigned long long)flags, status);
		return false;
	}
	return true;
}

static bool run_spawn(uint64_t flags, long i)
{
	struct tether_child *c;
	struct tether_spawn_attr *attr = ts_attr_flags(flags);
	char code[16];
	snprintf(code, sizeof(code), "%ld", i % 100);
	int r = i % 4 == 3 ? ts_spawn_self(&c, NULL, attr, "threads-exit", code, NULL)
			   : ts_spawn_self(&c, NULL, attr, "exit", code, NULL);
	tether_spawn_attr_destroy(attr);
	if (r < 0) {
		t_info("spawn flags %#llx: %s", (unsigned long long)flags, strerror(-r));
		return false;
	}
	struct tether_exit_info info;
	r = tether_child_wait(c, 60000, &info);
	tether_child_release(c);
	if (r < 0 || !info.exited || info.exit_code != i % 100) {
		t_info("spawn %ld flags %#llx: r=%d exited=%d code=%d", i, (unsigned long long)flags, r, info.exited,
		       info.exit_code);
		return false;
	}
	return true;
}

static void *worker(void *arg)
{
	long id = (long)(intptr_t)arg;
	for (long k = 0; k < per_thread; k++) {
		long i = id * per_thread + k;
		uint64_t flags = combos[(size_t)i % ncombos];
		bool ok;
		if (i % 2) {
			ok = run_spawn(flags, i);
			done_spawn++;
		} else {
			ok = run_clone(flags, i);
			done_clone++;
		}
		if (!ok)
			failures++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[THREADS];
	char before[4096], after[4096];
	const char *total_env = getenv("TETHER_STRESS_TOTAL");
	long total = total_env ? atol(total_env) : t_scaled(2400, 240);

	if (argc > 3 && strcmp(argv[1], "child") == 0 && strcmp(argv[2], "threads-exit") == 0) {
		/* A multi-threaded child: a second thread, then exit with the code. */
		pthread_t t;
		if (pthread_create(&t, NULL, spin, NULL) == 0)
			pthread_join(t, NULL);
		exit(atoi(argv[3]));
	}
	ts_child_dispatch(argc, argv);
	for (size_t i = 0; i < TS_N(combos); i++)
		if (!t_native_without(combos[i]))
			ncombos = i + 1; /* the combinations are ordered; native-only runs keep the plain ones */
	if (ncombos == 1) /* only the plain spawns, which the emulate pass makes as well */
		t_skip_native_pass_without(combos[1]);
	if (ncombos < TS_N(combos))
		t_info("native backend, kernel without the flags: only %zu flag combination(s)", ncombos);
	per_thread = total / THREADS;

	/* What the library keeps for good is set up before the snapshot. */
	T_ASSERT(run_spawn(combos[ncombos - 1], 0), "warm-up");
	ts_assert_no_children("warm-up");
	t_settle_threads();
	ts_fd_list(before, sizeof(before));

	for (long t = 0; t < THREADS; t++)
		T_ASSERT(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) == 0, "pthread_create");
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	T_ASSERT(failures == 0, "%ld of %ld children went wrong", (long)failures, per_thread * THREADS);

	ts_assert_no_children("after the run");
	long long end = t_now_ms() + 10000;
	while (t_status_field(getpid(), "Threads") != 1 && t_now_ms() < end)
		usleep(2000);
	T_ASSERT(t_status_field(getpid(), "Threads") == 1, "a library thread is left");
	ts_fd_list(after, sizeof(after));
	T_ASSERT(strcmp(before, after) == 0, "descriptors: before '%s', after '%s'", before, after);
	siginfo_t si = { 0 };
	T_ASSERT(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 || si.si_pid == 0,
		 "a zombie is left (pid %d)", si.si_pid);
	t_pass("%ld spawned and %ld cloned children from %d threads, %zu flag combinations: every status right; "
	       "no zombie, no fd, no thread left (%s backend)",
	       (long)done_spawn, (long)done_clone, THREADS, ncombos,
	       t_backend_word(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL));
}

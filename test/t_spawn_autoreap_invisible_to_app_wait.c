/* SPDX-License-Identifier: MIT */
/*
 * CLONE_AUTOREAP spawned children are invisible to the application's own
 * child handling (B1, B4), whatever the application does about SIGCHLD:
 *  - "handler": the common SIGCHLD handler that loops waitpid(-1, WNOHANG)
 *    and reaps everything it is told about, plus a thread blocked in
 *    wait(-1), plus waitpid(-1)/waitid(P_ALL) polls after every child;
 *  - "ignore": SIGCHLD set to SIG_IGN (the daemon idiom);
 *  - "nocldwait": a counting handler with SA_NOCLDWAIT.
 * Each case runs in a fresh forked process. In each, 100 tether_spawn()
 * children (40 in the test VMs, t_scaled()) exit with K, spawned with AUTOREAP, AUTOREAP|NNP and
 * AUTOREAP|NNP|AUTOKILL in turn: 0 SIGCHLD reaches the caller, none is
 * returned by wait(-1), waitpid(-1) or waitid(P_ALL) without __WALL, and
 * tether_child_wait() reports every status exactly (on kernels without exit
 * info after the reap, an application that reaps the child would lose it).
 * An ordinary child spawned alongside (no flags) stays the application's:
 * the handler reaps it with its exact status (B4).
 */
#include <pthread.h>

#include "hostile_common.h"

#define N 100
#define ORDINARY_CODE 42

enum mode { M_HANDLER, M_IGNORE, M_NOCLDWAIT };
static const char *const mode_names[] = { "handler", "ignore", "nocldwait" };

static volatile sig_atomic_t sigchld_seen;
/* What the application reaped: pid and status, from the handler or the waiter thread. */
static pid_t reaped_pid[4 * N];
static int reaped_status[4 * N];
/* nslots: entries taken (handler and waiter thread may both be writing);
 * nreaped: entries written, counted only after the write, so that a reader
 * that sees nreaped > 0 also sees reaped_pid[0]. */
static int nslots, nreaped;

static void note_reaped(pid_t pid, int st)
{
	int i = __atomic_fetch_add(&nslots, 1, __ATOMIC_SEQ_CST);
	if (i < (int)TS_N(reaped_pid)) {
		reaped_pid[i] = pid;
		reaped_status[i] = st;
	}
	__atomic_fetch_add(&nreaped, 1, __ATOMIC_SEQ_CST);
}

static void on_sigchld(int sig)
{
	int saved = errno, st;
	pid_t p;

	(void)sig;
	sigchld_seen++;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		note_reaped(p, st);
	errno = saved;
}

static void *waiter(void *arg)
{
	(void)arg;
	for (;;) {
		int st;
		pid_t p = wait(&st);
		if (p > 0)
			note_reaped(p, st);
		else if (errno == ECHILD)
			return NULL;
	}
}

static int run_case(void *arg)
{
	const enum mode mode = (enum mode)(intptr_t)arg;
	static const uint64_t flag_sets[] = { CLONE_AUTOREAP, CLONE_AUTOREAP | CLONE_NNP, HC_AUTOKILL_SPAWN };
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
	struct tether_spawn_attr *plain = ts_attr_flags(0);
	struct tether_file_actions *fa;
	struct tether_child *ord;
	struct tether_exit_info oinfo;
	pthread_t th;
	int gate[2], polls_returned = 0;

	sigemptyset(&sa.sa_mask);
	if (mode == M_IGNORE)
		sa.sa_handler = SIG_IGN;
	if (mode == M_NOCLDWAIT)
		sa.sa_flags |= SA_NOCLDWAIT;
	T_ASSERT(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction");

	/* The ordinary child: holds until we close the gate's write end. */
	T_ASSERT(pipe2(gate, O_CLOEXEC) == 0, "pipe");
	T_ASSERT(tether_file_actions_init(&fa) == 0 && tether_file_actions_add_dup2(fa, gate[0], 0) == 0, "fa");
	{
		char code[8];
		snprintf(code, sizeof(code), "%d", ORDINARY_CODE);
		T_ASSERT(tether_spawn(&ord, TS_SELF, fa, plain, ts_argv("stdin-exit", code, NULL), NULL) == 0,
			 "spawning the ordinary child");
	}
	close(gate[0]);
	tether_file_actions_destroy(fa);
	tether_spawn_attr_destroy(plain);
	T_ASSERT(pthread_create(&th, NULL, waiter, NULL) == 0, "waiter thread");

	const int n = (int)t_scaled(N, 40);
	for (int i = 0; i < n; i++) {
		const uint64_t flags = flag_sets[i % 3];
		const int k = (i * 37 + 1) % 256;
		char ks[16];
		struct tether_child *c;
		struct tether_exit_info info;
		siginfo_t si;
		int st, r;
		pid_t p;

		snprintf(ks, sizeof(ks), "%d", k);
		r = hc_spawn(&c, flags, "exit", ks, NULL);
		T_ASSERT(r == 0, "%s: spawn %d: %s", mode_names[mode], i, strerror(-r));
		info = ts_wait(c, "autoreap child");
		T_ASSERT(info.exited && info.exit_code == k,
			 "%s: child %d (flags %#llx) exit %d: status %#x (exited %d code %d signaled %d sig %d)",
			 mode_names[mode], i, (unsigned long long)flags, k, info.status, info.exited, info.exit_code,
			 info.signaled, info.signal);
		tether_child_release(c);
		/* The ordinary child still runs, so these return 0, not ECHILD. */
		p = waitpid(-1, &st, WNOHANG);
		if (p > 0)
			note_reaped(p, st), polls_returned++;
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == 0 && si.si_pid > 0)
			note_reaped(si.si_pid, si.si_status), polls_returned++;
	}
	T_ASSERT(sigchld_seen == 0, "%s: %d SIGCHLD reached the application", mode_names[mode], (int)sigchld_seen);
	T_ASSERT(nreaped == 0, "%s: the application reaped %d process(es) (first pid %d, status %#x; %d by polls)",
		 mode_names[mode], nreaped, (int)reaped_pid[0], reaped_status[0], polls_returned);

	/* B4: the ordinary child is still the application's. */
	close(gate[1]);
	if (mode == M_HANDLER) {
		long long end = t_now_ms() + 20000;
		while (__atomic_load_n(&nreaped, __ATOMIC_SEQ_CST) == 0 && t_now_ms() < end)
			usleep(1000);
		T_ASSERT(nreaped == 1 && reaped_pid[0] == tether_child_pid(ord),
			 "handler: the ordinary child %d was not reaped by the application (%d reaped, first %d)",
			 (int)tether_child_pid(ord), nreaped, (int)reaped_pid[0]);
		T_ASSERT(WIFEXITED(reaped_status[0]) && WEXITSTATUS(reaped_status[0]) == ORDINARY_CODE,
			 "handler: the ordinary child's status %#x", reaped_status[0]);
		T_ASSERT(sigchld_seen >= 1, "handler: no SIGCHLD for the ordinary child");
		/* The application took it: the library must say so, not invent a status. */
		(void)tether_child_wait(ord, 0, &oinfo);
	} else {
		/* The application's own disposition reaps it, as the kernel does. */
		T_ASSERT(t_wait_pid_reaped(tether_child_pid(ord), 20000), "%s: the ordinary child stayed",
			 mode_names[mode]);
	}
	tether_child_release(ord);
	T_ASSERT(pthread_join(th, NULL) == 0, "join");
	T_ASSERT(nreaped == (mode == M_HANDLER), "%s: the application reaped %d process(es)", mode_names[mode],
		 nreaped);
	t_info("%s: %d children, exact statuses, 0 SIGCHLD, 0 reaped by the application; ordinary child %s",
	       mode_names[mode], n, mode == M_HANDLER ? "reaped by the application with its status" : "gone");
	return 0;
}

int main(int argc, char **argv)
{
	hc_child_dispatch(argc, argv);
	t_require_flags(HC_AUTOKILL_SPAWN | CLONE_PIDFD);
	for (int m = M_HANDLER; m <= M_NOCLDWAIT; m++) {
		int st = t_in_subprocess(run_case, (void *)(intptr_t)m);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "case %s failed (status %#x)", mode_names[m], st);
	}
	t_pass("autoreap spawned children: invisible to the application's SIGCHLD handler, SIG_IGN, SA_NOCLDWAIT, "
	       "wait(-1), waitpid(-1), waitid(P_ALL); statuses exact (%s backend)",
	       t_backend_word(HC_AUTOKILL_SPAWN | CLONE_PIDFD));
}

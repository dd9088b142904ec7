/* SPDX-License-Identifier: MIT */
/*
 * The creator execs while its tether children live (a server re-exec'ing
 * itself to upgrade). Natively: the autokill pidfds are O_CLOEXEC, so the
 * exec drops the last reference and the autokill child dies; the autoreap
 * child lives on and the new image gets no SIGCHLD for anything of the old
 * image's, and waitpid(-1)/waitid(P_ALL) never return any of it (the
 * kernel's autoreap child is a live, exec'd child there: a blocking wait(-1)
 * would wait for it, so the new image polls with WNOHANG). The same must
 * hold with the emulation, where the monitors take over from the gone
 * image.
 *
 * NOT IN THE SUITE: what the emulation does instead is a documented
 * deviation, pinned by t_dev_creator_exec_monitor_is_ordinary: after the exec the old image's monitors have
 * exec'd their embedded program, which resets their exit signal to SIGCHLD
 * (fs/exec.c), so they are ordinary children of the new image: it gets a
 * SIGCHLD when the autokill child's monitor ends, and waitpid(-1) returns
 * that monitor (status 0). Reproduce:
 *   cc -std=gnu17 -D_GNU_SOURCE -pthread -Iinclude -Itest test/t_emul_hostile_creator_exec.c \
 *      test/harness.c build/src/libtether.a -static -o /tmp/t && TETHER_BACKEND=emulate /tmp/t
 */
#include "hostile_common.h"

static volatile sig_atomic_t sigchld;

static void on_sigchld(int sig)
{
	(void)sig;
	sigchld++;
}

/* The new image: argv "after-exec KILLPID PROGPID". */
static int after_exec(pid_t killpid, pid_t prog)
{
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
	int st, watch = t_pidfd_open(killpid);
	pid_t p;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	T_ASSERT(watch < 0 || t_dies(watch, 20000), "the autokill child survived its creator's exec");
	T_ASSERT(t_proc_state(prog) != 0, "the autoreap child died at its creator's exec");
	usleep(T_SETTLE_MS * 1000);
	/* Counted, reported at the end: the wait loop below says more. */
	int early_sigchld = sigchld;
	for (long long end = t_now_ms() + 1000; t_now_ms() < end; usleep(10000)) {
		siginfo_t si = { 0 };
		p = waitpid(-1, &st, WNOHANG);
		if (p > 0) {
			char comm[32];
			hc_comm(p, comm, sizeof(comm));
			t_fail("new image: waitpid(-1) returned %d (status %#x) of the old image's (%d SIGCHLD)", (int)p, st,
			       (int)sigchld);
		}
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == 0 && si.si_pid > 0)
			t_fail("new image: waitid(P_ALL) returned %d of the old image's (%d SIGCHLD)", (int)si.si_pid,
			       (int)sigchld);
	}
	T_ASSERT(early_sigchld == 0 && sigchld == 0, "new image: %d SIGCHLD from the old image's tether children",
		 (int)sigchld);
	return 0;
}

int main(int argc, char **argv)
{
	int gate[2], st;
	pid_t creator;

	if (argc == 4 && strcmp(argv[1], "after-exec") == 0)
		return after_exec((pid_t)atoi(argv[2]), (pid_t)atoi(argv[3]));
	hc_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	T_ASSERT(pipe2(gate, O_CLOEXEC) == 0, "pipe");
	creator = fork();
	T_ASSERT(creator >= 0, "fork");
	if (creator == 0) {
		struct tether_child *k, *p;
		struct tether_file_actions *fa;
		struct tether_spawn_attr *attr = ts_attr_flags(CLONE_AUTOREAP);
		char ks[16], ps[16];

		close(gate[1]);
		T_ASSERT(hc_spawn(&k, HC_AUTOKILL_SPAWN, "sleep", NULL) == 0, "spawn autokill");
		T_ASSERT(tether_file_actions_init(&fa) == 0 && tether_file_actions_add_dup2(fa, gate[0], 0) == 0, "fa");
		T_ASSERT(tether_spawn(&p, TS_SELF, fa, attr, ts_argv("stdin-exit", "0", NULL), NULL) == 0, "spawn");
		snprintf(ks, sizeof(ks), "%d", (int)tether_child_pid(k));
		snprintf(ps, sizeof(ps), "%d", (int)tether_child_pid(p));
		hc_track(tether_child_pid(k));
		execl(TS_SELF, TS_SELF, "after-exec", ks, ps, (char *)NULL);
		t_fail("exec: %s", strerror(errno));
	}
	close(gate[0]);
	T_ASSERT(waitpid(creator, &st, 0) == creator, "waitpid");
	close(gate[1]); /* the autoreap child ends */
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the re-exec'd creator failed (status %#x)", st);
	t_pass("creator exec'd: autokill child died, autoreap child lived on invisible to the new image (%s backend)",
	       t_backend_word(T_AUTOKILL_FLAGS));
}

/* SPDX-License-Identifier: MIT */
/*
 * A service stop the way systemd does it: SIGTERM to every process of the
 * service (here: every descendant of the test process, i.e. each program
 * and every helper process the library made for it), then a grace period.
 * The SIGTERM must reach each program exactly once and let it finish its
 * clean-up (about a second) and exit 0: no helper dies of the SIGTERM, and
 * none turns it into a SIGKILL of the program (autokill's fail-closed path)
 * or forwards it a second time. Spawned children with AUTOREAP and with
 * AUTOREAP|NNP|AUTOKILL, and a fork-like tether_clone3() autokill child.
 */
#include "hostile_common.h"

#define MAXP 256

static int forklike_main(void *arg)
{
	int *fd = arg;
	char *argv[] = { (char *)TS_SELF, (char *)"child", (char *)"term", NULL };

	dup2(*fd, 1);
	hc_child_dispatch(3, argv); /* never returns */
	return 98;
}

int main(int argc, char **argv)
{
	static const uint64_t sets[] = { CLONE_AUTOREAP, CLONE_AUTOREAP | CLONE_NNP, HC_AUTOKILL_SPAWN };
	enum { NS = 3 };
	struct tether_child *c[NS];
	struct tether_file_actions *fa;
	int ready[2], fl_pidfd, fl_watch, nd, helpers = 0, monfd[MAXP], nmon = 0;
	pid_t fl_pid, desc[MAXP];
	char b;

	hc_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	T_ASSERT(pipe2(ready, O_CLOEXEC) == 0, "pipe");
	T_ASSERT(tether_file_actions_init(&fa) == 0 && tether_file_actions_add_dup2(fa, ready[1], 1) == 0, "fa");
	for (int i = 0; i < NS; i++) {
		struct tether_spawn_attr *attr = ts_attr_flags(sets[i]);
		int r = tether_spawn(&c[i], TS_SELF, fa, attr, ts_argv("term", NULL), NULL);
		T_ASSERT(r == 0, "spawn %d: %s", i, strerror(-r));
		hc_track(tether_child_pid(c[i]));
		tether_spawn_attr_destroy(attr);
	}
	tether_file_actions_destroy(fa);
	fl_pid = t_clone_fn(T_AUTOKILL_FLAGS, 0, &fl_pidfd, forklike_main, &ready[1]);
	T_ASSERT(fl_pid > 0, "fork-like autokill child: %s", strerror(errno));
	fl_watch = t_pidfd_open(fl_pid);
	close(ready[1]);
	for (int i = 0; i < NS + 1; i++)
		T_ASSERT(read(ready[0], &b, 1) == 1, "a program did not get ready");

	/* The service stop: every process below us, once each. */
	nd = hc_descendants(getpid(), desc, MAXP);
	for (int i = 0; i < nd; i++) {
		bool program = desc[i] == fl_pid;
		for (int j = 0; j < NS; j++)
			program |= desc[i] == tether_child_pid(c[j]);
		if (!program) {
			helpers++;
			if (nmon < MAXP && (monfd[nmon] = t_pidfd_open(desc[i])) >= 0)
				nmon++;
		}
	}
	for (int i = 0; i < nd; i++)
		t_kill(desc[i], SIGTERM);
	t_info("SIGTERM sent to %d processes: %d programs, %d helpers of the library", nd, NS + 1, helpers);

	/* Mid clean-up: no helper died of it. */
	usleep(T_SETTLE_MS * 1000);
	for (int i = 0; i < nmon; i++)
		T_ASSERT(t_stays_alive(monfd[i], 0), "a helper of the library died of the SIGTERM");

	for (int i = 0; i < NS; i++) {
		struct tether_exit_info info = ts_wait(c[i], "term");
		T_ASSERT(info.exited && info.exit_code == 0,
			 "program spawned with flags %#llx: %s %d (0: clean; 3: SIGTERM twice; signal 9: killed "
			 "in its clean-up)",
			 (unsigned long long)sets[i], info.exited ? "exit" : "signal",
			 info.exited ? info.exit_code : info.signal);
		tether_child_release(c[i]);
	}
	T_ASSERT(t_dies(fl_watch, 20000), "fork-like child did not end");
	{
		int st = t_pidfd_exit_status(fl_pidfd);
		T_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			 "fork-like autokill child: status %#x (0: clean; exit 3: SIGTERM twice; signal 9: killed)", st);
	}
	tether_pidfd_close(fl_pidfd);
	for (int i = 0; i < nmon; i++)
		close(monfd[i]);
	t_pass("SIGTERM to all %d processes of the service: each of %d programs got it once and exited 0 after its "
	       "clean-up (%s backend)",
	       nd, NS + 1, t_backend_word(T_AUTOKILL_FLAGS));
}

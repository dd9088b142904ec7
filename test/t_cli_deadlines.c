/* SPDX-License-Identifier: MIT */
/*
 * tether run --timeout, as timeout(1): a command that ends first keeps its
 * status; at the deadline --signal (default SIGTERM) goes to the command's
 * process group (only the command with --foreground) and tether exits 124,
 * or the command's status with --preserve-status; a command that ignores
 * the signal is killed --kill-after later and tether exits 137; durations
 * take s/m/h/d and fractions, bad ones are tether's error (125); it works
 * with --autokill. And the library call beneath, tether_child_terminate():
 * the signal, the grace, the SIGKILL, for a stopped child too.
 *
 * Runs in the VMs too (no shell needed: the commands are this program).
 * Child modes, besides spawn_common.h's:
 *   ignore-term        ignore SIGTERM, sleep
 *   term-exit N        on SIGTERM exit N
 *   family FILE        fork a grandchild; both sleep; write the grandchild's pid to FILE
 */
#include "cli_common.h"

#define AK (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

static int exit_code;

static void exit_on_term(int sig)
{
	(void)sig;
	_exit(exit_code);
}

static void child_modes(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "child") != 0)
		return;
	if (strcmp(argv[2], "ignore-term") == 0) {
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	if (strcmp(argv[2], "term-exit") == 0 && argc > 3) {
		exit_code = atoi(argv[3]);
		signal(SIGTERM, exit_on_term);
		for (;;)
			pause();
	}
	if (strcmp(argv[2], "family") == 0 && argc > 3) {
		pid_t g = fork();
		if (g == 0) {
			/* Not holding tether's output pipes: the test reads them to their end. */
			int null = open("/dev/null", O_RDWR);
			dup2(null, 1);
			dup2(null, 2);
			for (;;)
				pause();
		}
		char line[32];
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		snprintf(line, sizeof(line), "%d\n", (int)g);
		if (fd < 0 || write(fd, line, strlen(line)) < 0)
			_exit(2);
		close(fd);
		for (;;)
			pause();
	}
}

static void expect(int got, int want, const char *what)
{
	T_ASSERT(got == want, "%s: tether exited %d, expected %d (stderr: %s)", what, got, want, tc_err);
}

static void expect_has(const char *needle, const char *what)
{
	T_ASSERT(strstr(tc_err, needle), "%s: no '%s' in the report '%s'", what, needle, tc_err);
}

/*
 * A run of tether: started, then finished. The deadlines are seconds long,
 * so the runs of one check are started together and finished in turn: the
 * test waits for the longest, not for their sum. A run's time is taken when
 * it is finished, so it is never less than how long it took (the checks
 * here are lower bounds, and upper bounds far above the deadlines).
 */
struct job {
	struct tc_cli t;
	long long start;
};

static void job_start_v(struct job *j, const char *const *args)
{
	j->start = t_now_ms();
	tc_start_v(&j->t, NULL, args);
}

static void job_start(struct job *j, const char *first, ...)
{
	const char *args[TC_MAX_ARGS];
	va_list ap;

	va_start(ap, first);
	tc_collect(args, first, ap);
	va_end(ap);
	job_start_v(j, args);
}

/* Its status; output in tc_out and tc_err, *ms how long it took (at least). */
static int job_finish(struct job *j, long long *ms)
{
	int st = tc_finish(&j->t, tc_out, sizeof(tc_out), tc_err, sizeof(tc_err));

	*ms = t_now_ms() - j->start;
	return st;
}

/* Run and return the status; *ms gets how long it took. */
static int timed(long long *ms, const char *first, ...)
{
	const char *args[TC_MAX_ARGS];
	struct job j;
	va_list ap;

	va_start(ap, first);
	tc_collect(args, first, ap);
	va_end(ap);
	job_start_v(&j, args);
	return job_finish(&j, ms);
}

static void check_cli(void)
{
	struct job j[12];
	long long ms;
	int st;

	/* Every run that ends by itself, by the deadline's signal or by SIGKILL
	 * after a SIGTERM it obeys, at once. */
	job_start(&j[0], "run", "--timeout", "30", TS_SELF, "child", "exit", "3", NULL);
	job_start(&j[1], "run", "--timeout", "30", TS_SELF, "child", "raise", "15", NULL);
	job_start(&j[2], "run", "--report=json", "--timeout", "1", TS_SELF, "child", "sleep", NULL);
	job_start(&j[3], "run", "--report=json", "--timeout", "0.5", "--signal", "INT", TS_SELF, "child", "sleep", NULL);
	job_start(&j[4], "run", "--timeout", "0.5s", "--signal=SIGUSR1", "--preserve-status", TS_SELF, "child", "sleep",
		  NULL);
	job_start(&j[5], "run", "--timeout", "0.01m", "--signal", "9", TS_SELF, "child", "sleep", NULL);
	/* (3 s: the command must have its handler before the deadline, also on a loaded machine) */
	job_start(&j[6], "run", "--timeout", "3", "--preserve-status", TS_SELF, "child", "term-exit", "7", NULL);
	job_start(&j[7], "run", "--timeout", "3", TS_SELF, "child", "term-exit", "7", NULL);
	job_start(&j[8], "run", "--report=json", "--timeout", "0.5", "--kill-after", "5", TS_SELF, "child", "sleep", NULL);
	job_start(&j[9], "run", "--timeout", "0x1p-1", TS_SELF, "child", "sleep", NULL);

	/* The command ends first: its own status, at once. */
	st = job_finish(&j[0], &ms);
	expect(st, 3, "exit before the deadline");
	T_ASSERT(ms < 20000, "tether waited for the deadline (%lld ms)", ms);
	st = job_finish(&j[1], &ms);
	expect(st, 128 + SIGTERM, "killed before the deadline");
	t_info("ended before the deadline: its status (3; 143 for SIGTERM)");

	/* The deadline: SIGTERM, 124; not before the deadline. */
	st = job_finish(&j[2], &ms);
	expect(st, 124, "timed out");
	T_ASSERT(ms >= 900, "timed out after %lld ms, before the 1 s deadline", ms);
	expect_has("\"signal\":15,", "timed out");
	expect_has("\"timed_out\":true,", "timed out");
	expect_has("\"exit_status\":124}", "timed out");
	t_info("--timeout 1: SIGTERM, exit 124, not before 1 s");

	/* --signal, names and numbers; --preserve-status gives the command's status. */
	st = job_finish(&j[3], &ms);
	expect(st, 124, "--signal INT");
	expect_has("\"signal\":2,", "--signal INT");
	expect(job_finish(&j[4], &ms), 128 + SIGUSR1, "--signal=SIGUSR1 --preserve-status");
	expect(job_finish(&j[5], &ms), 137, "--signal 9");
	expect(job_finish(&j[6], &ms), 7, "--preserve-status, the command exits 7 on SIGTERM");
	expect(job_finish(&j[7], &ms), 124, "no --preserve-status, the command exits 7 on SIGTERM");
	t_info("--signal INT/SIGUSR1/9: 124, 128+N with --preserve-status (exit 7 kept), 137 for KILL");
	/* One that obeys: no SIGKILL, 124. */
	st = job_finish(&j[8], &ms);
	expect(st, 124, "obeys SIGTERM, --kill-after 5");
	expect_has("\"killed_after_timeout\":false", "obeys");
	expect(job_finish(&j[9], &ms), 124, "0x1p-1 (0.5 s)");

	/*
	 * A command that ignores SIGTERM: SIGKILL after --kill-after, 137 (also
	 * with --preserve-status). It ignores it from its exec on: SIG_IGN is
	 * inherited through tether, which only blocks the signal (a blocked
	 * signal is queued even while ignored, so tether still sees it). The
	 * disposition is ours again once they run: a spawn returns after the exec.
	 */
	signal(SIGTERM, SIG_IGN);
	job_start(&j[0], "run", "--report=json", "--timeout", "0.5", "--kill-after", "1", TS_SELF, "child", "ignore-term",
		  NULL);
	job_start(&j[1], "run", "--timeout", "0.5", "--kill-after", "0.5", "--preserve-status", TS_SELF, "child",
		  "ignore-term", NULL);
	/* --kill-after without a deadline: after a SIGTERM that tether passed on, as timeout(1). */
	job_start(&j[2], "run", "--kill-after", "1", TS_SELF, "child", "ignore-term", NULL);
	signal(SIGTERM, SIG_DFL);
	/* tether inherited SIGTERM ignored: one sent before it blocks it (for its
	 * signalfd) would be lost, so wait for that, however slow its start
	 * (ASan on a loaded machine took over 300 ms). */
	{
		long long end = t_now_ms() + 20000;
		char blk[64] = "";
		while (!(t_status_text(tether_child_pid(j[2].t.child), "SigBlk", blk, sizeof(blk)) &&
			 (strtoull(blk, NULL, 16) & (1ULL << (SIGTERM - 1)))) &&
		       t_now_ms() < end)
			usleep(10000);
		T_ASSERT(strtoull(blk, NULL, 16) & (1ULL << (SIGTERM - 1)), "tether never blocked SIGTERM");
	}
	usleep(300000);
	long long sent = t_now_ms();
	T_ASSERT(tether_child_kill(j[2].t.child, SIGTERM) == 0, "SIGTERM to tether");

	st = job_finish(&j[0], &ms);
	expect(st, 137, "ignores SIGTERM, --kill-after 1");
	T_ASSERT(ms >= 1400, "killed after %lld ms: --kill-after did not wait", ms);
	expect_has("\"signal\":9,", "--kill-after");
	expect_has("\"killed_after_timeout\":true", "--kill-after");
	expect(job_finish(&j[1], &ms), 137, "--kill-after with --preserve-status");
	st = job_finish(&j[2], &ms);
	expect(st, 128 + SIGKILL, "--kill-after after a passed-on SIGTERM");
	T_ASSERT(t_now_ms() - sent >= 900, "SIGKILL before --kill-after ran out");
	t_info("ignoring SIGTERM: SIGKILL after --kill-after, 137; obeying: 124");

	/* --timeout 0: no deadline. Bad durations and signals: tether's error, 125, nothing run. */
	expect(timed(&ms, "run", "--timeout", "0", TS_SELF, "child", "exit", "4", NULL), 4, "--timeout 0");
	static const char *const bad[][2] = { { "--timeout", "x" },	  { "--timeout", "-1" }, { "--timeout", "1x" },
					      { "--timeout", "1ss" },	  { "--timeout", "" },	 { "--kill-after", "nan" },
					      { "--timeout", "-0.5s" },	  { "--signal", "NOPE" }, { "--signal", "0" },
					      { "--signal", "65" } };
	for (size_t i = 0; i < TS_N(bad); i++) {
		st = timed(&ms, "run", bad[i][0], bad[i][1], TS_SELF, "child", "exit", "0", NULL);
		expect(st, 125, bad[i][1]);
		T_ASSERT(strncmp(tc_err, "tether: invalid ", 16) == 0, "%s %s: '%s'", bad[i][0], bad[i][1], tc_err);
	}
	expect(timed(&ms, "run", "--timeout", "1d", "--kill-after", "2h", TS_SELF, "child", "exit", "0", NULL), 0,
	       "1d/2h");
	/* As timeout(1): strtod()'s forms too (0x1p-1 above). */
	expect(timed(&ms, "run", "--timeout", "inf", "--kill-after", "1e1", TS_SELF, "child", "exit", "0", NULL), 0,
	       "inf/1e1");
	t_info("durations: 0 none, s/m/h/d and fractions; bad ones and bad signals: 125");
}

/* --foreground: only the command gets the signal; without it its whole process group does. */
static void check_foreground(void)
{
	char file[2][4200], line[32] = "";
	const char *dir = ts_tmpdir();
	struct job j[2];
	long long ms;

	/* (3 s: the grandchild must exist before the deadline, also on a loaded machine) */
	for (int fg = 0; fg <= 1; fg++) {
		snprintf(file[fg], sizeof(file[fg]), "%s/grandchild-%d", dir, fg);
		unlink(file[fg]);
		job_start(&j[fg], "run", "--timeout", "3", fg ? "--foreground" : "--", TS_SELF, "child", "family",
			  file[fg], NULL);
	}
	for (int fg = 0; fg <= 1; fg++) {
		pid_t g;
		int watch, fd;

		expect(job_finish(&j[fg], &ms), 124, fg ? "--foreground" : "group");
		fd = open(file[fg], O_RDONLY | O_CLOEXEC);
		T_ASSERT(fd >= 0 && read(fd, line, sizeof(line) - 1) > 0, "no grandchild pid");
		close(fd);
		g = (pid_t)atoi(line);
		T_ASSERT(g > 1, "grandchild pid '%s'", line);
		watch = t_pidfd_open(g);
		if (!fg) {
			T_ASSERT(watch < 0 || t_dies(watch, 10000), "without --foreground the grandchild survived");
		} else {
			T_ASSERT(watch >= 0 && t_stays_alive(watch, T_SETTLE_MS), "--foreground: the grandchild was signalled");
			t_pidfd_send_signal(watch, SIGKILL); /* ours to clean up: a pidfd, never a bare pid */
			T_ASSERT(t_dies(watch, 10000), "cleanup");
		}
		if (watch >= 0)
			close(watch);
	}
	t_info("the deadline's signal reaches the command's group; with --foreground only the command");
}

static void check_autokill(void)
{
	long long ms;

	if (t_native_without(AK)) {
		t_info("--autokill --timeout: not checked (native backend, kernel without the flags)");
		return;
	}
	expect(timed(&ms, "run", "--autokill", "--nnp", "--timeout", "0.5", TS_SELF, "child", "sleep", NULL), 124,
	       "--autokill --timeout");
	signal(SIGTERM, SIG_IGN);
	expect(timed(&ms, "run", "--autokill", "--nnp", "--timeout", "0.5", "--kill-after", "0.5", TS_SELF, "child",
		     "ignore-term", NULL),
	       137, "--autokill --kill-after");
	signal(SIGTERM, SIG_DFL);
	t_info("with --autokill (%s backend): 124, and 137 after --kill-after", t_backend_word(AK));
}

/* Wait (bounded) until pid ignores SIGTERM (its SigIgn in /proc): the child has set itself up. */
static void wait_ignoring_term(pid_t pid)
{
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "re");
		unsigned long long ign = 0;
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "SigIgn:", 7) == 0)
				ign = strtoull(line + 7, NULL, 16);
		if (f)
			fclose(f);
		if (ign & (1ULL << (SIGTERM - 1)))
			return;
		usleep(10000);
	}
	t_fail("child %d never ignored SIGTERM", (int)pid);
}

/* tether_child_terminate(): signal, grace, SIGKILL. */
static void check_library(void)
{
	struct tether_exit_info info;
	struct tether_child *c;
	long long start;
	int r;

	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "sleep", NULL) == 0, "spawn");
	errno = 1234;
	r = tether_child_terminate(c, SIGTERM, 10000, &info);
	T_ASSERT(r == 0 && info.signaled && info.signal == SIGTERM, "obeying child: %d, signal %d", r, info.signal);
	T_ASSERT(errno == 1234, "errno changed to %d", errno);
	/* Ended already: the same info again, no error. */
	T_ASSERT(tether_child_terminate(c, SIGTERM, 0, &info) == 0 && info.signal == SIGTERM, "ended child");
	tether_child_release(c);

	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "ignore-term", NULL) == 0, "spawn");
	wait_ignoring_term(tether_child_pid(c));
	start = t_now_ms();
	r = tether_child_terminate(c, SIGTERM, 1000, &info);
	T_ASSERT(r == 1 && info.signaled && info.signal == SIGKILL, "ignoring child: %d, signal %d", r, info.signal);
	T_ASSERT(t_now_ms() - start >= 900, "SIGKILL before the grace ran out (%lld ms)", t_now_ms() - start);
	tether_child_release(c);

	/* A stopped child gets SIGCONT after the signal, and so can end by it within the grace. */
	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "sleep", NULL) == 0, "spawn");
	T_ASSERT(tether_child_kill(c, SIGSTOP) == 0, "SIGSTOP");
	r = tether_child_terminate(c, SIGTERM, 10000, &info);
	T_ASSERT(r == 0 && info.signal == SIGTERM, "stopped child: %d, signal %d", r, info.signal);
	tether_child_release(c);

	/* grace 0: SIGKILL at once after the signal. */
	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "ignore-term", NULL) == 0, "spawn");
	wait_ignoring_term(tether_child_pid(c));
	r = tether_child_terminate(c, SIGTERM, 0, &info);
	T_ASSERT(r == 1 && info.signal == SIGKILL, "grace 0: %d, signal %d", r, info.signal);
	tether_child_release(c);

	T_ASSERT(tether_child_terminate(NULL, SIGTERM, 0, NULL) == -EINVAL, "NULL child");
	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "exit", "6", NULL) == 0, "spawn");
	T_ASSERT(tether_child_terminate(c, 0, 0, NULL) == -EINVAL, "signal 0");
	T_ASSERT(tether_child_terminate(c, NSIG, 0, NULL) == -EINVAL, "signal NSIG");
	T_ASSERT(tether_child_terminate(c, SIGTERM, -2, NULL) == -EINVAL, "grace -2");
	r = tether_child_terminate(c, SIGTERM, -1, &info);
	T_ASSERT(r == 0 && ((info.exited && info.exit_code == 6) || (info.signaled && info.signal == SIGTERM)),
		 "grace -1: %d", r);
	tether_child_release(c);
	t_info("tether_child_terminate: 0 within the grace, 1 after SIGKILL, SIGCONT for a stopped child, -EINVAL");
}

int main(int argc, char **argv)
{
	child_modes(argc, argv);
	tc_dispatch(argc, argv);
	t_skip_native_pass_without(AK);
	signal(SIGTERM, SIG_DFL);
	check_cli();
	check_foreground();
	check_autokill();
	check_library();
	ts_assert_no_children("end");
	t_pass("--timeout/--signal/--kill-after/--preserve-status/--foreground as timeout(1); tether_child_terminate()");
}

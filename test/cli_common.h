/* SPDX-License-Identifier: MIT */
/*
 * Shared by the t_cli_* tests. The VMs have no tether binary, so the CLI's
 * code (cli/tether-cli.c) is built into the test, and the test runs
 * "/proc/self/exe cli ARGS..." to get a process that is tether(1).
 */
#ifndef TETHER_TEST_CLI_COMMON_H
#define TETHER_TEST_CLI_COMMON_H

#include "spawn_common.h"
#include "../cli/tether-cli.c"

/* At the top of main(): be tether(1), or a child mode, when asked to. */
static inline void tc_dispatch(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "cli") == 0)
		exit(tether_cli_main(argc - 1, argv + 1));
	ts_child_dispatch(argc, argv);
}

/* A running tether(1): its handle and the read ends of its stdout and stderr. */
struct tc_cli {
	struct tether_child *child;
	int out, err;
};

/* Start "tether ARGS..." (a NULL-terminated list), cwd in dir if not NULL. */
static inline void tc_start_v(struct tc_cli *t, const char *dir, const char *const *args)
{
	struct tether_file_actions *fa;
	char *v[64];
	int o[2], e[2], n = 0, r;

	v[n++] = (char *)TS_SELF;
	v[n++] = (char *)"cli";
	for (; *args && n < 63; args++)
		v[n++] = (char *)*args;
	v[n] = NULL;
	T_ASSERT(pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0, "pipe2");
	T_ASSERT(tether_file_actions_init(&fa) == 0, "fa");
	T_ASSERT(tether_file_actions_add_dup2(fa, o[1], 1) == 0 && tether_file_actions_add_dup2(fa, e[1], 2) == 0,
		 "dup2");
	if (dir)
		T_ASSERT(tether_file_actions_add_chdir(fa, dir) == 0, "chdir");
	r = tether_spawn(&t->child, TS_SELF, fa, NULL, v, NULL);
	tether_file_actions_destroy(fa);
	close(o[1]);
	close(e[1]);
	T_ASSERT(r == 0, "spawning tether: %s", strerror(-r));
	t->out = o[0];
	t->err = e[0];
}

/* Read both outputs to their end, wait; returns the exit status as a shell shows it. */
static inline int tc_finish(struct tc_cli *t, char *out, size_t olen, char *err, size_t elen)
{
	struct pollfd p[2] = { { t->out, POLLIN, 0 }, { t->err, POLLIN, 0 } };
	size_t lens[2] = { 0, 0 }, caps[2] = { olen - 1, elen - 1 };
	char *bufs[2] = { out, err };
	struct tether_exit_info info;
	int open_fds = 2;

	while (open_fds > 0) {
		if (poll(p, 2, 30000) <= 0)
			t_fail("tether(1) output did not end");
		for (int i = 0; i < 2; i++) {
			char scratch[512];
			ssize_t n;
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (lens[i] < caps[i])
				n = read(p[i].fd, bufs[i] + lens[i], caps[i] - lens[i]);
			else
				n = read(p[i].fd, scratch, sizeof(scratch));
			if (n > 0 && lens[i] < caps[i])
				lens[i] += (size_t)n;
			if (n == 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			}
		}
	}
	out[lens[0]] = '\0';
	err[lens[1]] = '\0';
	info = ts_wait(t->child, "tether(1)");
	tether_child_release(t->child);
	return info.exited ? info.exit_code : 128 + info.signal;
}

/*
 * Signalling a process group: only one this test created and registered
 * with tc_own_group() (never pid 0, 1 or -1: a test bug as root must not
 * reach kill(-1, ...)). Single processes are signalled through pidfds.
 */
static pid_t tc_groups[32];
static int tc_ngroups;

static inline void tc_own_group(pid_t pgid)
{
	T_ASSERT(pgid > 1 && tc_ngroups < (int)TS_N(tc_groups), "tc_own_group(%d)", (int)pgid);
	tc_groups[tc_ngroups++] = pgid;
}

static inline int tc_signal_group(pid_t pgid, int sig)
{
	bool mine = false;

	for (int i = 0; i < tc_ngroups; i++)
		mine |= tc_groups[i] == pgid;
	T_ASSERT(pgid > 1 && mine, "refusing to signal process group %d: not one this test made", (int)pgid);
	return killpg(pgid, sig);
}

static char tc_out[8192], tc_err[8192];

/* The NULL-ended arguments first, ... into args[TC_MAX_ARGS], NULL-ended. */
#define TC_MAX_ARGS 64
static inline void tc_collect(const char **args, const char *first, va_list ap)
{
	int n = 0;

	for (const char *a = first; a && n < TC_MAX_ARGS - 1; a = va_arg(ap, const char *))
		args[n++] = a;
	args[n] = NULL;
}

/* Run "tether ARGS... (NULL)" to its end; output in tc_out and tc_err; returns its status. */
static inline int tc_run_in(const char *dir, const char *first, ...)
{
	const char *args[TC_MAX_ARGS];
	struct tc_cli t;
	va_list ap;

	va_start(ap, first);
	tc_collect(args, first, ap);
	va_end(ap);
	tc_start_v(&t, dir, args);
	return tc_finish(&t, tc_out, sizeof(tc_out), tc_err, sizeof(tc_err));
}
#define tc_run(...) tc_run_in(NULL, __VA_ARGS__)

/* Signals counted by the shared child modes' handler. */
static inline volatile sig_atomic_t *tc_signals_seen(void)
{
	static volatile sig_atomic_t n;
	return &n;
}

static inline void tc_count_signal(int sig)
{
	(void)sig;
	(*tc_signals_seen())++;
}

/*
 * Child modes the terminal tests share ("child MODE"), each ending the process:
 *   count-term  print TERM_READY, count SIGTERMs until 1.5 s pass without one
 *               (30 s at most), print terms=N
 *   winch       print winch-ready, wait for a SIGWINCH (20 s at most), print
 *               size=ROWSxCOLS of the terminal on stdin
 */
static inline void tc_shared_child_modes(int argc, char **argv, const char *term_ready)
{
	struct sigaction sa = { .sa_handler = tc_count_signal };
	volatile sig_atomic_t *got = tc_signals_seen();

	if (argc < 3 || strcmp(argv[1], "child") != 0)
		return;
	if (strcmp(argv[2], "count-term") == 0) {
		long long last = t_now_ms(), start = last;
		int seen = 0;
		sigaction(SIGTERM, &sa, NULL);
		printf("%s\n", term_ready);
		fflush(stdout);
		while (t_now_ms() - start < 30000 && !(seen > 0 && t_now_ms() - last > 1500)) {
			usleep(50000);
			if (*got != seen)
				seen = *got, last = t_now_ms();
		}
		printf("terms=%d\n", (int)*got);
		exit(0);
	}
	if (strcmp(argv[2], "winch") == 0) {
		struct winsize ws;
		long long start = t_now_ms();
		sigaction(SIGWINCH, &sa, NULL);
		printf("winch-ready\n");
		fflush(stdout);
		while (!*got && t_now_ms() - start < 20000)
			usleep(20000);
		if (!*got || ioctl(0, TIOCGWINSZ, &ws) < 0)
			exit(1);
		printf("size=%dx%d\n", ws.ws_row, ws.ws_col);
		exit(0);
	}
}

#endif

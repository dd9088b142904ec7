/* SPDX-License-Identifier: MIT */
/*
 * tether(1). Kept apart from main() so that the tests can run it in-process
 * image (they exec themselves into it; the test machines have no tether
 * binary).
 *
 *   tether run [--autoreap] [--nnp] [--autokill] [--cgroup DIR] [--report[=json]] [--] COMMAND [ARG]...
 *   tether features [--json]
 *   tether init [--keep-tree] [run options] [--] COMMAND [ARG]...
 *
 * Exit status, as timeout(1) and env(1): COMMAND's own; 128+N when a signal
 * N killed it; 126 when it was found but could not be run; 127 when it was
 * not found; 125 when tether itself failed.
 *
 * cli_parse() only reads the command line, so that fuzz/fuzz_cli_args.c can
 * drive it alone; everything with an effect comes after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tether.h>

#include "tether-cli.h"

extern char **environ;

/* Signals passed on to COMMAND. */
static const int cli_forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };

/* One line on f (nothing if f is NULL: the fuzzer's quiet parse); returns EXIT_TETHER. */
__attribute__((format(printf, 2, 3))) static int cli_error(FILE *f, const char *fmt, ...)
{
	va_list ap;

	if (!f)
		return EXIT_TETHER;
	fputs("tether: ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	return EXIT_TETHER;
}
#define cli_fail(...) cli_error(stderr, __VA_ARGS__)

static void cli_help(void)
{
	printf("Usage:\n"
	       " tether run [options] [--] <command> [<argument>...]\n"
	       " tether features [--json]\n"
	       " tether init [--keep-tree] [options] [--] <command> [<argument>...]\n"
	       "\n"
	       "Run a command as a child whose lifecycle is tied to tether, using the\n"
	       "Linux 7.1 clone3() flags where the kernel has them and tether's emulation\n"
	       "elsewhere; or list what the running kernel provides.\n"
	       "\n"
	       "Options for run:\n"
	       "     --autoreap          the command is reaped the moment it exits (CLONE_AUTOREAP)\n"
	       "     --nnp               start the command with no_new_privs (CLONE_NNP)\n"
	       "     --autokill          kill the command when tether dies, even by SIGKILL\n"
	       "                           (CLONE_PIDFD_AUTOKILL; implies --autoreap; needs --nnp\n"
	       "                           without CAP_SYS_ADMIN)\n"
	       "     --cgroup <dir>      start the command in this cgroup v2 directory\n"
	       "     --report[=<format>] say how the command ended, on stderr: text (default) or json\n"
	       "     --tree[=<how>]      the command and every process it starts are one tree,\n"
	       "                           killed together (with --autokill: when tether dies);\n"
	       "                           <how>: auto (default), cgroup or subreaper\n"
	       "\n"
	       "init: run the command as a tree, as an init would (PID 1 of a container):\n"
	       "reap every zombie, pass signals on to the whole tree, exit with the command's\n"
	       "status, and kill what is left of the tree when the command exits.\n"
	       "     --keep-tree         wait for the rest of the tree instead of killing it\n"
	       "\n"
	       "Options for features:\n"
	       "     --json              one JSON object instead of lines\n"
	       "\n"
	       " -h, --help              display this help\n"
	       " -V, --version           display version\n"
	       "\n"
	       "SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 sent to tether are passed on\n"
	       "to the command (those the terminal sends to the whole process group reach it\n"
	       "directly and are not sent twice).\n"
	       "\n"
	       "Exit status: that of the command; 128+N if signal N killed it; 125 if tether\n"
	       "failed; 126 if the command was found but could not be run; 127 if not found.\n"
	       "\n"
	       "The environment variable TETHER_BACKEND=auto|native|emulate chooses the backend.\n"
	       "For more details see tether(1) and tether(7).\n");
}

/* ---- parsing: fills struct cli_options and nothing else ---- */

static int parse_run(int argc, char **argv, struct cli_options *o, FILE *err)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--autoreap") == 0) {
			o->flags |= CLONE_AUTOREAP;
		} else if (strcmp(a, "--nnp") == 0) {
			o->flags |= CLONE_NNP;
		} else if (strcmp(a, "--autokill") == 0) {
			o->flags |= CLONE_PIDFD_AUTOKILL | CLONE_AUTOREAP;
		} else if (strcmp(a, "--cgroup") == 0) {
			if (++i >= argc)
				return cli_error(err, "option '--cgroup' requires an argument");
			o->cgroup = argv[i];
		} else if (strncmp(a, "--cgroup=", 9) == 0) {
			o->cgroup = a + 9;
		} else if (strcmp(a, "--report") == 0 || strcmp(a, "--report=text") == 0) {
			o->report = REPORT_TEXT;
		} else if (strcmp(a, "--report=json") == 0) {
			o->report = REPORT_JSON;
		} else if (strncmp(a, "--report=", 9) == 0) {
			return cli_error(err, "invalid argument '%s' for '--report' (text or json)", a + 9);
		} else if (strcmp(a, "--tree") == 0 || strcmp(a, "--tree=auto") == 0) {
			o->tree = TETHER_TREE_AUTO;
		} else if (strcmp(a, "--tree=cgroup") == 0) {
			o->tree = TETHER_TREE_CGROUP;
		} else if (strcmp(a, "--tree=subreaper") == 0) {
			o->tree = TETHER_TREE_SUBREAPER;
		} else if (strncmp(a, "--tree=", 7) == 0) {
			return cli_error(err, "invalid argument '%s' for '--tree' (auto, cgroup or subreaper)", a + 7);
		} else if (strcmp(a, "--keep-tree") == 0 && o->command == CLI_INIT) {
			o->keep_tree = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o->help = true;
			return 0;
		} else if (a[0] == '-' && a[1] != '\0') {
			return cli_error(err, "unknown option '%s'", a);
		} else {
			break;
		}
	}
	if (i >= argc)
		return cli_error(err, "run: no command given");
	if (o->cgroup && !*o->cgroup)
		return cli_error(err, "invalid argument '' for '--cgroup'");
	o->argv = argv + i;
	return 0;
}

static int parse_features(int argc, char **argv, struct cli_options *o, FILE *err)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			o->help = true;
			return 0;
		} else if (argv[i][0] == '-') {
			return cli_error(err, "unknown option '%s'", argv[i]);
		} else {
			return cli_error(err, "features: unexpected argument '%s'", argv[i]);
		}
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_options *out, FILE *err)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	*out = (struct cli_options){ .command = CLI_NONE, .report = REPORT_NONE };
	if (!cmd)
		return cli_error(err, "no command given (run, init or features; see 'tether --help')");
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		out->help = true;
		return 0;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		out->version = true;
		return 0;
	}
	if (strcmp(cmd, "run") == 0) {
		out->command = CLI_RUN;
		return parse_run(argc - 1, argv + 1, out, err);
	}
	if (strcmp(cmd, "init") == 0) {
		int r;
		out->command = CLI_INIT;
		r = parse_run(argc - 1, argv + 1, out, err);
		if (r == 0 && !out->tree)
			out->tree = TETHER_TREE_AUTO;
		return r;
	}
	if (strcmp(cmd, "features") == 0) {
		out->command = CLI_FEATURES;
		return parse_features(argc - 1, argv + 1, out, err);
	}
	if (cmd[0] == '-')
		return cli_error(err, "unknown option '%s'", cmd);
	return cli_error(err, "unknown command '%s'", cmd);
}

/* ---- names ---- */

static const char *cli_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, len, "SIG%d", sig);
	return buf;
}

/* The name of si_code code for signal sig, or NULL. */
static const char *cli_code_name(int sig, int code)
{
	static const char *const segv[] = { "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR",
					    "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR",
					    "SEGV_MTESERR", "SEGV_CPERR" };
	static const char *const bus[] = { "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR",
					   "BUS_MCEERR_AO" };
	static const char *const ill[] = { "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
					   "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK" };
	static const char *const fpe[] = { "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
					   "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB" };
	static const char *const trap[] = { "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT" };

	switch (code) {
	case SI_USER:
		return "SI_USER";
	case SI_KERNEL:
		return "SI_KERNEL";
	case SI_QUEUE:
		return "SI_QUEUE";
	case SI_TIMER:
		return "SI_TIMER";
	case SI_MESGQ:
		return "SI_MESGQ";
	case SI_ASYNCIO:
		return "SI_ASYNCIO";
	case SI_SIGIO:
		return "SI_SIGIO";
	case SI_TKILL:
		return "SI_TKILL";
	}
#define CODE_IN(tab) (code >= 1 && (size_t)code <= sizeof(tab) / sizeof(tab[0]) ? tab[code - 1] : NULL)
	switch (sig) {
	case SIGSEGV:
		return CODE_IN(segv);
	case SIGBUS:
		return CODE_IN(bus);
	case SIGILL:
		return CODE_IN(ill);
	case SIGFPE:
		return CODE_IN(fpe);
	case SIGTRAP:
		return CODE_IN(trap);
	case SIGSYS:
		return code == 1 ? "SYS_SECCOMP" : NULL;
	}
#undef CODE_IN
	return NULL;
}

/* ---- JSON ---- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_int_or_null(FILE *f, const char *key, bool have, int v)
{
	if (have)
		fprintf(f, ",\"%s\":%d", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

static void json_str_or_null(FILE *f, const char *key, const char *v)
{
	fprintf(f, ",\"%s\":", key);
	if (v)
		json_string(f, v);
	else
		fputs("null", f);
}

/* ---- run ---- */

/*
 * init: reap every ended child of tether's own that sends SIGCHLD (adopted
 * orphans: as PID 1, everything whose parent died and that no subreaper
 * takes). Without __WALL: the library's monitors have no exit signal and
 * are the library's to reap.
 */
static void cli_reap_adopted(void)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
			return;
	}
}

static const char *cli_tree_name(enum tether_tree t)
{
	return t == TETHER_TREE_CGROUP ? "cgroup" : t == TETHER_TREE_SUBREAPER ? "subreaper" : "none";
}

/* The tree's part of --report (text), once it is gone. */
static void cli_report_tree(enum cli_report report, struct tether_child *child)
{
	struct tether_tree_stats st;

	if (report == REPORT_NONE || tether_child_tree_stats(child, &st) < 0)
		return;
	if (report == REPORT_JSON) {
		fprintf(stderr, "{\"tree\":\"%s\",\"signalled\":%u,\"kill_rounds\":%u,\"reaped\":%u,"
			"\"cgroup_removed\":%s,\"cpu_usec\":%lld,\"memory_peak\":%lld}\n",
			cli_tree_name(tether_child_tree(child)), st.signalled, st.kill_rounds, st.reaped,
			st.cgroup_removed ? "true" : "false", st.cpu_usec, st.memory_peak);
		return;
	}
	fprintf(stderr, "tether: tree held by %s: %u processes signalled, %u kill rounds, %u reaped by tether",
		cli_tree_name(tether_child_tree(child)), st.signalled, st.kill_rounds, st.reaped);
	if (st.cpu_usec >= 0)
		fprintf(stderr, ", cpu %lld us", st.cpu_usec);
	if (st.memory_peak >= 0)
		fprintf(stderr, ", memory peak %lld bytes", st.memory_peak);
	fputc('\n', stderr);
}

static const char *stage_word(enum tether_spawn_stage stage)
{
	switch (stage) {
	case TETHER_SPAWN_STAGE_EXEC:
		return "exec";
	case TETHER_SPAWN_STAGE_CHILD:
		return "child";
	case TETHER_SPAWN_STAGE_PARENT:
		return "setup";
	case TETHER_SPAWN_STAGE_NONE:
		break;
	}
	return "none";
}

static int cli_spawn_failed(const char *cmd, int err, enum tether_spawn_stage stage, uint64_t flags,
			    const char *cgroup, enum cli_report report)
{
	int status;

	if (stage == TETHER_SPAWN_STAGE_EXEC) {
		status = err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
		fprintf(stderr, "tether: failed to run '%s': %s\n", cmd, strerror(err));
	} else {
		const char *why = "";
		status = EXIT_TETHER;
		if (err == EPERM && (flags & CLONE_PIDFD_AUTOKILL) && !(flags & CLONE_NNP))
			why = " (--autokill needs --nnp without CAP_SYS_ADMIN)";
		else if (err == EINVAL && flags && tether_backend_for(flags) == TETHER_BACKEND_NATIVE &&
			 (tether_features() & (TETHER_FEATURE_AUTOREAP | TETHER_FEATURE_NNP | TETHER_FEATURE_AUTOKILL)) !=
				 (TETHER_FEATURE_AUTOREAP | TETHER_FEATURE_NNP | TETHER_FEATURE_AUTOKILL))
			why = " (the kernel lacks the flags and TETHER_BACKEND=native forbids the emulation)";
		if (cgroup && stage == TETHER_SPAWN_STAGE_PARENT && err != EPERM && err != EINVAL)
			fprintf(stderr, "tether: cannot start '%s' in cgroup '%s': %s\n", cmd, cgroup, strerror(err));
		else
			fprintf(stderr, "tether: cannot start '%s': %s%s\n", cmd, strerror(err), why);
	}
	if (report == REPORT_JSON) {
		fputs("{\"command\":", stderr);
		json_string(stderr, cmd);
		fputs(",\"error\":", stderr);
		json_string(stderr, strerror(err));
		fprintf(stderr, ",\"errno\":%d,\"stage\":\"%s\",\"exit_status\":%d}\n", err, stage_word(stage), status);
	}
	return status;
}

static void cli_report(enum cli_report report, const char *cmd, pid_t pid, const struct tether_exit_info *info,
		       int status)
{
	char sig[32], cdsig[32];
	const char *code_name = info->have_coredump_code ? cli_code_name(info->coredump_signal, info->coredump_code)
							 : NULL;
	bool cd_signal = info->have_coredump_signal && info->coredump_signal > 0;

	if (report == REPORT_TEXT) {
		fprintf(stderr, "tether: '%s' (pid %d) ", cmd, (int)pid);
		if (info->exited) {
			fprintf(stderr, "exited with code %d\n", info->exit_code);
			return;
		}
		fprintf(stderr, "was killed by signal %d (%s)", info->signal,
			cli_signal_name(info->signal, sig, sizeof(sig)));
		if (info->core_dumped) {
			fputs(", core dumped", stderr);
			if (cd_signal)
				fprintf(stderr, "; coredump signal %d (%s)", info->coredump_signal,
					cli_signal_name(info->coredump_signal, cdsig, sizeof(cdsig)));
			if (info->have_coredump_code) {
				fprintf(stderr, "%scode %d", cd_signal ? ", " : "; coredump ", info->coredump_code);
				if (code_name)
					fprintf(stderr, " (%s)", code_name);
			}
		}
		fputc('\n', stderr);
		return;
	}
	fputs("{\"command\":", stderr);
	json_string(stderr, cmd);
	fprintf(stderr, ",\"pid\":%d,\"exited\":%s", (int)pid, info->exited ? "true" : "false");
	json_int_or_null(stderr, "exit_code", info->exited, info->exit_code);
	fprintf(stderr, ",\"signaled\":%s", info->signaled ? "true" : "false");
	json_int_or_null(stderr, "signal", info->signaled, info->signal);
	json_str_or_null(stderr, "signal_name", info->signaled ? cli_signal_name(info->signal, sig, sizeof(sig)) : NULL);
	fprintf(stderr, ",\"core_dumped\":%s", info->core_dumped ? "true" : "false");
	json_int_or_null(stderr, "coredump_signal", cd_signal, info->coredump_signal);
	json_int_or_null(stderr, "coredump_code", info->have_coredump_code, info->coredump_code);
	json_str_or_null(stderr, "coredump_code_name", code_name);
	fprintf(stderr, ",\"exit_status\":%d}\n", status);
}

/* Pass the signals in sfd on to the child; the terminal's (SI_KERNEL) reached it already.
 * init: to the whole tree; SIGCHLD: reap the zombies adopted as PID 1 or subreaper. */
static void cli_forward(int sfd, struct tether_child *child, bool init)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			cli_reap_adopted();
		else if (init)
			tether_child_kill_tree(child, (int)si.ssi_signo);
		else if (si.ssi_code != SI_KERNEL)
			tether_child_kill(child, (int)si.ssi_signo);
	}
}

static int cli_run(const struct cli_options *o)
{
	const char *cmd = o->argv[0];
	struct tether_spawn_attr *attr = NULL;
	struct tether_child *child = NULL;
	struct tether_exit_info info;
	enum tether_spawn_stage stage;
	sigset_t fwd, old;
	int r, sfd, cgfd = -1, status;

	if (o->cgroup) {
		cgfd = open(o->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0)
			return cli_fail("cannot open cgroup directory '%s': %s", o->cgroup, strerror(errno));
	}

	/* Take the forwarded signals on a signalfd from now on; the command gets the old mask. */
	sigemptyset(&fwd);
	for (size_t k = 0; k < sizeof(cli_forwarded) / sizeof(cli_forwarded[0]); k++)
		sigaddset(&fwd, cli_forwarded[k]);
	if (o->command == CLI_INIT) {
		sigaddset(&fwd, SIGCHLD);
		if (getpid() != 1)
			prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	}
	sigprocmask(SIG_BLOCK, &fwd, &old);
	sfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return cli_fail("signalfd: %s", strerror(errno));
	if ((r = tether_spawn_attr_init(&attr)) < 0 || (r = tether_spawn_attr_set_flags(attr, o->flags)) < 0 ||
	    (r = tether_spawn_attr_set_sigmask(attr, &old)) < 0 || (r = tether_spawn_attr_set_cgroup(attr, cgfd)) < 0 ||
	    (r = tether_spawn_attr_set_tree(attr, (enum tether_tree)o->tree)) < 0)
		return cli_fail("setting up: %s", strerror(-r));

	r = tether_spawnx(&child, cmd, TETHER_SPAWN_SEARCH_PATH, NULL, attr, o->argv, environ, &stage);
	tether_spawn_attr_destroy(attr);
	if (cgfd >= 0)
		close(cgfd);
	if (r < 0) {
		close(sfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return cli_spawn_failed(cmd, -r, stage, o->flags, o->cgroup, o->report);
	}

	/* Sleep until a signal comes (pass it on) or the command ends. */
	for (;;) {
		struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { tether_child_pidfd(child), POLLIN, 0 } };

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = cli_fail("poll: %s", strerror(errno));
			tether_child_release(child);
			return r;
		}
		if (pfd[0].revents & POLLIN)
			cli_forward(sfd, child, o->command == CLI_INIT);
		if (pfd[1].revents & (POLLIN | POLLHUP))
			break;
	}
	r = tether_child_wait(child, -1, &info);
	if (o->command == CLI_INIT) {
		/* The command is gone: so is the rest of its tree, unless kept;
		 * signals still go to what is left while we wait for it. */
		if (!o->keep_tree)
			tether_child_kill_tree(child, SIGKILL);
		while (tether_child_wait_tree(child, 100) == -ETIMEDOUT) {
			struct pollfd pfd = { sfd, POLLIN, 0 };
			if (poll(&pfd, 1, 0) == 1)
				cli_forward(sfd, child, true);
		}
		cli_reap_adopted();
	}
	close(sfd);
	if (r < 0) {
		fprintf(stderr, "tether: cannot get the exit status of '%s': %s\n", cmd, strerror(-r));
		tether_child_release(child);
		return EXIT_TETHER;
	}
	status = info.exited ? info.exit_code : info.signaled ? 128 + info.signal : EXIT_TETHER;
	if (o->report != REPORT_NONE)
		cli_report(o->report, cmd, tether_child_pid(child), &info, status);
	if (o->tree)
		cli_report_tree(o->report, child);
	tether_child_release(child);
	return status;
}

/* ---- features ---- */

static const char *feature_state(unsigned int bit, unsigned int have)
{
	uint64_t flag = bit == TETHER_FEATURE_AUTOREAP ? CLONE_AUTOREAP
		      : bit == TETHER_FEATURE_NNP      ? CLONE_NNP
		      : bit == TETHER_FEATURE_AUTOKILL ? CLONE_PIDFD_AUTOKILL
						       : 0;

	if (!flag)
		return (have & bit) ? "present" : "absent";
	if (tether_backend_for(flag) == TETHER_BACKEND_EMULATE)
		return "emulated";
	return (have & bit) ? "native" : "unavailable"; /* native forced on a kernel without it */
}

static int cli_features(const struct cli_options *o)
{
	unsigned int have = tether_features();

	if (o->json) {
		printf("{\"version\":\"%s\",\"backend\":\"%s\",\"features\":{", tether_version(),
		       tether_backend_name(tether_get_backend()));
		for (unsigned int bit = 1, n = 0; bit & TETHER_FEATURE_ALL; bit <<= 1)
			if (tether_feature_name(bit))
				printf("%s\"%s\":\"%s\"", n++ ? "," : "", tether_feature_name(bit), feature_state(bit, have));
		printf("},\"tree\":\"%s\"}\n", cli_tree_name(tether_tree_probe()));
	} else {
		for (unsigned int bit = 1; bit & TETHER_FEATURE_ALL; bit <<= 1)
			if (tether_feature_name(bit))
				printf("%-16s %s\n", tether_feature_name(bit), feature_state(bit, have));
		printf("%-16s %s\n", "tree", cli_tree_name(tether_tree_probe()));
	}
	return fflush(stdout) == 0 ? 0 : EXIT_TETHER;
}

int tether_cli_main(int argc, char **argv)
{
	struct cli_options o;
	int r = cli_parse(argc, argv, &o, stderr);

	if (r != 0)
		return r;
	if (o.help) {
		cli_help();
		/* A failed write fails only the top-level --help, as it always did. */
		return o.command != CLI_NONE || fflush(stdout) == 0 ? 0 : EXIT_TETHER;
	}
	if (o.version) {
		printf("tether %s\n", tether_version());
		return fflush(stdout) == 0 ? 0 : EXIT_TETHER;
	}
	return o.command == CLI_RUN || o.command == CLI_INIT ? cli_run(&o) : cli_features(&o);
}

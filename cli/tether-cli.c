/* SPDX-License-Identifier: MIT */
/*
 * tether(1). Kept apart from main() so that the tests can run it in-process
 * image (they exec themselves into it; the test machines have no tether
 * binary).
 *
 *   tether run [--autoreap] [--nnp] [--autokill] [--cgroup DIR] [--report[=json]]
 *              [--report-fd N | --report-file PATH]
 *              [--timeout DURATION [--signal SIG] [--kill-after DURATION] [--preserve-status] [--foreground]]
 *              [--] COMMAND [ARG]...
 *   tether features [--json]
 *   tether init [--keep-tree] [run options] [--] COMMAND [ARG]...
 *
 * Exit status, as timeout(1) and env(1): COMMAND's own; death by signal N
 * when N killed it (a shell shows 128+N); 124 when --timeout ran out, 137
 * after --kill-after; 126 when it was found but could not be run; 127 when
 * it was not found; 125 when tether itself failed. The signal model is
 * described above cli_forwarded[].
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
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/magic.h>

#include <jansson.h>

#include <tether.h>

#include "tether-cli.h"

extern char **environ;

/* One line on f (nothing if f is NULL: the fuzzer's quiet parse); returns EXIT_TETHER. */
/*
 * Write s with its control characters escaped (\n, \t, \xNN), as
 * coreutils quotes a file name: a message stays one line, and a command
 * name cannot send escape sequences to the terminal.
 */
static void fput_escaped(FILE *f, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '\n')
			fputs("\\n", f);
		else if (*c == '\t')
			fputs("\\t", f);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(f, "\\x%02x", *c);
		else
			fputc(*c, f);
	}
}

/* "tether: " and the message on one line of f (NULL: nothing); EXIT_TETHER. */
__attribute__((format(printf, 2, 3))) static int cli_error(FILE *f, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	if (!f)
		return EXIT_TETHER;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fputs("tether: ", f);
	if (n >= 0)
		fput_escaped(f, msg);
	fputc('\n', f);
	free(msg);
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
	       "     --report[=<format>] say how the command ended: text (default) or json\n"
	       "     --report-fd <n>     write the report to descriptor n, not stderr\n"
	       "     --report-file <path>  write the report to this file, not stderr\n"
	       "     --timeout <duration>  as timeout(1): send --signal when the duration has\n"
	       "                           passed, exit 124 (durations: N[.N][s|m|h|d]; 0: none)\n"
	       "     --signal <sig>      the signal for --timeout (default TERM; name or number)\n"
	       "     --kill-after <duration>  then SIGKILL if still running; exit 137\n"
	       "     --preserve-status   after --timeout, exit with the command's status\n"
	       "     --foreground        --timeout signals the command only, not its group\n"
	       "     --tree[=<how>]      the command and every process it starts are one tree:\n"
	       "                           --timeout and --kill-after signal all of it, and with\n"
	       "                           --autokill it is killed when tether dies;\n"
	       "                           <how>: auto (default), cgroup or subreaper\n"
	       "\n"
	       "init: run the command as a tree, as an init would (PID 1 of a container):\n"
	       "reap every zombie, pass signals on to the whole tree, exit with the command's\n"
	       "status, and kill what is left of the tree when the command exits.\n"
	       "\n"
	       "Options for init (and every option of run):\n"
	       "     --keep-tree         wait for the rest of the tree instead of killing it\n"
	       "\n"
	       "Options for features:\n"
	       "     --json              one JSON object instead of lines\n"
	       "\n"
	       " -h, --help              display this help\n"
	       " -V, --version           display version\n"
	       "\n"
	       "The command runs in a process group of its own. Every job signal sent to\n"
	       "tether (by the terminal, kill, or a hang-up) is passed on to it once; it gets\n"
	       "the terminal when it uses it; Ctrl-Z stops both, fg continues both.\n"
	       "\n"
	       "Exit status: that of the command; if signal N killed it, tether dies of N too;\n"
	       "124 on --timeout, 137 after --kill-after; 125 if tether failed; 126 if the\n"
	       "command was found but could not be run; 127 if not found.\n"
	       "\n"
	       "The environment variable TETHER_BACKEND=auto|native|emulate chooses the backend.\n"
	       "For more details see tether(1) and tether(7).\n");
}

/* ---- parsing: fills struct cli_options and nothing else ---- */

int cli_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		char unit;
		double seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	double v, mult = 1;
	char *end;

	/* What timeout(1) takes: strtod()'s numbers (hex, exponents, "inf" too), not negative, not NaN. */
	if (!s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || v < 0 || v != v)
		return -1;
	if (*end) {
		size_t k;
		for (k = 0; k < sizeof(units) / sizeof(units[0]) && units[k].unit != *end; k++)
			;
		if (k == sizeof(units) / sizeof(units[0]) || end[1])
			return -1;
		mult = units[k].seconds;
	}
	v *= mult * 1e9;
	*ns = v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
	/* A positive duration below a nanosecond still asks for a deadline. */
	if (*ns == 0 && v > 0)
		*ns = 1;
	return 0;
}

int cli_parse_signal(const char *s)
{
	char *end;
	long n;

	if (!s || !*s)
		return -1;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		n = strtol(s, &end, 10);
		return !*end && errno == 0 && n >= 1 && n < NSIG ? (int)n : -1;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && strcasecmp(s, abbrev) == 0)
			return sig;
	}
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		bool max = (s[3] | 0x20) == 'a';
		n = 0;
		if (s[5]) {
			if ((max ? s[5] != '-' : s[5] != '+') || !(s[6] >= '0' && s[6] <= '9'))
				return -1;
			errno = 0;
			n = strtol(s + 6, &end, 10);
			if (*end || errno || n > SIGRTMAX - SIGRTMIN)
				return -1;
		}
		return max ? SIGRTMAX - (int)n : SIGRTMIN + (int)n;
	}
	return -1;
}

/* "--name VALUE" or "--name=VALUE": *value set and *i moved past it; 0 if a is not --name; -1 if VALUE is missing. */
static int option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

static int parse_run(int argc, char **argv, struct cli_options *o, FILE *err)
{
	static const char *const valued[] = { "--cgroup", "--report-fd", "--report-file", "--timeout",
					      "--kill-after", "--signal" };
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t k;
		int got = 0;

		for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if ((got = option_value(argc, argv, &i, valued[k], &v)) != 0)
				break;
		if (got < 0)
			return cli_error(err, "option '%s' requires an argument", valued[k]);
		if (got > 0) {
			switch (k) {
			case 0: /* --cgroup */
				if (!*v)
					return cli_error(err, "invalid argument '' for '--cgroup'");
				o->cgroup = v;
				break;
			case 1: { /* --report-fd */
				char *end;
				long fd;
				if (o->report_file)
					return cli_error(err, "options '--report-fd' and '--report-file' cannot be used together");
				errno = 0;
				fd = strtol(v, &end, 10);
				if (!*v || *end || errno || fd < 0 || fd > INT32_MAX)
					return cli_error(err, "invalid argument '%s' for '--report-fd'", v);
				o->report_fd = (int)fd;
				o->report_file = NULL;
				if (o->report == REPORT_NONE)
					o->report = REPORT_TEXT;
				break;
			}
			case 2: /* --report-file */
				if (o->report_fd >= 0)
					return cli_error(err, "options '--report-fd' and '--report-file' cannot be used together");
				if (!*v)
					return cli_error(err, "invalid argument '' for '--report-file'");
				o->report_file = v;
				o->report_fd = -1;
				if (o->report == REPORT_NONE)
					o->report = REPORT_TEXT;
				break;
			case 3: /* --timeout */
			case 4: /* --kill-after */
				if (cli_parse_duration(v, k == 3 ? &o->timeout_ns : &o->kill_after_ns) < 0)
					return cli_error(err, "invalid time interval '%s' for '%s'", v, valued[k]);
				break;
			case 5: /* --signal */
				if ((o->timeout_signal = cli_parse_signal(v)) < 0)
					return cli_error(err, "invalid signal '%s' for '--signal'", v);
				break;
			}
			continue;
		}
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--autoreap") == 0) {
			o->flags |= CLONE_AUTOREAP;
		} else if (strcmp(a, "--nnp") == 0) {
			o->flags |= CLONE_NNP;
		} else if (strcmp(a, "--autokill") == 0) {
			o->flags |= CLONE_PIDFD_AUTOKILL | CLONE_AUTOREAP;
		} else if (strcmp(a, "--report") == 0 || strcmp(a, "--report=text") == 0) {
			o->report = REPORT_TEXT;
		} else if (strcmp(a, "--report=json") == 0) {
			o->report = REPORT_JSON;
		} else if (strncmp(a, "--report=", 9) == 0) {
			return cli_error(err, "invalid argument '%s' for '--report' (text or json)", a + 9);
		} else if (strcmp(a, "--preserve-status") == 0) {
			o->preserve_status = true;
		} else if (strcmp(a, "--foreground") == 0) {
			o->foreground = true;
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
			static const char *const bare[] = { "--autoreap", "--nnp", "--autokill", "--preserve-status",
							    "--foreground", "--keep-tree", "--help" };
			const char *eq = strchr(a, '=');
			for (k = 0; eq && k < sizeof(bare) / sizeof(bare[0]); k++)
				if (strlen(bare[k]) == (size_t)(eq - a) && strncmp(a, bare[k], (size_t)(eq - a)) == 0)
					return cli_error(err, "option '%s' doesn't allow an argument", bare[k]);
			return cli_error(err, "unknown option '%s'", a);
		} else {
			break;
		}
	}
	if (i >= argc)
		return cli_error(err, "run: no command given");
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

	*out = (struct cli_options){
		.command = CLI_NONE, .report = REPORT_NONE, .report_fd = -1, .timeout_signal = SIGTERM
	};
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

/* ---- reports ---- */

/*
 * A JSON string must be Unicode, a command path is bytes: each byte that is
 * not part of valid UTF-8 becomes U+FFFD (as a decoder that replaces does),
 * and *lossy says whether that happened. Returns a malloc'd string or NULL.
 */
static char *utf8_or_replacement(const char *s, bool *lossy)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), o = 0;
	char *out = malloc(len * 3 + 1); /* one byte becomes at most three */

	*lossy = false;
	if (!out)
		return NULL;
	while (*p) {
		unsigned int c = *p, need = 0, min = 0, cp;
		size_t k;

		if (c < 0x80) {
			out[o++] = (char)*p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			cp = 0;
		for (k = 1; need && k <= need; k++) {
			if ((p[k] & 0xc0) != 0x80)
				break;
			cp = (cp << 6) | (p[k] & 0x3f);
		}
		/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either. */
		if (need && k > need && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
			memcpy(out + o, p, need + 1);
			o += need + 1;
			p += need + 1;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			*lossy = true;
		}
	}
	out[o] = '\0';
	return out;
}

/* Set key to the command as a JSON string; plus "command_hex" (its exact bytes) when it is not UTF-8. */
static void json_set_command(json_t *obj, const char *cmd)
{
	bool lossy = false;
	char *text = utf8_or_replacement(cmd, &lossy);

	json_object_set_new(obj, "command", text ? json_string(text) : json_null());
	free(text);
	if (lossy) {
		size_t n = strlen(cmd);
		char *hex = malloc(n * 2 + 1);
		if (hex) {
			for (size_t k = 0; k < n; k++)
				snprintf(hex + 2 * k, 3, "%02x", (unsigned char)cmd[k]);
			json_object_set_new(obj, "command_hex", json_string(hex));
			free(hex);
		}
	}
}

static json_t *json_int_or_null(bool have, int v)
{
	return have ? json_integer(v) : json_null();
}

static json_t *json_str_or_null(const char *v)
{
	return v ? json_string(v) : json_null();
}

/* Write obj as one line of compact JSON and drop it. */
static void json_emit(FILE *f, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	if (text) {
		fputs(text, f);
		fputc('\n', f);
		free(text);
	} else {
		fputs("{\"error\":\"out of memory while writing the report\"}\n", f);
	}
	json_decref(obj);
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

static json_t *json_ll_or_null(long long v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

/* The tree's part of the report: which mechanism held it and what its kills took. */
static void cli_report_tree(enum cli_report report, FILE *rep, json_t *o, struct tether_child *child)
{
	struct tether_tree_stats st;
	json_t *t;

	if (tether_child_tree_stats(child, &st) < 0)
		return;
	if (report == REPORT_TEXT) {
		fprintf(rep, "tether: tree held by %s: ", cli_tree_name(tether_child_tree(child)));
		if (st.processes_at_kill)
			fprintf(rep, "%u processes when killed, ", st.processes_at_kill);
		if (st.pids_peak >= 0)
			fprintf(rep, "at most %lld processes at once, ", st.pids_peak);
		fprintf(rep, "%u processes signalled, %u kill rounds, %u reaped by its monitor", st.signalled,
			st.kill_rounds, st.reaped);
		if (st.cpu_usec >= 0)
			fprintf(rep, ", cpu %lld us", st.cpu_usec);
		if (st.memory_peak >= 0)
			fprintf(rep, ", memory peak %lld bytes", st.memory_peak);
		fputc('\n', rep);
		return;
	}
	t = json_object();
	json_object_set_new(t, "mechanism", json_string(cli_tree_name(tether_child_tree(child))));
	json_object_set_new(t, "signalled", json_integer(st.signalled));
	json_object_set_new(t, "kill_rounds", json_integer(st.kill_rounds));
	json_object_set_new(t, "reaped", json_integer(st.reaped));
	json_object_set_new(t, "processes_at_kill", json_integer(st.processes_at_kill));
	json_object_set_new(t, "pids_peak", json_ll_or_null(st.pids_peak));
	json_object_set_new(t, "cgroup_removed", json_boolean(st.cgroup_removed));
	json_object_set_new(t, "cpu_usec", json_ll_or_null(st.cpu_usec));
	json_object_set_new(t, "memory_peak", json_ll_or_null(st.memory_peak));
	json_object_set_new(o, "tree", t);
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
			    const char *cgroup, enum cli_report report, FILE *rep)
{
	int status;

	if (stage == TETHER_SPAWN_STAGE_EXEC) {
		status = err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
		cli_fail("failed to run '%s': %s", cmd, strerror(err));
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
			cli_fail("cannot start '%s' in cgroup '%s': %s", cmd, cgroup, strerror(err));
		else
			cli_fail("cannot start '%s': %s%s", cmd, strerror(err), why);
	}
	if (report == REPORT_JSON) {
		json_t *o = json_object();
		json_set_command(o, cmd);
		json_object_set_new(o, "error", json_string(strerror(err)));
		json_object_set_new(o, "errno", json_integer(err));
		json_object_set_new(o, "stage", json_string(stage_word(stage)));
		json_object_set_new(o, "exit_status", json_integer(status));
		json_emit(rep, o);
	}
	return status;
}

static void cli_report(enum cli_report report, FILE *rep, const char *cmd, pid_t pid,
		       const struct tether_exit_info *info, bool timed_out, bool killed, int status,
		       struct tether_child *tree)
{
	char sig[32], cdsig[32];
	const char *code_name = info->have_coredump_code ? cli_code_name(info->coredump_signal, info->coredump_code)
							 : NULL;
	bool cd_signal = info->have_coredump_signal && info->coredump_signal > 0;
	json_t *o;

	if (report == REPORT_TEXT) {
		fputs("tether: '", rep);
		fput_escaped(rep, cmd);
		fprintf(rep, "' (pid %d) ", (int)pid);
		if (info->exited) {
			fprintf(rep, "exited with code %d", info->exit_code);
		} else {
			fprintf(rep, "was killed by signal %d (%s)", info->signal,
				cli_signal_name(info->signal, sig, sizeof(sig)));
			if (info->core_dumped) {
				fputs(", core dumped", rep);
				if (cd_signal)
					fprintf(rep, "; coredump signal %d (%s)", info->coredump_signal,
						cli_signal_name(info->coredump_signal, cdsig, sizeof(cdsig)));
				if (info->have_coredump_code) {
					fprintf(rep, "%scode %d", cd_signal ? ", " : "; coredump ", info->coredump_code);
					if (code_name)
						fprintf(rep, " (%s)", code_name);
				}
			}
		}
		if (timed_out)
			fprintf(rep, " after its time ran out%s", killed ? " (killed after --kill-after)" : "");
		fputc('\n', rep);
		if (tree)
			cli_report_tree(report, rep, NULL, tree);
		return;
	}
	o = json_object();
	json_set_command(o, cmd);
	json_object_set_new(o, "pid", json_integer(pid));
	json_object_set_new(o, "exited", json_boolean(info->exited));
	json_object_set_new(o, "exit_code", json_int_or_null(info->exited, info->exit_code));
	json_object_set_new(o, "signaled", json_boolean(info->signaled));
	json_object_set_new(o, "signal", json_int_or_null(info->signaled, info->signal));
	json_object_set_new(o, "signal_name",
			    json_str_or_null(info->signaled ? cli_signal_name(info->signal, sig, sizeof(sig)) : NULL));
	json_object_set_new(o, "core_dumped", json_boolean(info->core_dumped));
	json_object_set_new(o, "coredump_signal", json_int_or_null(cd_signal, info->coredump_signal));
	json_object_set_new(o, "coredump_code", json_int_or_null(info->have_coredump_code, info->coredump_code));
	json_object_set_new(o, "coredump_code_name", json_str_or_null(code_name));
	json_object_set_new(o, "timed_out", json_boolean(timed_out));
	json_object_set_new(o, "killed_after_timeout", json_boolean(killed));
	json_object_set_new(o, "exit_status", json_integer(status));
	if (tree)
		cli_report_tree(report, rep, o, tree);
	json_emit(rep, o);
}

/*
 * The signal model (tether(1), "SIGNALS AND JOB CONTROL").
 *
 * COMMAND runs in a process group of its own, led by it. Nothing meant for
 * tether's group then reaches COMMAND directly, so tether passes on
 * (to COMMAND's group) every job signal it receives, and each reaches
 * COMMAND exactly once, whoever sent it: the terminal, kill(2) of tether's
 * pid or of its group, timeout(1) around tether, a hang-up of the terminal
 * of which tether leads the session. The alternative, one group shared
 * with COMMAND and a filter on the sender (sudo, timeout --foreground),
 * cannot tell kill(tether) from kill(-group): siginfo has the same
 * SI_USER and sender for both, so one of them is always lost or doubled.
 *
 * The terminal: while COMMAND does not use it, its signals come to tether
 * (whose group the shell made the foreground) and are passed on. When
 * COMMAND touches the terminal from its background group, the kernel stops
 * it (SIGTTIN or SIGTTOU); tether then hands it the foreground (tcsetpgrp)
 * and continues it. From then on the terminal's signals go straight to
 * COMMAND's group. When COMMAND stops (Ctrl-Z), tether takes the foreground
 * back and stops itself with the same signal, so the shell sees the job
 * stop; when tether is continued (fg, bg), it gives the terminal back if it
 * is in the foreground and continues COMMAND's group.
 */
static const int cli_forwarded[] = { SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
				     SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGVTALRM, SIGPROF,
				     SIGXCPU,  SIGXFSZ, SIGPWR,  SIGURG };

/* What a run keeps between events. */
struct run_state {
	const struct cli_options *o;
	struct tether_child *child;
	pid_t pid;          /* COMMAND, also its process group */
	int tty;            /* the controlling terminal, or -1 */
	pid_t own_pgrp;
	bool handed_over;   /* COMMAND has had the terminal's foreground from tether */
	bool timed_out;     /* the deadline passed and --signal was sent */
	bool killed;        /* SIGKILL was sent after --kill-after */
	bool kill_next;     /* the timer's next expiry is --kill-after's, not the deadline */
	int timer;          /* timerfd for --timeout and --kill-after, or -1 */
};

/* Whether COMMAND has ended (its pidfd polls readable): signals then go nowhere. */
static bool command_ended(const struct run_state *st)
{
	struct pollfd p = { tether_child_pidfd(st->child), POLLIN, 0 };

	return poll(&p, 1, 0) > 0;
}

/*
 * Send sig to COMMAND: to its whole process group, as the terminal and a
 * shell's kill %job would (what COMMAND started stays with it), unless
 * only_command or COMMAND has left its group (then through the pidfd);
 * init: to its whole tree.
 */
/* Send sig to every process of COMMAND's tree (--tree, init): also once COMMAND itself has ended. */
static void signal_tree(struct run_state *st, int sig)
{
	tether_child_kill_tree(st->child, sig);
}

static void signal_command(struct run_state *st, int sig, bool only_command)
{
	/* init passes everything on to the whole tree, as PID 1 of a container. */
	if (st->o->command == CLI_INIT && !only_command) {
		signal_tree(st, sig);
		return;
	}
	if (command_ended(st))
		return;
	if (!only_command && getpgid(st->pid) == st->pid) {
		/* While the pidfd is not readable the pid is COMMAND's, not reused. */
		if (killpg(st->pid, sig) == 0 || errno != ESRCH)
			return;
	}
	tether_child_kill(st->child, sig);
}

/* Give the terminal's foreground to pgrp, if tether's session has one. SIGTTOU is blocked: allowed from the background. */
static bool give_terminal(const struct run_state *st, pid_t pgrp)
{
	return st->tty >= 0 && tcsetpgrp(st->tty, pgrp) == 0;
}

static pid_t terminal_foreground(const struct run_state *st)
{
	return st->tty >= 0 ? tcgetpgrp(st->tty) : -1;
}

/*
 * Stop tether with sig (the signal that stopped COMMAND), and with whole_group
 * every process of its group too, as the terminal's Ctrl-Z stops a whole
 * foreground job; returns when tether is continued. The signal's disposition
 * is the default (tether never changes it), it is only blocked: send it,
 * then let it through for that moment.
 */
static void stop_self(int sig, bool whole_group)
{
	sigset_t one;

	if (sig <= 0)
		sig = SIGSTOP;
	if (!whole_group || kill(0, sig) < 0)
		raise(sig);
	if (sig == SIGSTOP)
		return;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	sigprocmask(SIG_BLOCK, &one, NULL);
}

/* COMMAND stopped with sig. */
static void on_command_stopped(struct run_state *st, int sig)
{
	pid_t fg = terminal_foreground(st);

	if ((sig == SIGTTIN || sig == SIGTTOU) && fg == st->own_pgrp) {
		/* It wants the terminal that tether's group holds: hand it over, let it go on. */
		if (give_terminal(st, st->pid)) {
			st->handed_over = true;
			signal_command(st, SIGCONT, false);
			return;
		}
	}
	if ((sig == SIGTTIN || sig == SIGTTOU) && fg == st->pid) {
		/* It stopped just before tether's hand-over took effect: it has the terminal now. */
		signal_command(st, SIGCONT, false);
		return;
	}
	/* A job stops as a whole: take the terminal back for the shell, then stop too. */
	if (fg == st->pid) {
		give_terminal(st, st->own_pgrp);
		/* The terminal's SIGTSTP went to COMMAND's group alone; without
		 * tether it would have stopped every process of the job, and a
		 * shell sees a job stop only once all of them have (a pipeline,
		 * the script that runs tether): stop tether's whole group. */
		if (sig == SIGTSTP) {
			stop_self(sig, true);
			return;
		}
	}
	stop_self(sig, false);
}

/* tether was continued (SIGCONT): give COMMAND back what it had, then continue it. */
static void on_continued(struct run_state *st)
{
	if (st->handed_over && terminal_foreground(st) == st->own_pgrp)
		give_terminal(st, st->pid);
	signal_command(st, SIGCONT, false);
}

/*
 * Reports of COMMAND stopping (SIGCHLD): through the library, which asks the
 * kernel when tether is COMMAND's parent and the emulation's monitor when
 * the monitor is (it sends the SIGCHLD then). Continues need nothing: tether
 * continues COMMAND itself when it is continued. Exits are the pidfd's.
 */
static void check_stopped(struct run_state *st)
{
	struct tether_child_event ev;

	while (tether_child_event(st->child, &ev, sizeof(ev)) == 0)
		if (ev.type == TETHER_CHILD_STOPPED)
			on_command_stopped(st, ev.signal);
}

/* Arm the timer to fire once in ns nanoseconds (0: disarm). */
static void arm_timer(struct run_state *st, uint64_t ns)
{
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };

	if (st->timer < 0)
		return;
	if (ns > (uint64_t)INT32_MAX * 1000000000ULL)
		ns = (uint64_t)INT32_MAX * 1000000000ULL; /* 68 years: never, in practice */
	it.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
	it.it_value.tv_nsec = (long)(ns % 1000000000ULL);
	timerfd_settime(st->timer, 0, &it, NULL);
}

/* Send sig as timeout(1) does: then SIGCONT (a stopped COMMAND must see it), and start --kill-after. */
static void terminate_with(struct run_state *st, int sig)
{
	/* --tree: the deadline is the whole tree's. */
	if (st->o->tree && !st->o->foreground) {
		signal_tree(st, sig);
		if (sig != SIGKILL && sig != SIGCONT)
			signal_tree(st, SIGCONT);
	} else {
		signal_command(st, sig, st->o->foreground);
		if (sig != SIGKILL && sig != SIGCONT)
			signal_command(st, SIGCONT, st->o->foreground);
	}
	if (st->o->kill_after_ns && sig != SIGKILL && !st->kill_next) {
		st->kill_next = true;
		arm_timer(st, st->o->kill_after_ns);
	}
}

/* The deadline timer fired: first --signal, then (after --kill-after) SIGKILL. */
static void on_timer(struct run_state *st)
{
	uint64_t n;

	if (read(st->timer, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	if (!st->kill_next) {
		st->timed_out = true;
		terminate_with(st, st->o->timeout_signal);
		return;
	}
	st->killed = true;
	if (st->o->tree)
		signal_tree(st, SIGKILL);
	else
		signal_command(st, SIGKILL, false);
}

/* A signal for the job arrived: pass it on (see the model above). */
static void on_signal(struct run_state *st, const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo;

	if (sig == SIGCHLD) {
		if (st->o->command == CLI_INIT)
			cli_reap_adopted();
		check_stopped(st);
		return;
	}
	/* Sent by COMMAND's own group to tether (sudo's rule): not for COMMAND, and no loops. */
	if ((si->ssi_code == SI_USER || si->ssi_code == SI_QUEUE) && si->ssi_pid > 0 &&
	    getpgid((pid_t)si->ssi_pid) == st->pid)
		return;
	if (sig == SIGCONT) {
		on_continued(st);
		return;
	}
	signal_command(st, sig, false);
	/* timeout(1) starts --kill-after for the signals that end it, too. */
	if (st->o->kill_after_ns && st->timer >= 0 && !st->kill_next &&
	    (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT || sig == SIGALRM)) {
		st->kill_next = true;
		arm_timer(st, st->o->kill_after_ns);
	}
}

/*
 * Where the report goes: standard error, --report-fd N or --report-file
 * PATH. NULL (with the message printed) if it cannot be opened.
 */
static FILE *open_report(const struct cli_options *o)
{
	int fd, fl;
	FILE *f;

	if (o->report_file) {
		fd = open(o->report_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
		if (fd < 0) {
			cli_fail("cannot open report file '%s': %s", o->report_file, strerror(errno));
			return NULL;
		}
	} else if (o->report_fd >= 0) {
		fd = o->report_fd;
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
			cli_fail("--report-fd %d: %s", fd, fl < 0 ? strerror(errno) : "not open for writing");
			return NULL;
		}
		/* COMMAND does not inherit it: a reader's EOF must not wait for COMMAND's children. */
		if (fd > 2)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	} else {
		return stderr;
	}
	f = fdopen(fd, "w");
	if (!f) {
		cli_fail("report: %s", strerror(errno));
		if (o->report_file)
			close(fd);
	}
	return f;
}

/*
 * End tether the way COMMAND ended: by signal sig with its default action,
 * without a core file of tether's own (COMMAND's is the one that counts),
 * as timeout(1) does. Returns only if sig does not kill (then the caller
 * exits 128+sig, what a shell would show).
 */
static void die_by(int sig)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t one;

	fflush(NULL);
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
}

static int cli_run(const struct cli_options *o)
{
	const char *cmd = o->argv[0];
	struct tether_spawn_attr *attr = NULL;
	struct run_state st = { .o = o, .tty = -1, .timer = -1 };
	struct tether_exit_info info;
	enum tether_spawn_stage stage;
	struct statfs sfs;
	sigset_t fwd, old;
	int r, sfd, cgfd = -1, status, raise_sig = 0;
	bool preserve = o->preserve_status, foreground = false;
	FILE *rep = NULL;

	if (o->report != REPORT_NONE && !(rep = open_report(o)))
		return EXIT_TETHER;
	if (o->cgroup) {
		cgfd = open(o->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0)
			return cli_fail("cannot open cgroup directory '%s': %s", o->cgroup, strerror(errno));
		/* CLONE_INTO_CGROUP would say only EBADF. */
		if (fstatfs(cgfd, &sfs) == 0 && sfs.f_type != CGROUP2_SUPER_MAGIC) {
			close(cgfd);
			return cli_fail("'%s' is not a cgroup v2 directory", o->cgroup);
		}
	}
	/* --kill-after alone (--timeout 0) still escalates after a passed-on SIGTERM, as timeout(1). */
	if (o->timeout_ns || o->kill_after_ns) {
		st.timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (st.timer < 0)
			return cli_fail("timerfd_create: %s", strerror(errno));
	}
	/* The controlling terminal, if any: for handing its foreground to COMMAND's group. */
	st.tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	st.own_pgrp = getpgrp();

	/*
	 * The job's signals (and SIGCHLD, for COMMAND's stops) come on a
	 * signalfd from now on; COMMAND gets the old mask. SIGTTOU stays
	 * blocked for good: tcsetpgrp() from the background is then allowed.
	 */
	sigemptyset(&fwd);
	for (size_t k = 0; k < sizeof(cli_forwarded) / sizeof(cli_forwarded[0]); k++)
		sigaddset(&fwd, cli_forwarded[k]);
	sigaddset(&fwd, SIGCHLD);
	/* init: orphans that no tree takes come to tether (PID 1 gets them anyway). */
	if (o->command == CLI_INIT && getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	sigprocmask(SIG_BLOCK, &fwd, &old);
	sfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return cli_fail("signalfd: %s", strerror(errno));
	/*
	 * Where SIGTTIN is ignored or blocked for COMMAND (it inherits both: a
	 * tmux pane's command, a script's trap), the kernel does not stop a
	 * background reader of the terminal, it returns EIO (n_tty_read(),
	 * job_control() in drivers/tty/): COMMAND could never ask for the
	 * terminal. It gets it at once then, if tether's group has it.
	 */
	if (st.tty >= 0 && terminal_foreground(&st) == st.own_pgrp) {
		struct sigaction ttin;
		if (sigismember(&old, SIGTTIN) || (sigaction(SIGTTIN, NULL, &ttin) == 0 && ttin.sa_handler == SIG_IGN))
			foreground = true;
	}
	if ((r = tether_spawn_attr_init(&attr)) < 0 || (r = tether_spawn_attr_set_flags(attr, o->flags)) < 0 ||
	    (foreground && (r = tether_spawn_attr_set_foreground(attr, st.tty)) < 0) ||
	    (r = tether_spawn_attr_set_sigmask(attr, &old)) < 0 || (r = tether_spawn_attr_set_cgroup(attr, cgfd)) < 0 ||
	    (r = tether_spawn_attr_set_pgroup(attr, 0)) < 0 ||
	    (r = tether_spawn_attr_set_tree(attr, (enum tether_tree)o->tree)) < 0)
		return cli_fail("setting up: %s", strerror(-r));

	r = tether_spawnx(&st.child, cmd, TETHER_SPAWN_SEARCH_PATH, NULL, attr, o->argv, environ, &stage);
	tether_spawn_attr_destroy(attr);
	if (cgfd >= 0)
		close(cgfd);
	if (r < 0) {
		close(sfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(SIGPIPE, SIG_IGN); /* as for the report below: the status counts */
		status = cli_spawn_failed(cmd, -r, stage, o->flags, o->cgroup, o->report, rep ? rep : stderr);
		if (rep && rep != stderr)
			fclose(rep);
		return status;
	}
	st.pid = tether_child_pid(st.child);
	st.handed_over = foreground;
	if (o->timeout_ns)
		arm_timer(&st, o->timeout_ns);

	/* Until COMMAND ends: pass signals on, follow its stops, keep the deadline. */
	for (;;) {
		struct pollfd pfd[3] = { { sfd, POLLIN, 0 }, { tether_child_pidfd(st.child), POLLIN, 0 },
					 { st.timer, POLLIN, 0 } };
		struct signalfd_siginfo si;

		if (poll(pfd, st.timer >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			cli_fail("poll: %s", strerror(errno));
			/* Do not leave COMMAND behind: ask it to end, then insist. */
			tether_child_terminate(st.child, SIGTERM, 5000, NULL);
			tether_child_release(st.child);
			return EXIT_TETHER;
		}
		if (pfd[0].revents & POLLIN)
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				on_signal(&st, &si);
		if (st.timer >= 0 && (pfd[2].revents & POLLIN))
			on_timer(&st);
		if (pfd[1].revents & (POLLIN | POLLHUP))
			break;
	}
	if (o->command == CLI_INIT) {
		/* COMMAND is gone: so is the rest of its tree, unless kept; until
		 * it is, signals and the deadline still go to what is left. */
		if (!o->keep_tree)
			signal_tree(&st, SIGKILL);
		while (tether_child_wait_tree(st.child, 0) == -ETIMEDOUT) {
			struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { st.timer, POLLIN, 0 } };
			struct signalfd_siginfo si;

			if (poll(pfd, st.timer >= 0 ? 2 : 1, 100) <= 0)
				continue;
			if (pfd[0].revents & POLLIN)
				while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					on_signal(&st, &si);
			if (st.timer >= 0 && (pfd[1].revents & POLLIN))
				on_timer(&st);
		}
		cli_reap_adopted();
	}
	close(sfd);
	if (st.timer >= 0)
		close(st.timer);
	/* COMMAND's group may still hold the terminal: the shell gets it from tether's. */
	if (terminal_foreground(&st) == st.pid)
		give_terminal(&st, st.own_pgrp);
	if (st.tty >= 0)
		close(st.tty);

	r = tether_child_wait(st.child, -1, &info);
	if (r < 0) {
		cli_fail("cannot get the exit status of '%s': %s", cmd, strerror(-r));
		tether_child_release(st.child);
		return EXIT_TETHER;
	}
	/* Exit status as timeout(1) computes it. */
	if (info.exited) {
		status = info.exit_code;
	} else if (info.signaled) {
		if (!st.timed_out)
			raise_sig = info.signal;
		else if (info.signal == SIGKILL)
			preserve = true; /* 137: COMMAND had to be killed */
		status = 128 + info.signal;
	} else {
		status = EXIT_TETHER;
	}
	if (st.timed_out && !preserve)
		status = EXIT_TIMEDOUT;
	if (rep && o->tree && (o->flags & CLONE_PIDFD_AUTOKILL) && o->command != CLI_INIT) {
		/* The rest of the tree dies with tether's handle below anyway:
		 * end it now, so that the report has the whole tree's figures. */
		tether_child_kill_tree(st.child, SIGKILL);
		tether_child_wait_tree(st.child, -1);
	}
	if (rep) {
		/* A reader gone (a pipe to head) loses the report, never the status:
		 * COMMAND has ended, nothing inherits this disposition any more. */
		signal(SIGPIPE, SIG_IGN);
		cli_report(o->report, rep, cmd, st.pid, &info, st.timed_out, st.killed, status, o->tree ? st.child : NULL);
		if (rep != stderr)
			fclose(rep);
	}
	tether_child_release(st.child);
	if (raise_sig)
		die_by(raise_sig);
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

/*
 * One line for bug reports: "tether 0.1.0; backend native; kernel: clone3
 * waitid-pidfd ..." -- the library's version, the backend a call with every
 * lifecycle flag would get now, and what the running kernel has natively.
 */
static int cli_version(void)
{
	unsigned int have = tether_features(), n = 0;

	printf("tether %s; backend %s; kernel:", tether_version(),
	       tether_backend_name(tether_backend_for(TETHER_CLONE_FLAGS)));
	for (unsigned int bit = 1; bit & TETHER_FEATURE_ALL; bit <<= 1)
		if ((have & bit) && tether_feature_name(bit) && ++n)
			printf(" %s", tether_feature_name(bit));
	printf("%s\n", n ? "" : " none");
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
	if (o.version)
		return cli_version();
	return o.command == CLI_RUN || o.command == CLI_INIT ? cli_run(&o) : cli_features(&o);
}

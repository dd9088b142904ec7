/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: tether(1)'s command-line parser, cli_parse() of
 * cli/tether-cli.c, on arbitrary argument vectors.
 *
 * Input: the arguments, argv[0] first, each ended by a NUL (the last one may
 * lack it; an empty input is argc 0). An argument of exactly one byte from
 * 0x01 to 0x1d stands for a word of the command line ("run", "--cgroup",
 * "--report=json", ...: words[] below) so that the fuzzer combines options
 * from the start. Each argument is a heap block of its exact size, so that
 * reading past its NUL is caught.
 *
 * Checks, besides what AddressSanitizer, LeakSanitizer and UBSan catch:
 * - the parser does nothing: every library function tether-cli.c calls is a
 *   stub here that aborts; no descriptor is opened, the signal mask stays,
 *   nothing is written to stdout; argv and its strings are unchanged;
 * - it returns 0 or 125 (EXIT_TETHER); 125 with exactly one message on the
 *   stream given ("tether: ...", ending in a newline), 0 with none; and the
 *   same again without a stream;
 * - 0 is a valid configuration that says what the command line says:
 *   help or version (from the words that ask for them), or "run" with the
 *   lifecycle flags, cgroup (non-empty) and report of the options before
 *   COMMAND (the last of each kind wins; --autokill implies --autoreap) and
 *   COMMAND the first argument that is not an option, or the one after
 *   "--"; or "features" with only --json.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tether.h>

#include "tether-cli.h"

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "fuzz_cli_args: broken promise: %s (line %d)\n", #cond, \
				__LINE__);                                                   \
			abort();                                                             \
		}                                                                            \
	} while (0)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const words[] = {
	"run", "features", "--", "--autoreap", "--nnp", "--autokill", "--cgroup",
	"--cgroup=", "--report", "--report=text", "--report=json", "--report=", "--json", "-h",
	"--help", "help", "-V", "--version", "-", "",
	"--report-fd", "--report-file", "--timeout", "--kill-after", "--signal", "--preserve-status",
	"--foreground", "3", "1.5m", "init", "--tree", "--tree=cgroup", "--tree=subreaper", "--tree=", "--keep-tree",
};

static int devnull = -1;
static char stdout_buf[1 << 16];

/* ---- the library, as far as tether-cli.c uses it: parsing must reach none of it ---- */

static _Noreturn void ran(const char *fn)
{
	fprintf(stderr, "fuzz_cli_args: parsing called %s()\n", fn);
	abort();
}

const char *tether_version(void) { ran(__func__); }
unsigned int tether_features(void) { ran(__func__); }
const char *tether_feature_name(unsigned int feature) { (void)feature; ran(__func__); }
enum tether_backend tether_get_backend(void) { ran(__func__); }
enum tether_backend tether_backend_for(__u64 clone_flags) { (void)clone_flags; ran(__func__); }
const char *tether_backend_name(enum tether_backend backend) { (void)backend; ran(__func__); }
int tether_spawn_attr_init(struct tether_spawn_attr **attr) { (void)attr; ran(__func__); }
void tether_spawn_attr_destroy(struct tether_spawn_attr *attr) { (void)attr; ran(__func__); }

int tether_spawn_attr_set_flags(struct tether_spawn_attr *attr, __u64 flags)
{
	(void)attr, (void)flags;
	ran(__func__);
}

int tether_spawn_attr_set_sigmask(struct tether_spawn_attr *attr, const sigset_t *mask)
{
	(void)attr, (void)mask;
	ran(__func__);
}

int tether_spawn_attr_set_pgroup(struct tether_spawn_attr *attr, pid_t pgroup)
{
	(void)attr, (void)pgroup;
	ran(__func__);
}

int tether_spawn_attr_set_foreground(struct tether_spawn_attr *attr, int tty_fd)
{
	(void)attr, (void)tty_fd;
	ran(__func__);
}

int tether_child_terminate(struct tether_child *child, int sig, int grace_ms, struct tether_exit_info *info)
{
	(void)child, (void)sig, (void)grace_ms, (void)info;
	ran(__func__);
}

int tether_spawn_attr_set_cgroup(struct tether_spawn_attr *attr, int cgroup_fd)
{
	(void)attr, (void)cgroup_fd;
	ran(__func__);
}

int tether_spawnx(struct tether_child **child, const char *file, unsigned int options,
		  const struct tether_file_actions *actions, const struct tether_spawn_attr *attr,
		  char *const argv[], char *const envp[], enum tether_spawn_stage *failed_stage)
{
	(void)child, (void)file, (void)options, (void)actions, (void)attr, (void)argv, (void)envp;
	(void)failed_stage;
	ran(__func__);
}

int tether_child_pidfd(const struct tether_child *child) { (void)child; ran(__func__); }
pid_t tether_child_pid(const struct tether_child *child) { (void)child; ran(__func__); }
int tether_child_kill(struct tether_child *child, int sig) { (void)child, (void)sig; ran(__func__); }
int tether_child_event(struct tether_child *child, struct tether_child_event *ev, size_t size)
{
	(void)child, (void)ev, (void)size;
	ran(__func__);
}
void tether_child_release(struct tether_child *child) { (void)child; ran(__func__); }

int tether_child_wait(struct tether_child *child, int timeout_ms, struct tether_exit_info *info)
{
	(void)child, (void)timeout_ms, (void)info;
	ran(__func__);
}

int tether_spawn_attr_set_tree(struct tether_spawn_attr *attr, enum tether_tree mode)
{
	(void)attr, (void)mode;
	ran(__func__);
}
enum tether_tree tether_tree_probe(void) { ran(__func__); }
enum tether_tree tether_child_tree(const struct tether_child *child) { (void)child; ran(__func__); }
int tether_child_kill_tree(struct tether_child *child, int sig) { (void)child, (void)sig; ran(__func__); }
int tether_child_wait_tree(struct tether_child *child, int timeout_ms)
{
	(void)child, (void)timeout_ms;
	ran(__func__);
}
int tether_child_tree_stats(struct tether_child *child, struct tether_tree_stats *st)
{
	(void)child, (void)st;
	ran(__func__);
}

/* ---- checks ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Fully buffered and never flushed by us: anything the parser prints stays pending. */
	CHECK(setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf)) == 0);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(devnull >= 0);
	return 0;
}

static bool is(const char *a, const char *w)
{
	return strcmp(a, w) == 0;
}

static bool is_help(const char *a)
{
	return is(a, "-h") || is(a, "--help");
}

/* The lowest free descriptor: a parser that opened something would move it. */
static int lowest_free_fd(void)
{
	int fd = dup(devnull);

	CHECK(fd >= 0);
	close(fd);
	return fd;
}

/* "run": what the options before COMMAND say, the last of each kind winning. */
static void check_run(int argc, char **argv, const struct cli_options *o)
{
	uint64_t flags = 0;
	const char *cgroup = NULL;
	enum cli_report report = REPORT_NONE;
	int i, tree = o->command == CLI_INIT ? TETHER_TREE_AUTO : TETHER_TREE_NONE;
	bool keep_tree = false;

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (is(a, "--")) {
			i++;
			break;
		}
		if (is_help(a)) {
			CHECK(o->help);
			return;
		}
		if (is(a, "--autoreap"))
			flags |= CLONE_AUTOREAP;
		else if (is(a, "--nnp"))
			flags |= CLONE_NNP;
		else if (is(a, "--autokill"))
			flags |= CLONE_AUTOREAP | CLONE_PIDFD_AUTOKILL;
		else if (is(a, "--cgroup"))
			cgroup = ++i < argc ? argv[i] : NULL;
		else if (strncmp(a, "--cgroup=", 9) == 0)
			cgroup = a + 9;
		else if (is(a, "--report-fd") || is(a, "--report-file") || is(a, "--timeout") ||
			 is(a, "--kill-after") || is(a, "--signal"))
			i++, report = (strncmp(a, "--report-", 9) == 0 && report == REPORT_NONE) ? REPORT_TEXT : report;
		else if (strncmp(a, "--report-fd=", 12) == 0 || strncmp(a, "--report-file=", 14) == 0)
			report = report == REPORT_NONE ? REPORT_TEXT : report;
		else if (strncmp(a, "--timeout=", 10) == 0 || strncmp(a, "--kill-after=", 13) == 0 ||
			 strncmp(a, "--signal=", 9) == 0 || is(a, "--preserve-status") || is(a, "--foreground"))
			;
		else if (is(a, "--report") || is(a, "--report=text"))
			report = REPORT_TEXT;
		else if (is(a, "--report=json"))
			report = REPORT_JSON;
		else if (is(a, "--tree") || is(a, "--tree=auto"))
			tree = TETHER_TREE_AUTO;
		else if (is(a, "--tree=cgroup"))
			tree = TETHER_TREE_CGROUP;
		else if (is(a, "--tree=subreaper"))
			tree = TETHER_TREE_SUBREAPER;
		else if (is(a, "--keep-tree") && o->command == CLI_INIT)
			keep_tree = true;
		else if (a[0] == '-' && a[1])
			CHECK(!"an unknown option or a bad --report value accepted");
		else
			break;
	}
	CHECK(!o->help);
	CHECK(i < argc && o->argv == argv + i && o->argv[0]);
	CHECK(o->flags == flags);
	CHECK(!(o->flags & CLONE_PIDFD_AUTOKILL) || (o->flags & CLONE_AUTOREAP));
	CHECK(o->cgroup == cgroup && (!cgroup || *cgroup));
	CHECK(o->report == report);
	CHECK(o->tree == tree && o->keep_tree == keep_tree);
	CHECK(!o->json && !o->version);
}

static void check_options(int argc, char **argv, const struct cli_options *o)
{
	const char *cmd = argv[1];

	CHECK(argc > 1);
	switch (o->command) {
	case CLI_NONE:
		CHECK(o->help != o->version);
		CHECK(o->help ? is_help(cmd) || is(cmd, "help") : is(cmd, "-V") || is(cmd, "--version"));
		CHECK(!o->flags && !o->cgroup && o->report == REPORT_NONE && !o->argv && !o->json);
		break;
	case CLI_RUN:
		CHECK(is(cmd, "run"));
		check_run(argc, argv, o);
		break;
	case CLI_INIT:
		CHECK(is(cmd, "init"));
		check_run(argc, argv, o);
		break;
	case CLI_FEATURES: {
		bool json = false;
		CHECK(is(cmd, "features") && !o->version);
		for (int i = 2; i < argc && !is_help(argv[i]); i++) {
			CHECK(is(argv[i], "--json"));
			json = true;
		}
		CHECK(o->json == json);
		CHECK(!o->flags && !o->cgroup && o->report == REPORT_NONE && !o->argv);
		break;
	}
	default:
		CHECK(!"an unknown command");
	}
}

static bool same_options(const struct cli_options *a, const struct cli_options *b)
{
	return a->command == b->command && a->help == b->help && a->version == b->version &&
	       a->flags == b->flags && a->cgroup == b->cgroup && a->report == b->report && a->argv == b->argv &&
	       a->json == b->json;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cli_options o, again;
	sigset_t mask_before, mask_after;
	char **argv, **ptrs, **copies, *msg = NULL;
	size_t msg_len = 0, at = 0;
	int argc = 0, fd_before, r;
	FILE *err;

	for (size_t i = 0; i < len; i++)
		argc += data[i] == '\0';
	argc += len > 0 && data[len - 1] != '\0';
	argv = calloc((size_t)argc + 1, sizeof(*argv));
	ptrs = calloc((size_t)argc + 1, sizeof(*ptrs));
	copies = calloc((size_t)argc + 1, sizeof(*copies));
	CHECK(argv && ptrs && copies);
	for (int i = 0; i < argc; i++) {
		const uint8_t *end = memchr(data + at, '\0', len - at);
		size_t n = end ? (size_t)(end - (data + at)) : len - at;

		if (n == 1 && data[at] >= 1 && data[at] <= ELEMENTSOF(words))
			argv[i] = strdup(words[data[at] - 1]);
		else
			argv[i] = strndup((const char *)data + at, n);
		CHECK(argv[i]);
		at += n + 1;
	}
	for (int i = 0; i < argc; i++) {
		ptrs[i] = argv[i];
		copies[i] = strdup(argv[i]);
		CHECK(copies[i]);
	}
	err = open_memstream(&msg, &msg_len);
	CHECK(err);

	/* The kernel fills only its 64 bits of a sigset_t. */
	memset(&mask_before, 0, sizeof(mask_before));
	memset(&mask_after, 0, sizeof(mask_after));
	sigprocmask(SIG_SETMASK, NULL, &mask_before);
	fd_before = lowest_free_fd();
	r = cli_parse(argc, argv, &o, err);
	CHECK(lowest_free_fd() == fd_before);
	sigprocmask(SIG_SETMASK, NULL, &mask_after);
	CHECK(memcmp(&mask_before, &mask_after, sizeof(sigset_t)) == 0);
	CHECK(__fpending(stdout) == 0);

	CHECK(fclose(err) == 0);
	CHECK(r == 0 || r == EXIT_TETHER);
	if (r == 0) {
		CHECK(msg_len == 0);
		check_options(argc, argv, &o);
	} else {
		/* One message; an argument it quotes may hold newlines of its own. */
		CHECK(msg_len > 8 && strncmp(msg, "tether: ", 8) == 0 && msg[msg_len - 1] == '\n');
		CHECK(strlen(msg) == msg_len);
	}

	/* Deterministic, and quiet without a stream. */
	CHECK(cli_parse(argc, argv, &again, NULL) == r);
	CHECK(r != 0 || same_options(&o, &again));

	CHECK(argv[argc] == NULL);
	for (int i = 0; i < argc; i++) {
		CHECK(argv[i] == ptrs[i] && strcmp(argv[i], copies[i]) == 0);
		free(argv[i]);
		free(copies[i]);
	}
	free(argv);
	free(ptrs);
	free(copies);
	free(msg);
	return 0;
}

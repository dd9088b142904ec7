/* SPDX-License-Identifier: MIT */
#ifndef TETHER_CLI_H
#define TETHER_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_TETHER 125     /* tether itself failed */
#define EXIT_CANNOT_RUN 126 /* COMMAND found but could not be run */
#define EXIT_NOT_FOUND 127  /* COMMAND not found */
#define EXIT_TIMEDOUT 124   /* --timeout: the deadline passed (as timeout(1)) */

enum cli_command { CLI_NONE, CLI_RUN, CLI_FEATURES, CLI_INIT };
enum cli_report { REPORT_NONE, REPORT_TEXT, REPORT_JSON };

/* What the command line asks for. Strings and command point into argv. */
struct cli_options {
	enum cli_command command; /* CLI_NONE only with help or version */
	bool help;                /* print the help and exit 0 (wins over the rest) */
	bool version;             /* print the version and exit 0 */
	/* run */
	uint64_t flags;           /* CLONE_AUTOREAP, CLONE_NNP, CLONE_PIDFD_AUTOKILL */
	const char *cgroup;       /* NULL, or a non-empty directory name (not opened yet) */
	enum cli_report report;
	int report_fd;            /* --report-fd N, or -1 (standard error unless report_file) */
	const char *report_file;  /* --report-file PATH, or NULL */
	/* deadlines, as timeout(1): 0 means none; durations in nanoseconds */
	uint64_t timeout_ns;      /* --timeout DURATION */
	uint64_t kill_after_ns;   /* --kill-after DURATION */
	int timeout_signal;       /* --signal SIG (default SIGTERM) */
	bool preserve_status;     /* --preserve-status */
	bool foreground;          /* --foreground: signal only COMMAND, not its process group */
	char **argv;              /* COMMAND [ARG]..., NULL-terminated (argv[argc] must be NULL) */
	int tree;                 /* enum tether_tree: --tree[=MECHANISM] (init: auto unless given) */
	bool keep_tree;           /* init --keep-tree: wait for the tree instead of killing it */
	/* features */
	bool json;
};

/*
 * Parse argv as main() gets it, without doing anything: no output but one
 * error line on err (NULL: none), nothing opened, probed or run. Returns 0
 * with *out filled in, or EXIT_TETHER (the exit status) for a bad command line.
 */
int cli_parse(int argc, char **argv, struct cli_options *out, FILE *err);

/*
 * A duration as timeout(1) reads it: a non-negative decimal number, maybe
 * fractional, with an optional unit s (default), m, h or d. Returns 0 with
 * *ns set (saturated at about 292 years), or -1.
 */
int cli_parse_duration(const char *s, uint64_t *ns);

/* A signal by name (TERM, SIGTERM, case ignored, RTMIN+N) or number; -1 if none. */
int cli_parse_signal(const char *s);

/* The whole of tether(1): argv as main() gets it; returns the exit status. */
int tether_cli_main(int argc, char **argv);

#endif

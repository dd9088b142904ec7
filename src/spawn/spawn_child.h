/* SPDX-License-Identifier: MIT */
/*
 * The spawned child's contract: the builder objects it reads and the
 * arguments it gets, shared by tether_spawn() and by the emulation's monitor,
 * which creates the program in its place. Depends on the native layer only.
 */
#ifndef TETHER_SPAWN_CHILD_H
#define TETHER_SPAWN_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tether.h"
#include "macro.h"
#include "raw_clone.h"

/* spawn_attr.c */
struct tether_spawn_attr {
	uint64_t flags;     /* lifecycle flags */
	bool setsid;
	bool set_pgroup;
	pid_t pgroup;
	bool set_sigmask;
	sigset_t sigmask;
	bool set_sigdefault;
	sigset_t sigdefault;
	int cgroup_fd;      /* -1: none */
	int foreground_tty; /* -1: none; else tcsetpgrp() on it in the child */
	bool set_umask;
	mode_t umask;
	enum tether_tree tree; /* tree.c */
};

/* spawn_actions.c */
enum file_action_type {
	FILE_ACTION_DUP2,
	FILE_ACTION_CLOSE,
	FILE_ACTION_OPEN,
	FILE_ACTION_CHDIR,
	FILE_ACTION_FCHDIR,
	FILE_ACTION_CLOSE_RANGE,
	FILE_ACTION_CLOSE_ALL_BUT,
};

struct file_action {
	enum file_action_type type;
	int fd;            /* DUP2: source; CLOSE, OPEN: target; FCHDIR: directory */
	int newfd;         /* DUP2: target */
	int oflag;         /* OPEN */
	mode_t mode;       /* OPEN */
	char *path;        /* OPEN, CHDIR: owned */
	unsigned int first, last; /* CLOSE_RANGE */
	int *keep;         /* CLOSE_ALL_BUT: sorted, unique, all >= 3; owned */
	size_t n_keep;
};

struct tether_file_actions {
	struct file_action *v;
	size_t n, cap;
};

/*
 * What the child needs, on the parent's stack: the child shares the parent's
 * memory (CLONE_VM) and the parent sleeps until it execs or exits
 * (CLONE_VFORK), so the child reads this and reports back through it.
 */
struct spawn_child_args {
	const char *file;
	const char *search_path;  /* PATH to search, or NULL to exec file as given */
	char *const *argv;
	char *const *envp;
	const struct tether_spawn_attr *attr;       /* may be NULL */
	const struct tether_file_actions *actions;  /* may be NULL */
	bool nnp;                 /* emulated CLONE_NNP: set no_new_privs first thing */
	uint64_t caller_sigmask;  /* the caller's mask before the spawn blocked everything */
	bool handlers_cleared;    /* CLONE_CLEAR_SIGHAND did what child_reset_signals() does */
	/* Set by a monitor that creates the program (monitor_body.c): */
	pid_t monitor_pid;        /* the parent: PR_SET_PDEATHSIG(SIGKILL) relative to it */
	bool sigchld_ignored;     /* the caller ignored SIGCHLD: so does the program */
	const void *cpu_mask;     /* non-NULL: the caller's CPU affinity, given back before exec */
	unsigned int cpu_mask_len; /* its size in bytes */
	/* Written by the child when it fails; it then exits. */
	volatile int err;
	volatile int stage;
};

/* spawn_child.c: the child's side; only async-signal-safe calls. Returns only on failure. */
_hidden_ int spawn_child_main(void *args);


#endif

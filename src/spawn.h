/* SPDX-License-Identifier: MIT */
/* Shared by the spawning files: the builder objects, the child's arguments, the handle. */
#ifndef TETHER_SPAWN_H
#define TETHER_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

struct emulated_child;

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
	const struct emulated_child *emulated;      /* NULL when the kernel does it all */
	uint64_t caller_sigmask;  /* the caller's mask before the spawn blocked everything */
	bool handlers_cleared;    /* CLONE_CLEAR_SIGHAND did what child_reset_signals() does */
	/* Set by a monitor that creates the program (monitor_body.c): */
	pid_t monitor_pid;        /* the parent: PR_SET_PDEATHSIG(SIGKILL) relative to it */
	bool sigchld_ignored;     /* the caller ignored SIGCHLD: so does the program */
	/* Written by the child when it fails; it then exits. */
	volatile int err;
	volatile int stage;
};

/* spawn_child.c: the child's side; only async-signal-safe calls. Returns only on failure. */
_hidden_ int spawn_child_main(void *args);

/* spawn_clone.S: clone3()/clone() whose child runs fn(arg) on the given stack and exits. */
_hidden_ long spawn_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg);
_hidden_ long spawn_clone(unsigned long flags, void *stack_top, int *pidfd, int (*fn)(void *), void *arg);

/* handle.c */
_hidden_ struct tether_child *child_handle_alloc(void);
_hidden_ void child_handle_init(struct tether_child *c, int pidfd, pid_t pid, uint64_t flags,
				enum tether_backend backend);
_hidden_ void child_handle_free(struct tether_child *c);

#endif

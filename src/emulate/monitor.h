/* SPDX-License-Identifier: MIT */
/*
 * The monitor: one small process per emulated lifecycle child, the
 * emulation of CLONE_AUTOREAP and CLONE_PIDFD_AUTOKILL on kernels that lack
 * them (see monitor.c for the design). This header is what the creator's
 * side (monitor.c) and the monitor's own body (monitor_body.c, built without
 * instrumentation) share.
 */
#ifndef TETHER_MONITOR_H
#define TETHER_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

struct spawn_child_args;

/* monitor_shared.state */
enum {
	MONITOR_PENDING = 1, /* starting (the value it is created with) */
	MONITOR_READY,       /* watching: the program runs (or, watch mode, the child is armed) */
	MONITOR_FAILED,      /* gave up; err and stage say why; nothing of it runs */
};

/* monitor_shared.go: the creator's answer once the monitor is ready */
enum {
	MONITOR_GO_WAIT = 0,
	MONITOR_GO_RUN,  /* the creator holds its own pidfd of the program: go on */
	MONITOR_GO_KILL, /* the creator failed after all: kill the program, end */
};

/* monitor_shared.mode */
enum {
	MONITOR_SPAWN = 1, /* the monitor creates the program and is its parent */
	MONITOR_WATCH,     /* the monitor watches the creator's own child (autokill only) */
};

/* monitor_shared.event: the program's latest stop or continue, not yet
 * taken by the creator (0: none); bits 0-7 the signal, 8-15 the kind,
 * 16-31 a count of reports (wraps) */
enum {
	MONITOR_EVENT_STOPPED = 1,
	MONITOR_EVENT_CONTINUED = 2,
};
#define MONITOR_EVENT(seq, kind, sig) (((uint32_t)(seq) << 16) | ((uint32_t)(kind) << 8) | ((uint32_t)(sig) & 0xff))
#define MONITOR_EVENT_KIND(ev) (((ev) >> 8) & 0xff)
#define MONITOR_EVENT_SIGNAL(ev) ((int)((ev) & 0xff))

/* monitor_shared.flags */
#define MONITOR_AUTOKILL (1u << 0)        /* kill the program when the handle hangs up */
#define MONITOR_IGNORE_SIGCHLD (1u << 1)  /* the kernel keeps the exit: let it reap at once */
#define MONITOR_CLONE3 (1u << 2)          /* clone3() is there */
#define MONITOR_CLEAR_SIGHAND (1u << 3)   /* the program's clone may ask CLONE_CLEAR_SIGHAND */
#define MONITOR_HAVE_PROGRAM (1u << 4)    /* the embedded program can take over */
#define MONITOR_SHARED_VM (1u << 5)       /* made with CLONE_VM: kcmp(KCMP_VM) tells the image */
#define MONITOR_SHARED_FILES (1u << 6)    /* made with CLONE_FILES: the program's pidfd is the creator's */
#define MONITOR_EXEC_WAKES_CREATOR (1u << 7) /* the program's exec wakes the creator itself (program_tid) */
#define MONITOR_TREE (1u << 8)            /* tree.c: the program is the root of a tree (subreaper) */
#define MONITOR_TREE_CGROUP (1u << 9)     /* the tree also has a cgroup of its own (cg_* below) */

/*
 * Shared between the creator and its monitor: in a MAP_SHARED mapping, so
 * that it is shared whether the monitor shares the creator's memory
 * (CLONE_VM, the usual case) or is a copy (where CLONE_VM is refused). The
 * five first words are futexes (shared ones: the page may be a copy's).
 */
/*
 * The monitor's mapping (monitor.c): a guard page, then its stack, which
 * ends in the mapping's last page; at the very end of that page the page
 * shared with the creator (MONITOR_SHARED_SIZE), and below it the stack of
 * a thread that lives for a moment at the monitor's start (monitor_body.c,
 * mon_compact_fds()). A monitor that does not go deep (one that is not a
 * tree's) so touches one page in all, and the monitor's own frames never
 * reach the thread's (they lie above the monitor's stack). Its frames are
 * small: it runs no code of the caller's, the program's vfork-style start
 * uses tether_spawn's stack, and a tree's monitor walks the tree with a
 * list of 2 048 pids (8 KiB); pages it never touches cost nothing.
 */
#define MONITOR_STACK_SIZE (64 * 1024)
#define MONITOR_SHARED_SIZE 1024
#define MONITOR_SHARER_STACK_SIZE 1024

struct monitor_shared {
	uint32_t state;  /* MONITOR_PENDING, _READY, _FAILED */
	uint32_t go;     /* MONITOR_GO_* */
	uint32_t done;   /* 1: the program is gone, status below if status_valid */
	uint32_t event;  /* MONITOR_EVENT(): the creator takes it by exchanging 0 in */
	uint32_t program_tid; /* MONITOR_EXEC_WAKES_CREATOR: 1 until the program has
			       * exec'd or exited (the kernel's CLONE_CHILD_CLEARTID
			       * writes 0 and wakes the creator), or the monitor failed */
	uint32_t mode;
	uint32_t flags;
	int32_t status;  /* the program's wait status, once it is gone */
	uint32_t status_valid;
	int32_t err;     /* MONITOR_FAILED: a positive errno */
	int32_t stage;   /* MONITOR_FAILED: the tether_spawn_stage of the failure */
	int32_t pid;     /* the program's (or watched child's) pid */
	int32_t pidfd;   /* MONITOR_SHARED_FILES: the program's pidfd, in the creator's table */
	int32_t handle_rd;  /* autokill handle's read end (monitor's fd table), or -1 */
	int32_t image_rd;   /* the creator-image pipe's read end (monitor's fd table) */
	int32_t creator_pid; /* the creator's process (set by the creator) */
	int32_t exit_signal; /* spawn: the program's exit signal (SIGCHLD) */
	/* spawn mode: how to make the program (read before MONITOR_READY only) */
	struct spawn_child_args *args;
	void *stack;        /* the program's vfork stack and its size */
	uint64_t stack_size;
	uint64_t clone_flags; /* extra clone flags for the program (CLONE_INTO_CGROUP) */
	uint64_t cgroup;
	/* the creator's CPU affinity (cpu_mask_len bytes; 0: not changed), given
	 * back to the monitor and the program once the program is made */
	uint32_t cpu_mask_len;
	uint8_t cpu_mask[128];
	/* the embedded program that takes over when the creator's image is gone */
	const unsigned char *program;
	uint64_t program_len;
	/*
	 * Tree mode (MONITOR_TREE, tree.c). The creator writes a signal number
	 * into tree_cmd, then to the eventfd tree_evfd; the monitor signals
	 * every descendant (SIGKILL: until none is left), then bumps tree_ack
	 * (a futex). The monitor ends once the root has ended and it has no
	 * child left: the tree is gone.
	 */
	int32_t tree_evfd;      /* the monitor's copy, same number as the creator's */
	uint32_t tree_cmd;
	uint32_t tree_ack;
	uint32_t tree_signalled; /* processes signalled by the kill commands and autokill */
	uint32_t tree_rounds;    /* walks of the last SIGKILL */
	uint32_t tree_at_kill;   /* processes of the tree when the first SIGKILL came; 0: not yet */
	uint32_t tree_err;       /* the last command's error: EPERM, every member left refused it */
	uint32_t tree_reaped;    /* processes the monitor reaped (the root and adopted orphans) */
	uint32_t tree_end;       /* 1: the creator can no longer watch us (monitor_pidfd_lost()):
				  * kill the tree and end; read at every wake (SIGCHLD wakes) */
	int32_t cg_dir;         /* MONITOR_TREE_CGROUP: the tree's cgroup and its parent (directory fds) */
	int32_t cg_parent;
	char cg_name[64];       /* its name in the parent, removed once the tree is gone */
	uint32_t cg_removed;    /* 1: removed */
	int64_t cg_usage_usec;  /* cpu.stat usage_usec when the tree was gone, -1 unknown */
	int64_t cg_memory_peak; /* memory.peak, bytes, -1 unknown */
	int64_t cg_pids_peak;   /* pids.peak, processes, -1 unknown */
};
_Static_assert(sizeof(struct monitor_shared) <= MONITOR_SHARED_SIZE, "room for the shared page");


/* monitor_body.c: the monitor's code; system calls only, no instrumentation. */
_hidden_ int monitor_main(void *arg);

/*
 * The monitor program (monitor_main.c), embedded: exec'd by a monitor whose
 * creator's image is gone, so that no memory of it stays pinned.
 *   tether-monitor PIDFD HANDLE_RD FLAGS
 */
_hidden_ _Noreturn void monitor_program_loop(int pidfd, int handle_rd, unsigned int flags);

#endif

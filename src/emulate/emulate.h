/* SPDX-License-Identifier: MIT */
/* Shared by the emulation backend's files: the registry, the reaper and the monitors. */
#ifndef TETHER_EMULATE_H
#define TETHER_EMULATE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "internal.h"

struct monitor;
struct spawn_child_args;
struct tether_spawn_attr;

/* emulate_registry.c: one record per emulated autoreap child. */
_hidden_ void registry_lock(void);
_hidden_ void registry_unlock(void);
/* In a child created while the lock was held: forget the parent's children. */
_hidden_ void registry_forget_in_child(void);
/*
 * A fork-like child (the caller's own): the reaper watches own_fd and reaps
 * it. Under the lock. Owns own_fd, handle_fd and mon (its watcher, for
 * autokill, or NULL) on success only.
 */
_hidden_ int registry_add_locked(pid_t pid, int caller_fd, int own_fd, int handle_fd, int hangup_fd,
				 struct monitor *mon);
/* A spawned program (pid) and its monitor. Owns handle_fd, hangup_fd (the
 * handle's read end) and mon on success only. */
_hidden_ int registry_add_spawned(pid_t pid, int caller_fd, int handle_fd, int hangup_fd, struct monitor *mon);

/* native_autokill.c: the pidfds that are the kernel's autokill files. */
_hidden_ void native_autokill_add(int pidfd);
_hidden_ bool native_autokill_has(int pidfd);
_hidden_ void native_autokill_forget(int pidfd);

/* tree.c: what makes a spawned program the root of a tree (NULL: not one). */
struct tree_setup {
	int cg_dir;     /* the tree's own cgroup (CLONE_INTO_CGROUP), or -1: subreaper only */
	int cg_parent;  /* its parent directory, for the removal */
	char cg_name[64];
};

/* monitor.c: the per-child monitor process. */
_hidden_ int monitor_spawn(struct monitor **out, struct spawn_child_args *args, void *stack, size_t stack_size,
			   uint64_t clone_flags, uint64_t cgroup, bool clear_sighand, int handle_rd,
			   uint64_t flags, const struct tree_setup *tree, int *pidfd, pid_t *pid, int *stage);
_hidden_ bool monitor_is_tree(const struct monitor *m);
_hidden_ bool monitor_tree_has_cgroup(const struct monitor *m);
_hidden_ pid_t monitor_pid(const struct monitor *m);
_hidden_ bool monitor_wait_status(struct monitor *m, int timeout_ms);
_hidden_ bool monitor_is_reaped(const struct monitor *m);
_hidden_ bool monitor_ended(const struct monitor *m, int timeout_ms);
_hidden_ int monitor_tree_signal(struct monitor *m, int sig);
_hidden_ void monitor_tree_stats(const struct monitor *m, struct tether_tree_stats *st);
/* tree.c: choose the mechanism, make the cgroup (*mode: the one that serves). */
_hidden_ int tree_prepare(const struct tether_spawn_attr *attr, struct tree_setup *ts, enum tether_tree *mode);
/* After the spawn: the caller's copies go; a failed spawn's cgroup too. */
_hidden_ void tree_setup_done(struct tree_setup *ts, bool failed);
/* emulate_registry.c: the monitor of the tree whose root's pidfd this is, or NULL. */
_hidden_ struct monitor *registry_tree_monitor(int pidfd);
_hidden_ int monitor_watch(struct monitor **out, pid_t pid, int handle_rd, uint64_t flags);
_hidden_ int monitor_pidfd(const struct monitor *m);
/* Its pidfd's number is no longer ours: take a fresh pidfd (see monitor.c). */
_hidden_ void monitor_pidfd_lost(struct monitor *m);
_hidden_ int monitor_finish(struct monitor *m, int timeout_ms);
_hidden_ int monitor_status(const struct monitor *m, int *status);
_hidden_ bool monitor_done(const struct monitor *m);
_hidden_ uint32_t monitor_take_event(struct monitor *m);
_hidden_ void monitor_free(struct monitor *m);
_hidden_ void monitor_atfork_prepare(void);
_hidden_ void monitor_atfork_parent(void);
_hidden_ void monitor_atfork_child(void);

/*
 * emulate_child.c: one emulated child's lifecycle, shared by every way of
 * creating one (tether_clone3's fork-like children, and vfork-style
 * spawning): what the parent prepares before the clone, what the child does
 * before it runs any code of the caller's (only async-signal-safe calls, so
 * it may run in a vfork-style child), and what the parent does after.
 */
struct emulated_child {
	uint64_t flags;  /* the lifecycle flags asked for */
	int handle_rd;   /* autokill handle: read end (to the monitor), write end (ours) */
	int handle_wr;
	int arm_rd;      /* fork-like autokill: the child waits here until its monitor runs */
	int arm_wr;
	struct monitor *mon;
};
_hidden_ int emulated_child_prepare(struct emulated_child *c, uint64_t flags, bool fork_like);
/* In the child, first thing: no_new_privs; drops the handle's ends. */
_hidden_ int emulated_child_setup(const struct emulated_child *c);
/* In a fork-like autokill child, after its report: wait until armed (0), or -errno. */
_hidden_ int emulated_child_await_armed(const struct emulated_child *c);
/* In the parent, once the child has reported: arm autokill (start the watcher). */
_hidden_ int emulated_child_arm(struct emulated_child *c, pid_t pid);
/* pid: the child's; caller_fd: the caller's pidfd or -1; own_fd: the library's reference, owned on success. */
_hidden_ int emulated_child_commit(struct emulated_child *c, pid_t pid, int caller_fd, int own_fd);
_hidden_ void emulated_child_abort(struct emulated_child *c, int pidfd);
/* Whatever prepare took and nobody owns now. */
_hidden_ void emulated_child_release(struct emulated_child *c);

#endif

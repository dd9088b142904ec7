/* SPDX-License-Identifier: MIT */
/* Shared by the emulation backend's files: the registry, the reaper and the warden. */
#ifndef TETHER_EMULATE_H
#define TETHER_EMULATE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "internal.h"

/* emulate_registry.c: one record per emulated autoreap child. */
_hidden_ void registry_lock(void);
_hidden_ void registry_unlock(void);
/* In a child created while the lock was held: forget the parent's children. */
_hidden_ void registry_forget_in_child(void);
/* Under the lock. Owns own_fd and handle_fd on success only. */
/* warden_gen: the warden an autokill child is armed with (0: not autokill). */
_hidden_ int registry_add_locked(int caller_fd, int own_fd, int handle_fd, unsigned int warden_gen);
_hidden_ void registry_kill_autokill_children_locked(unsigned int warden_gen);

/* emulate_warden.c: the process that kills autokill children. Under the registry lock. */
/* Our end of the channel (starting a warden if none runs); *gen names that warden. */
_hidden_ int warden_socket_locked(unsigned int *gen);
/* A child could not arm itself with warden gen: that warden is gone. */
_hidden_ void warden_channel_failed_locked(unsigned int gen);
_hidden_ void warden_forget_in_child(void);
/* The reaper reaped a warden (this one or an earlier one) with this wait status. */
_hidden_ void warden_exited_locked(int pidfd, unsigned int gen, int status);
/* Record a new warden (the registry owns its pidfd on success). */
_hidden_ int registry_add_warden_locked(int pidfd, unsigned int gen);
/* Watch the current warden's pidfd in the reaper, or stop. */
_hidden_ int registry_watch_warden_locked(bool on);
/* Reap the current warden if it died while unwatched; true if it did. */
_hidden_ bool registry_reap_unwatched_warden_locked(void);
/* An autokill child of warden gen is gone (reaped, or never made). */
_hidden_ void warden_child_gone_locked(unsigned int gen);

/* In a new child: send (own pidfd, handle read end) to the warden. Returns 0 or -errno. */
_hidden_ int warden_arm_from_child(int sock, int handle_rd);


/*
 * emulate_child.c: one emulated child's lifecycle. The parent prepares (before
 * the clone), the child sets itself up (before any caller code: only
 * async-signal-safe calls, so it may run in a vfork-style child), and the
 * parent commits (hands an autoreap child to the reaper) or aborts (kills and
 * reaps it, and releases what prepare took).
 */
struct emulated_child {
	uint64_t flags;  /* the lifecycle flags asked for */
	int warden_sock; /* autokill: the channel the child arms itself on, else -1 */
	int handle_rd;   /* autokill handle: read end (to the warden), write end (ours) */
	int handle_wr;
	unsigned int warden_gen; /* autokill: the warden armed with */
};
_hidden_ int emulated_child_prepare_locked(struct emulated_child *c, uint64_t flags);
_hidden_ int emulated_child_prepare(struct emulated_child *c, uint64_t flags);
_hidden_ int emulated_child_setup(const struct emulated_child *c);
_hidden_ void emulated_child_parent_after_clone(struct emulated_child *c);
/* caller_fd: the caller's pidfd or -1; own_fd: the library's reference, owned on success. */
_hidden_ int emulated_child_commit(struct emulated_child *c, int caller_fd, int own_fd);
_hidden_ void emulated_child_abort(struct emulated_child *c, int pidfd);

#endif

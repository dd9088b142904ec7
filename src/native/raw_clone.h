/* SPDX-License-Identifier: MIT */
/*
 * The kernel's clone system calls, made directly: the native path's only
 * code of its own, used by every other part (probes, emulation, spawning).
 * It depends on nothing else of the library's.
 */
#ifndef TETHER_RAW_CLONE_H
#define TETHER_RAW_CLONE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/sched.h>

#include "macro.h"

/* raw_clone.c: clone3() whose child exits at once, running no code of ours
 * (for probes); -1 and errno on failure. */
_hidden_ long clone3_exiting_child(struct clone_args *args, size_t size);
/* clone3() if have_clone3, else clone() for what it can express (ENOSYS for
 * the rest: flags above bit 31, set_tid, a large exit signal). */
_hidden_ long clone3_or_clone(struct clone_args *args, size_t size, bool have_clone3);

/* spawn_clone.S: clone3()/clone() whose child runs fn(arg) on the given
 * stack and exits with its value; the raw convention (-errno). */
_hidden_ long spawn_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg);
_hidden_ long spawn_clone(unsigned long flags, void *stack_top, int *pidfd, int (*fn)(void *), void *arg);

#endif

/* SPDX-License-Identifier: MIT */
/* Shared by the spawning files: the child's contract (spawn_child.h) and the handle. */
#ifndef TETHER_SPAWN_H
#define TETHER_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"
#include "spawn_child.h"

/* handle.c */
_hidden_ struct tether_child *child_handle_alloc(void);
_hidden_ void child_handle_init(struct tether_child *c, int pidfd, pid_t pid, uint64_t flags,
				enum tether_backend backend);
_hidden_ void child_handle_free(struct tether_child *c);

#endif

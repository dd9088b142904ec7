/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own struct sigaction, as rt_sigaction() reads and writes it
 * (not the C library's, whose sa_mask is 128 bytes): include/linux/
 * signal_types.h, with sa_restorer where the architecture defines
 * SA_RESTORER (arch/<arch>/include/uapi/asm/signal.h). The layout is the
 * architecture's: a port checks it here. Used where the C library must not
 * be (the spawned child's first steps, the monitor).
 */
#ifndef TETHER_KERNEL_SIGACTION_H
#define TETHER_KERNEL_SIGACTION_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__aarch64__)
/* Both define SA_RESTORER and a 64-bit sigset_t. */
#define KERNEL_NSIG 64
#define KERNEL_SIGSET_SIZE 8

struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};
_Static_assert(sizeof(struct kernel_sigaction) == 32, "kernel_sigaction: 4 words");
#else
#error "kernel_sigaction.h: the kernel's struct sigaction of this architecture is missing"
#endif

#endif

/* SPDX-License-Identifier: MIT */
/*
 * tether_clone3(): the raw system call whenever the kernel can do all that is
 * asked, the emulation otherwise. A call without lifecycle flags, or one the
 * native backend serves, goes to the kernel untouched, so every other flag
 * and field behaves exactly as the system call's.
 */
#include "emulate.h"
#include "internal.h"
#include "syscalls.h"

_public_ pid_t tether_clone3(struct clone_args *uargs, size_t size)
{
	struct clone_args kargs;
	int r;

	/* Read the flags the way the kernel would, with its errors for bad input. */
	r = clone_args_copy(uargs, size, &kargs);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (!(kargs.flags & TETHER_CLONE_FLAGS)) {
		/* R3 for a caller that is an emulated autoreap child, which the
		 * kernel cannot know about: its CLONE_PARENT sibling would inherit
		 * "no exit signal" and become an invisible zombie. */
		if ((kargs.flags & CLONE_PARENT) && tether_get_backend() != TETHER_BACKEND_NATIVE &&
		    self_is_autoreap()) {
			errno = EINVAL;
			return -1;
		}
		return (pid_t)sys_clone3(uargs, size);
	}
	if (backend_resolve(kargs.flags) == TETHER_BACKEND_NATIVE) {
		pid_t pid = (pid_t)sys_clone3(uargs, size);
		if (pid > 0 && (kargs.flags & CLONE_PIDFD_AUTOKILL)) {
			/* Known as the autokill file for tether_autokill_fd(). */
			int saved = errno;
			native_autokill_add(*(int *)(uintptr_t)kargs.pidfd);
			errno = saved;
		}
		return pid;
	}
	return emulate_clone3(&kargs, size);
}

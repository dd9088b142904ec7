/* SPDX-License-Identifier: MIT */
/*
 * Deviation "CLONE_VM": the emulation sets a child up in C after the clone,
 * which cannot work for a child sharing the caller's memory or fd table, or
 * starting on a stack of the caller's; tether_clone3 refuses these with
 * EINVAL (the kernel would accept them). tether_spawn is the vfork-style way.
 */
#include "harness.h"

int main(void)
{
	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	T_ASSERT(t_expect_rejected(CLONE_AUTOREAP | CLONE_PIDFD | CLONE_VM, 0, EINVAL, "AUTOREAP|PIDFD|VM"),
		 "not judged");
	T_ASSERT(t_expect_rejected(CLONE_NNP | CLONE_VM | CLONE_VFORK, SIGCHLD, EINVAL, "NNP|VM|VFORK"),
		 "not judged");
	T_ASSERT(t_expect_rejected(CLONE_AUTOREAP | CLONE_PIDFD | CLONE_FILES, 0, EINVAL, "AUTOREAP|PIDFD|FILES"),
		 "not judged");
	{
		/* A stack of the caller's: the child would run the caller's code on
		 * it before its setup (no_new_privs not yet set). */
		static char stack[65536];
		int pidfd = -1;
		struct clone_args args = { .flags = CLONE_NNP | CLONE_PIDFD, .pidfd = (uintptr_t)&pidfd,
					   .exit_signal = SIGCHLD, .stack = (uintptr_t)stack,
					   .stack_size = sizeof(stack) };
		pid_t pid = tether_clone3(&args, sizeof(args));
		if (pid == 0)
			_exit(0);
		T_ASSERT(pid < 0 && errno == EINVAL, "NNP with a stack of the caller's: %s",
			 pid < 0 ? strerror(errno) : "accepted");
		t_info("NNP with a stack of the caller's: EINVAL");
	}
	t_pass("emulated lifecycle flags with CLONE_VM, CLONE_FILES or a caller's stack: EINVAL, nothing created");
}

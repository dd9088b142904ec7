/* SPDX-License-Identifier: MIT */
#include <stdint.h>

#include "raw_clone.h"
#include "syscalls.h"

/*
 * The child starts on whatever stack it was given (or on ours, with CLONE_VM)
 * and must not touch it: it calls exit() straight from the syscall return.
 * That makes the call safe for probes and for CLONE_VM|CLONE_THREAD tests.
 */
long clone3_exiting_child(struct clone_args *args, size_t size)
{
#if defined(__x86_64__)
	long ret;
	register long a1 __asm__("rdi") = (long)args;
	register long a2 __asm__("rsi") = (long)size;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov %[nr_exit], %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone3), "r"(a1), "r"(a2), [nr_exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
#elif defined(__aarch64__)
	/* The same on aarch64: every register but x0 survives the call in both
	 * processes, so the child finds the exit's number by reusing x8. */
	register long x8 __asm__("x8") = SYS_clone3;
	register long x0 __asm__("x0") = (long)args;
	register long x1 __asm__("x1") = (long)size;

	__asm__ volatile("svc #0\n\t"
			 "cbnz x0, 1f\n\t"
			 "mov x8, %[nr_exit]\n\t"
			 "svc #0\n\t" /* x0 is 0: exit(0) */
			 "brk #0\n"
			 "1:"
			 : "+r"(x0), "+r"(x8)
			 : "r"(x1), [nr_exit] "i"(SYS_exit)
			 : "memory");
	if (x0 < 0) {
		errno = (int)-x0;
		return -1;
	}
	return x0;
#else
#error "clone3_exiting_child: port me to this architecture"
#endif
}

/*
 * clone3() where the kernel (or a seccomp filter, or valgrind) has it, else
 * the legacy clone() for what it can express: 32-bit flags, the exit signal
 * in the low byte, the pidfd in parent_tid's place.
 */
long clone3_or_clone(struct clone_args *a, size_t size, bool have_clone3)
{
	unsigned long flags;

	if (have_clone3)
		return sys_clone3(a, size);
	if ((a->flags >> 32) || a->set_tid || a->exit_signal > 0xff ||
	    ((a->flags & CLONE_PIDFD) && (a->flags & CLONE_PARENT_SETTID))) {
		errno = ENOSYS;
		return -1;
	}
	flags = (unsigned long)a->flags | (unsigned long)a->exit_signal;
#if defined(__aarch64__)
	/* arm64 has CONFIG_CLONE_BACKWARDS: tls comes before child_tid. */
	return syscall(SYS_clone, flags, a->stack ? (void *)(uintptr_t)(a->stack + a->stack_size) : NULL,
		       (void *)(uintptr_t)((a->flags & CLONE_PIDFD) ? a->pidfd : a->parent_tid),
		       (void *)(uintptr_t)a->tls, (void *)(uintptr_t)a->child_tid);
#else
	return syscall(SYS_clone, flags, a->stack ? (void *)(uintptr_t)(a->stack + a->stack_size) : NULL,
		       (void *)(uintptr_t)((a->flags & CLONE_PIDFD) ? a->pidfd : a->parent_tid),
		       (void *)(uintptr_t)a->child_tid, (void *)(uintptr_t)a->tls);
#endif
}

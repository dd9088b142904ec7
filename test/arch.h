/* SPDX-License-Identifier: MIT */
/*
 * What the clone3() differential tests do per architecture: a child that
 * clone3() started on a stack of the test's, or on the caller's own stack
 * (CLONE_VM), must end without running any of the caller's code there.
 *
 * x86_64: the child returns from the C library's syscall() (or from
 * tether_clone3(), which calls it) with a "ret" that pops its return address
 * from the new stack, so an exit stub's address on top of that stack is where
 * it goes.
 *
 * aarch64: "ret" jumps to the link register, which the child shares with the
 * parent, so the child would go on in the caller's code. Raw calls are made
 * with an inline system call whose child exits before touching memory, and
 * tether_clone3() is called from a wrapper that ends a child coming back with
 * 0; a C function that pops its frame on the way (its saved x29/x30 sit right
 * above the stack pointer) finds the stub's address in every word above the
 * new stack's top (T_STUB_TOP bytes of them).
 *
 *   T_EXIT_STUB(name)                defines void name(void): exit(0) of the
 *                                    calling thread, touching no memory
 *   t_stub_stack_size(base, len, stub)  prepares the top of a child stack
 *                                    mapped at base (len bytes), returns the
 *                                    clone_args.stack_size to use
 *   t_raw_clone3_child_exits(a, n)   raw clone3(); the child exits at once
 *   t_raw_clone3_stub(a, n)          raw clone3() for a child that may have a
 *                                    stub stack (a process child without one
 *                                    must still be ended by the caller)
 *   t_tether_clone3_stub(a, n)       tether_clone3() likewise
 *   t_thread_pointer()               the calling thread's TLS pointer
 *   T_AUDIT_ARCH                     seccomp_data.arch of this architecture
 *
 * All return as the system call does: the pid, or -1 with errno.
 */
#ifndef TETHER_TEST_ARCH_H
#define TETHER_TEST_ARCH_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>

#include "tether.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#if defined(__x86_64__)

#define T_AUDIT_ARCH AUDIT_ARCH_X86_64

#define T_EXIT_STUB(name)                                               \
	__attribute__((visibility("hidden"))) extern void name(void);   \
	__asm__(".text\n"                                               \
		".type " #name ", @function\n" #name ":\n"              \
		"\tmov $60, %eax\n" /* SYS_exit: this thread only */    \
		"\txor %edi, %edi\n"                                    \
		"\tsyscall\n"                                           \
		"\thlt\n"                                               \
		".size " #name ", . - " #name "\n")

#define T_STUB_TOP sizeof(uintptr_t)

static inline long t_raw_clone3_child_exits(void *args, size_t size)
{
	long ret;
	register long a1 __asm__("rdi") = (long)args;
	register long a2 __asm__("rsi") = (long)size;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone3), "r"(a1), "r"(a2)
			 : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static inline long t_raw_clone3_stub(void *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

static inline pid_t t_tether_clone3_stub(struct clone_args *args, size_t size)
{
	return tether_clone3(args, size);
}

static inline uintptr_t t_thread_pointer(void)
{
	uintptr_t tp;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

#elif defined(__aarch64__)

#define T_AUDIT_ARCH AUDIT_ARCH_AARCH64

#define T_EXIT_STUB(name)                                               \
	__attribute__((visibility("hidden"))) extern void name(void);   \
	__asm__(".text\n"                                               \
		".p2align 2\n"                                          \
		".type " #name ", %function\n" #name ":\n"              \
		"\tmov x8, #93\n" /* SYS_exit: this thread only */      \
		"\tmov x0, #0\n"                                        \
		"\tsvc #0\n"                                            \
		"\tbrk #0\n"                                            \
		".size " #name ", . - " #name "\n")

/* More than any frame tether_clone3() and what it calls pop on the way out. */
#define T_STUB_TOP 1024

static inline long t_raw_clone3_child_exits(void *args, size_t size)
{
	register long x8 __asm__("x8") = SYS_clone3;
	register long x0 __asm__("x0") = (long)args;
	register long x1 __asm__("x1") = (long)size;

	__asm__ volatile("svc #0\n\t"
			 "cbnz x0, 1f\n\t"
			 "mov x8, #93\n\t" /* SYS_exit; x0 is 0 */
			 "svc #0\n\t"
			 "brk #0\n"
			 "1:"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1)
			 : "memory");
	if (x0 < 0) {
		errno = (int)-x0;
		return -1;
	}
	return x0;
}

/* Every child, with a stack or without, exits in the call. */
static inline long t_raw_clone3_stub(void *args, size_t size)
{
	return t_raw_clone3_child_exits(args, size);
}

/* tether_clone3() from a frame that ends a child the moment it returns 0
 * (a child whose return pops a C frame goes to the stub instead). */
__attribute__((visibility("hidden"))) extern pid_t t_tether_clone3_wrapped(struct clone_args *args,
									    size_t size);
__asm__(".text\n"
	".p2align 2\n"
	".type t_tether_clone3_wrapped, %function\n"
	"t_tether_clone3_wrapped:\n"
	"\thint 34\n" /* bti c */
	"\tstp x29, x30, [sp, #-16]!\n"
	"\tmov x29, sp\n"
	"\tbl tether_clone3\n"
	"\tcbz w0, 1f\n"
	"\tldp x29, x30, [sp], #16\n"
	"\tret\n"
	"1:\tmov x8, #93\n" /* SYS_exit; x0 is 0 */
	"\tsvc #0\n"
	"\tbrk #0\n"
	".size t_tether_clone3_wrapped, . - t_tether_clone3_wrapped\n");

static inline pid_t t_tether_clone3_stub(struct clone_args *args, size_t size)
{
	return t_tether_clone3_wrapped(args, size);
}

static inline uintptr_t t_thread_pointer(void)
{
	uintptr_t tp;
	__asm__("mrs %0, tpidr_el0" : "=r"(tp));
	return tp;
}

#else
#error "test/arch.h: port the clone3() test helpers to this architecture"
#endif

static inline __u64 t_stub_stack_size(void *base, size_t len, void (*stub)(void))
{
	for (size_t off = len - T_STUB_TOP; off < len; off += sizeof(uintptr_t))
		*(uintptr_t *)((char *)base + off) = (uintptr_t)stub;
	return len - T_STUB_TOP;
}

#endif

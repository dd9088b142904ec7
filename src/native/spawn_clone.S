/* SPDX-License-Identifier: MIT */
/*
 * The vfork-style clone of tether_spawn(): the system call, and in the child
 * a call of fn(arg) on the new stack, then exit_group() with its value.
 *
 * The child must not return from here: it runs on its own stack (the kernel
 * points %rsp at its top), and the frames above belong to the parent, which
 * is suspended (CLONE_VFORK) and resumes only once the child has exec'd or
 * exited. fn and arg travel in callee-saved registers, which the system
 * call keeps in both processes.
 *
 *   long spawn_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg);
 *   long spawn_clone(unsigned long flags, void *stack_top, int *pidfd,
 *                    int (*fn)(void *), void *arg);
 *
 * Both return the child's pid, or a negative errno (the raw system call's
 * convention: errno is not set).
 */
#if defined(__CET__)
#include <cet.h>
#endif
#ifndef _CET_ENDBR
#define _CET_ENDBR
#endif

#if defined(__x86_64__)

#define SYS_clone	56
#define SYS_exit_group	231
#define SYS_clone3	435

	.text

	.globl	spawn_clone3
	.hidden	spawn_clone3
	.type	spawn_clone3, @function
	.p2align 4
spawn_clone3:
	.cfi_startproc
	_CET_ENDBR
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	movq	%rdx, %r12		/* fn */
	movq	%rcx, %r13		/* arg */
	movl	$SYS_clone3, %eax	/* args in %rdi, size in %rsi */
	syscall
	testq	%rax, %rax
	jz	.Lchild
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	ret
	.cfi_endproc
	.size	spawn_clone3, .-spawn_clone3

	.globl	spawn_clone
	.hidden	spawn_clone
	.type	spawn_clone, @function
	.p2align 4
spawn_clone:
	.cfi_startproc
	_CET_ENDBR
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	movq	%rcx, %r12		/* fn */
	movq	%r8, %r13		/* arg */
	/* clone(flags %rdi, newsp %rsi, parent_tid %rdx (the pidfd with
	 * CLONE_PIDFD), child_tid %r10, tls %r8): the last two unused. */
	xorl	%r10d, %r10d
	xorl	%r8d, %r8d
	movl	$SYS_clone, %eax
	syscall
	testq	%rax, %rax
	jz	.Lchild
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	ret
	.cfi_endproc
	.size	spawn_clone, .-spawn_clone

	/* The child: %rsp is the top of its own (16-byte aligned) stack. */
	.type	spawn_child_start, @function
spawn_child_start:
.Lchild:
	.cfi_startproc
	.cfi_undefined rip	/* the outermost frame: unwinders stop here */
	xorl	%ebp, %ebp
	movq	%r13, %rdi
	call	*%r12
	movl	%eax, %edi
	movl	$SYS_exit_group, %eax
	syscall
	hlt
	.cfi_endproc
	.size	spawn_child_start, .-spawn_child_start

#else
#error "spawn_clone.S: port me to this architecture"
#endif

	.section .note.GNU-stack, "", @progbits

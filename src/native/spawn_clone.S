/* SPDX-License-Identifier: MIT */
/*
 * The vfork-style clone of tether_spawn(): the system call, and in the child
 * a call of fn(arg) on the new stack, then exit_group() with its value.
 *
 * The child must not return from here: it runs on its own stack (the kernel
 * points the stack pointer at its top), and the frames above belong to the
 * parent, which is suspended (CLONE_VFORK) and resumes only once the child
 * has exec'd or exited. fn and arg travel in registers that the system call
 * keeps in both processes (x86-64: callee-saved ones, saved around the call;
 * aarch64: the kernel keeps every register but x0, so scratch ones do).
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

#elif defined(__aarch64__)

#define SYS_clone	220
#define SYS_exit_group	94
#define SYS_clone3	435

/* Branch target identification: under -mbranch-protection an indirect call
 * must land on "bti c" (hint 34: a no-op on cores without BTI). */
#define BTI_C	hint	34

	.text

	.globl	spawn_clone3
	.hidden	spawn_clone3
	.type	spawn_clone3, %function
	.p2align 4
spawn_clone3:
	.cfi_startproc
	BTI_C
	mov	x10, x2			/* fn */
	mov	x11, x3			/* arg */
	mov	x8, #SYS_clone3		/* args in x0, size in x1 */
	svc	#0
	cbz	x0, .Lchild
	ret
	.cfi_endproc
	.size	spawn_clone3, .-spawn_clone3

	.globl	spawn_clone
	.hidden	spawn_clone
	.type	spawn_clone, %function
	.p2align 4
spawn_clone:
	.cfi_startproc
	BTI_C
	mov	x10, x3			/* fn */
	mov	x11, x4			/* arg */
	/* CONFIG_CLONE_BACKWARDS: clone(flags x0, newsp x1, parent_tid x2 (the
	 * pidfd with CLONE_PIDFD), tls x3, child_tid x4): the last two unused. */
	mov	x3, xzr
	mov	x4, xzr
	mov	x8, #SYS_clone
	svc	#0
	cbz	x0, .Lchild
	ret
	.cfi_endproc
	.size	spawn_clone, .-spawn_clone

	/* The child: sp is the top of its own (16-byte aligned) stack; x30
	 * still holds the parent's return address, which it must never use. */
	.type	spawn_child_start, %function
spawn_child_start:
.Lchild:
	.cfi_startproc
	.cfi_undefined x30	/* the outermost frame: unwinders stop here */
	mov	x29, xzr
	mov	x30, xzr
	mov	x0, x11
	blr	x10
	mov	x8, #SYS_exit_group	/* status already in w0 */
	svc	#0
	brk	#0
	.cfi_endproc
	.size	spawn_child_start, .-spawn_child_start

/* Say that this object is BTI- and PAC-compatible when the rest of the build
 * is: the linker drops the property for the whole library if one object
 * lacks it. */
#if defined(__ARM_FEATURE_BTI_DEFAULT) || defined(__ARM_FEATURE_PAC_DEFAULT)
	.pushsection .note.gnu.property, "a"
	.p2align 3
	.word	4			/* name size */
	.word	16			/* descriptor size */
	.word	5			/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz	"GNU"
	.word	0xc0000000		/* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
	.word	4
	.word	3			/* BTI | PAC */
	.word	0
	.popsection
#endif

#else
#error "spawn_clone.S: port me to this architecture"
#endif

	/* %progbits, not @progbits: "@" starts a comment on some targets. */
	.section .note.GNU-stack, "", %progbits

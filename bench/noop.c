/* SPDX-License-Identifier: MIT */
/*
 * The program every spawn measurement of bench.c starts. It must cost as
 * little as possible to exec, and the same for every method: on x86-64 it
 * is a static executable without a C library (no dynamic loader, no libc
 * start-up, one page of code). Without arguments it exits 0 at once; with
 * any argument it sleeps until a signal kills it (the long-lived children
 * of the autokill, memory and idle parts).
 */
#if defined(__x86_64__) && defined(BENCH_NOOP_NOSTDLIB)

__attribute__((naked)) void _start(void)
{
	__asm__ volatile(
		"cmpq $1, (%rsp)\n\t"  /* argc */
		"jbe 2f\n"
		"1:\n\t"
		"movl $34, %eax\n\t"   /* pause(), until killed */
		"syscall\n\t"
		"jmp 1b\n"
		"2:\n\t"
		"movl $231, %eax\n\t"  /* exit_group(0) */
		"xorl %edi, %edi\n\t"
		"syscall\n\t"
		"hlt\n");
}

#else

#include <unistd.h>

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		for (;;)
			pause();
	return 0;
}

#endif

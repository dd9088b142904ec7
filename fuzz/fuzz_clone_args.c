/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: arbitrary bytes as (size, struct clone_args) for the
 * checks tether_clone3() makes before anything is created: clone_args_copy()
 * (sizes, trailing bytes, the copy, set_tid, exit signal, cgroup) and, on
 * what it accepts, lifecycle_flags_validate(). Both only read memory (our own
 * through process_vm_readv(), /proc/self/stat, capget()); neither creates a
 * process, so arbitrary input is harmless.
 *
 * Input: [size: 2 bytes, little-endian][layout: 1 byte][struct bytes ...]
 *   size    the size argument, modulo 4200: every class (below 64, the three
 *           versions, up to a page, beyond a page)
 *   layout  bit 0: the struct bytes end right before an unmapped page, so
 *                  that reading past them faults; otherwise zeros follow
 *           bit 1: the struct is at an address that is not mapped at all
 *
 * Besides what AddressSanitizer and UndefinedBehaviorSanitizer catch, the
 * target checks what the functions promise whatever their order of checks:
 * only the errnos the kernel gives at that stage; sizes beyond a page E2BIG
 * and below 64 EINVAL; an accepted copy equal to the bytes given (zeros
 * beyond a short struct), with zero trailing bytes, consistent set_tid
 * fields, an exit signal that fits CSIGNAL and a valid cgroup; validation
 * that is deterministic, returns 0, EINVAL or EPERM (EPERM only for R6), and
 * accepts only what the kernel's rules allow. A broken promise aborts.
 *
 * TETHER_FUZZ_KERNEL_ORDER=1 adds two checks of the order of
 * copy_clone_args_from_user() in Linux 7.2, which clone_args_copy() follows:
 * trailing bytes are scanned in order, so a non-zero one before a fault is
 * E2BIG; and the set_tid array is read right after the other fields are
 * checked, so an unreadable one is EFAULT.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/capability.h>

#include "internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define KNOWN_FLAGS (0xffffffffULL | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP | TETHER_CLONE_FLAGS)
#define PAGE 4096
#define SIZE_MOD 4200
#define AREA (2 * PAGE) /* readable; an unmapped page follows */

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz_clone_args: broken promise: %s (line %d)\n", #cond, \
				__LINE__);                                                  \
			abort();                                                            \
		}                                                                           \
	} while (0)

static unsigned char *area, *guard;
static bool cap_sys_admin, kernel_order;

/* Whether n bytes at p can be read (without touching them ourselves). */
static bool readable_at(uint64_t p, size_t n)
{
	unsigned char buf[32 * sizeof(pid_t)];
	struct iovec local = { buf, n };
	struct iovec remote = { (void *)(uintptr_t)p, n };

	return n <= sizeof(buf) && process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	(void)argc;
	(void)argv;
	area = mmap(NULL, AREA + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED || mprotect(area + AREA, PAGE, PROT_NONE) < 0) {
		perror("fuzz_clone_args: mmap");
		abort();
	}
	guard = area + AREA;
	kernel_order = getenv("TETHER_FUZZ_KERNEL_ORDER") && strcmp(getenv("TETHER_FUZZ_KERNEL_ORDER"), "0") != 0;
	cap_sys_admin = syscall(SYS_capget, &hdr, data) == 0 &&
			(data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN));
	return 0;
}

/* What lifecycle_flags_validate() may accept: the kernel's rules (7.1). */
static void check_accepted_flags(const struct clone_args *k)
{
	uint64_t f = k->flags;

	CHECK(!(f & ~KNOWN_FLAGS));
	CHECK(!(f & (CLONE_DETACHED | (0xffULL & ~(uint64_t)CLONE_NEWTIME))));
	CHECK((f & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) != (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND));
	CHECK(!(f & (CLONE_THREAD | CLONE_PARENT)) || k->exit_signal == 0);
	CHECK((k->stack == 0) == (k->stack_size == 0));
	CHECK(k->exit_signal <= 64);
	CHECK((f & (CLONE_NEWNS | CLONE_FS)) != (CLONE_NEWNS | CLONE_FS));
	CHECK((f & (CLONE_NEWUSER | CLONE_FS)) != (CLONE_NEWUSER | CLONE_FS));
	CHECK(!(f & CLONE_THREAD) || (f & CLONE_SIGHAND));
	CHECK(!(f & CLONE_SIGHAND) || (f & CLONE_VM));
	/* R1, R2, R4, R5, R6 */
	CHECK(!(f & CLONE_AUTOREAP) || (k->exit_signal == 0 && !(f & (CLONE_THREAD | CLONE_PARENT))));
	CHECK(!(f & CLONE_NNP) || !(f & CLONE_THREAD));
	CHECK(!(f & CLONE_PIDFD_AUTOKILL) ||
	      ((f & CLONE_PIDFD) && (f & CLONE_AUTOREAP) && !(f & CLONE_THREAD)));
	CHECK(!(f & CLONE_PIDFD_AUTOKILL) || (f & CLONE_NNP) || cap_sys_admin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct clone_args k, again;
	const unsigned char *uargs;
	size_t size, n, readable;
	unsigned int layout;
	int r, v;

	if (len < 3)
		return 0;
	size = (size_t)(data[0] | data[1] << 8) % SIZE_MOD;
	layout = data[2];
	data += 3;
	len -= 3;
	n = len < AREA ? len : AREA;

	/* The struct bytes, then zeros (or the unmapped page) after them. */
	memset(area, 0, AREA);
	if (layout & 1) {
		memcpy(guard - n, data, n);
		uargs = guard - n;
		readable = n;
	} else {
		memcpy(area, data, n);
		uargs = area;
		readable = AREA;
	}
	if (layout & 2) {
		uargs = guard + 64; /* nothing mapped there */
		readable = 0;
	}

	memset(&k, 0xa5, sizeof(k));
	r = clone_args_copy((const struct clone_args *)uargs, size, &k);

	CHECK(r == 0 || r == -E2BIG || r == -EINVAL || r == -EFAULT);
	if (size > PAGE)
		CHECK(r == -E2BIG);
	else if (size < CLONE_ARGS_SIZE_VER0)
		CHECK(r == -EINVAL);
	else if (size > readable)
		CHECK(r == -EFAULT || r == -E2BIG); /* E2BIG: a non-zero trailing byte comes first */
	else {
		/* Readable struct: EFAULT only from the set_tid array it points to. */
		uint64_t set_tid = 0;
		size_t at = offsetof(struct clone_args, set_tid);
		if (size > at)
			memcpy(&set_tid, uargs + at, size - at < sizeof(set_tid) ? size - at : sizeof(set_tid));
		CHECK(r != -EFAULT || set_tid != 0);
	}
	if (kernel_order && size >= CLONE_ARGS_SIZE_VER0 && size <= PAGE && size > sizeof(k)) {
		size_t end = size < readable ? size : readable;
		bool nonzero = false;
		for (size_t i = sizeof(k); i < end && !nonzero; i++)
			nonzero = uargs[i] != 0;
		CHECK(!nonzero || r == -E2BIG);
	}
	if (kernel_order && r != -E2BIG && r != -EFAULT && size >= CLONE_ARGS_SIZE_VER1 && size <= PAGE &&
	    size <= readable) {
		struct clone_args c = { 0 };
		memcpy(&c, uargs, size < sizeof(c) ? size : sizeof(c));
		bool copy_stage_einval = c.set_tid_size > 32 || (!c.set_tid && c.set_tid_size) ||
					 (c.set_tid && !c.set_tid_size) || (c.exit_signal & ~0xffULL) ||
					 ((c.flags & CLONE_INTO_CGROUP) &&
					  (c.cgroup > INT32_MAX || size < CLONE_ARGS_SIZE_VER2));
		if (!copy_stage_einval && c.set_tid && !readable_at(c.set_tid, c.set_tid_size * sizeof(pid_t)))
			CHECK(r == -EFAULT);
	}
	if (r < 0)
		return 0;

	/* Accepted: exactly the bytes given, zero-extended, and nothing behind them. */
	CHECK(size >= CLONE_ARGS_SIZE_VER0 && size <= PAGE && size <= readable);
	{
		unsigned char expect[sizeof(k)] = { 0 };
		size_t copied = size < sizeof(k) ? size : sizeof(k);
		memcpy(expect, uargs, copied);
		CHECK(memcmp(&k, expect, sizeof(k)) == 0);
		for (size_t i = sizeof(k); i < size; i++)
			CHECK(uargs[i] == 0);
	}
	CHECK(!k.set_tid == !k.set_tid_size);
	CHECK(k.set_tid_size <= 32);
	CHECK(!(k.exit_signal & ~0xffULL));
	CHECK(!(k.flags & CLONE_INTO_CGROUP) || (k.cgroup <= INT32_MAX && size >= CLONE_ARGS_SIZE_VER2));

	v = lifecycle_flags_validate(&k);
	CHECK(v == 0 || v == -EINVAL || v == -EPERM);
	CHECK(v != -EPERM || ((k.flags & CLONE_PIDFD_AUTOKILL) && !(k.flags & CLONE_NNP) && !cap_sys_admin));
	again = k;
	CHECK(lifecycle_flags_validate(&again) == v);
	CHECK(memcmp(&again, &k, sizeof(k)) == 0);
	if (v == 0)
		check_accepted_flags(&k);
	return 0;
}

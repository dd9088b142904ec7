/* SPDX-License-Identifier: MIT */
/*
 * What the running kernel can do, found out by asking it, never by parsing a
 * version: each probe makes a call that the kernel answers differently
 * depending on whether it knows the feature, and none leaves anything behind.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/statfs.h>

#include "internal.h"
#include "raw_clone.h"
#include "syscalls.h"

/*
 * The stack of the probes' children. They share our memory and run no code
 * (clone3_exiting_child() exits straight from the system call's return), and
 * every signal is blocked while they live, so they never touch it: it only
 * keeps them off the caller's stack. One is enough, the probes run once, one
 * after the other.
 */
#define PROBE_CHILD_STACK_SIZE 256
static char probe_child_stack[PROBE_CHILD_STACK_SIZE] __attribute__((aligned(16)));

static unsigned int features_cache;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

/* clone3(NULL, 0) fails the size check (EINVAL) where clone3 exists. */
static bool probe_clone3(void)
{
	return sys_clone3(NULL, 0) < 0 && errno == EINVAL;
}

/* A closed fd gets EBADF where P_PIDFD is known, EINVAL where it is not. */
static bool probe_waitid_pidfd(void)
{
	siginfo_t si;
	return sys_waitid(P_PIDFD, INT_MAX, &si, WEXITED | WNOHANG) < 0 && errno == EBADF;
}

/*
 * A flag the kernel knows passes clone3's flag check and the call then fails
 * later, still before any task exists, on the bad cgroup fd (EBADF). Unknown
 * flags fail the flag check with EINVAL. The flags are combined so that they
 * obey the kernel's rules (R1-R6), which are checked before the cgroup.
 */
static bool probe_clone_flags(uint64_t flags)
{
	int pidfd = -1;
	struct clone_args args = {
		.flags = flags | CLONE_INTO_CGROUP,
		.pidfd = (uintptr_t)&pidfd,
		.cgroup = INT_MAX, /* a valid fd number that is never open */
		.stack = (uintptr_t)probe_child_stack,
		.stack_size = sizeof(probe_child_stack),
	};
	long pid = clone3_exiting_child(&args, sizeof(args));

	if (pid > 0) { /* cannot happen, but never leave a child behind */
		if (pidfd >= 0) {
			siginfo_t si;
			pidfd_reap(pidfd, &si);
			close(pidfd);
		}
		return true;
	}
	return errno != EINVAL && errno != ENOSYS;
}

static int pidfd_get_info(int pidfd, struct tether_pidfd_info *info, size_t size)
{
	return ioctl(pidfd, PIDFD_GET_INFO_SIZED(size), info);
}

/*
 * Exit info that survives the reap: create a child that exits at once (no
 * exit signal, shared VM so nothing is copied), reap it, then ask. A kernel
 * that knows PIDFD_INFO_COREDUMP answers it for any exited process (with an
 * empty coredump mask here), which tells that feature too.
 */
static unsigned int probe_exit_info_after_reap(void)
{
	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_PIDFD | CLONE_VM,
		.pidfd = (uintptr_t)&pidfd,
		.stack = (uintptr_t)probe_child_stack,
		.stack_size = sizeof(probe_child_stack),
	};
	struct tether_pidfd_info info = { .mask = TETHER_PIDFD_INFO_EXIT | TETHER_PIDFD_INFO_COREDUMP };
	unsigned int f = 0;
	siginfo_t si;

	if (clone3_exiting_child(&args, CLONE_ARGS_SIZE_VER0) < 0)
		return 0;
	pidfd_reap(pidfd, &si);
	if (pidfd_get_info(pidfd, &info, TETHER_PIDFD_INFO_SIZE_VER1) == 0) {
		if (info.mask & TETHER_PIDFD_INFO_EXIT)
			f |= TETHER_FEATURE_EXIT_INFO;
		if (info.mask & TETHER_PIDFD_INFO_COREDUMP)
			f |= TETHER_FEATURE_COREDUMP_INFO;
	}
	close(pidfd);
	return f;
}

static bool info_supported_at_72;

bool features_info_supported_at_72(void)
{
	features_get();
	return info_supported_at_72;
}

static unsigned int probe_pidfd_features(void)
{
	unsigned int f = 0;
	struct statfs sfs;
	struct tether_pidfd_info info = { .mask = TETHER_PIDFD_INFO_SUPPORTED_MASK };
	int pidfd = sys_pidfd_open(getpid(), 0);

	if (pidfd < 0)
		return 0;
	if (fstatfs(pidfd, &sfs) == 0 && sfs.f_type == PIDFS_MAGIC)
		f |= TETHER_FEATURE_PIDFS;
	if (pidfd_get_info(pidfd, &info, sizeof(info)) == 0) {
		f |= TETHER_FEATURE_PIDFD_GET_INFO;
		if ((info.mask & TETHER_PIDFD_INFO_SUPPORTED_MASK) && !info.supported_mask) {
			/* 6.19-7.0: an 80-byte struct with supported_mask at offset 72,
			 * where 7.1 put coredump_code. */
			memcpy(&info.supported_mask, (char *)&info + 72, sizeof(info.supported_mask));
			info_supported_at_72 = true;
		}
		if (info.mask & TETHER_PIDFD_INFO_SUPPORTED_MASK) {
			/* The kernel says what it supports: believe it. */
			if (info.supported_mask & TETHER_PIDFD_INFO_EXIT)
				f |= TETHER_FEATURE_EXIT_INFO;
			if (info.supported_mask & TETHER_PIDFD_INFO_COREDUMP)
				f |= TETHER_FEATURE_COREDUMP_INFO;
			if (info.supported_mask & TETHER_PIDFD_INFO_COREDUMP_CODE)
				f |= TETHER_FEATURE_COREDUMP_CODE;
		} else {
			/* Kernels between exit info and the supported mask. */
			f |= probe_exit_info_after_reap();
		}
	}
	close(pidfd);
	return f;
}

static void features_probe(void)
{
	uint64_t all = ~0ULL, saved_mask;
	unsigned int f = 0;
	int saved = errno;

	/* Every signal blocked while the probes' children may live: no handler
	 * of the caller's may run in a child that shares the caller's memory
	 * (raw: the C library's wrapper leaves its internal signals open). */
	raw_syscall5(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&saved_mask, sizeof(all), 0);
	if (probe_clone3()) {
		f |= TETHER_FEATURE_CLONE3;
		if (probe_clone_flags(CLONE_AUTOREAP))
			f |= TETHER_FEATURE_AUTOREAP;
		if (probe_clone_flags(CLONE_NNP))
			f |= TETHER_FEATURE_NNP;
		if (probe_clone_flags(CLONE_PIDFD_AUTOKILL | CLONE_PIDFD | CLONE_AUTOREAP | CLONE_NNP))
			f |= TETHER_FEATURE_AUTOKILL;
	}
	if (probe_waitid_pidfd())
		f |= TETHER_FEATURE_WAITID_PIDFD;
	f |= probe_pidfd_features();
	raw_syscall5(SYS_rt_sigprocmask, SIG_SETMASK, (long)&saved_mask, 0, sizeof(saved_mask), 0);
	features_cache = f;
	errno = saved;
}

unsigned int features_get(void)
{
	pthread_once(&features_once, features_probe);
	return features_cache;
}

_public_ unsigned int tether_features(void)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	return features_get();
}

static const struct {
	unsigned int bit;
	const char *name;
} feature_names[] = {
	{ TETHER_FEATURE_CLONE3, "clone3" },
	{ TETHER_FEATURE_WAITID_PIDFD, "waitid-pidfd" },
	{ TETHER_FEATURE_PIDFS, "pidfs" },
	{ TETHER_FEATURE_PIDFD_GET_INFO, "pidfd-get-info" },
	{ TETHER_FEATURE_EXIT_INFO, "exit-info" },
	{ TETHER_FEATURE_COREDUMP_INFO, "coredump-info" },
	{ TETHER_FEATURE_COREDUMP_CODE, "coredump-code" },
	{ TETHER_FEATURE_AUTOREAP, "autoreap" },
	{ TETHER_FEATURE_NNP, "nnp" },
	{ TETHER_FEATURE_AUTOKILL, "autokill" },
};

_public_ const char *tether_feature_name(unsigned int feature)
{
	PRESERVE_ERRNO;
	for (size_t i = 0; i < ELEMENTSOF(feature_names); i++)
		if (feature_names[i].bit == feature)
			return feature_names[i].name;
	return NULL;
}

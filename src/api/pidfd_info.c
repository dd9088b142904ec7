/* SPDX-License-Identifier: MIT */
/*
 * PIDFD_GET_INFO for every size version, completed for emulated children on
 * kernels that forget the exit status at the reap (or have no such ioctl).
 */
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "internal.h"
#include "syscalls.h"

/*
 * The sizes of struct pidfd_info that we know are the kernel's versions
 * (multiples of 8 from VER0 up). A larger struct, from a header newer than
 * the library, is accepted as the kernel accepts one (its extensible-struct
 * convention, copy_struct_from_user()): the fields we know are filled, the
 * rest is zero on return. What the caller put beyond what we know must be
 * zero, or the call fails with E2BIG, since we cannot honour a request that
 * we cannot read.
 */
static bool info_size_valid(size_t size)
{
	return size >= TETHER_PIDFD_INFO_SIZE_VER0 && (size > sizeof(struct tether_pidfd_info) || size % 8 == 0);
}

static bool tail_is_zero(const void *p, size_t from, size_t to)
{
	for (const unsigned char *c = (const unsigned char *)p + from; c < (const unsigned char *)p + to; c++)
		if (*c)
			return false;
	return true;
}

/* What a wait status says, in PIDFD_INFO_EXIT / PIDFD_INFO_COREDUMP terms. */
static void info_fill_from_status(struct tether_pidfd_info *info, size_t size, __u64 want, int status)
{
	info->mask |= TETHER_PIDFD_INFO_EXIT;
	info->exit_code = status;
	if ((want & TETHER_PIDFD_INFO_COREDUMP) && size >= TETHER_PIDFD_INFO_SIZE_VER1 && WIFSIGNALED(status) &&
	    WCOREDUMP(status)) {
		/* The wait status knows that a core was dumped and the signal; it
		 * does not know the signal's si_code, so COREDUMP_CODE stays unset.
		 * Without a dump it says nothing about one: nothing is claimed. */
		info->mask |= TETHER_PIDFD_INFO_COREDUMP | TETHER_PIDFD_INFO_COREDUMP_SIGNAL;
		info->coredump_mask = TETHER_PIDFD_COREDUMPED;
		info->coredump_signal = (__u32)WTERMSIG(status);
	}
}

/* The mask bits whose fields lie (partly) beyond size bytes. */
static __u64 info_bits_beyond(size_t size)
{
	__u64 m = 0;

	if (size < TETHER_PIDFD_INFO_SIZE_VER1)
		m |= TETHER_PIDFD_INFO_COREDUMP | TETHER_PIDFD_INFO_COREDUMP_SIGNAL;
	if (size < TETHER_PIDFD_INFO_SIZE_VER2)
		m |= TETHER_PIDFD_INFO_COREDUMP_CODE;
	if (size < TETHER_PIDFD_INFO_SIZE_VER3)
		m |= TETHER_PIDFD_INFO_SUPPORTED_MASK;
	return m;
}

/* The ioctl, in our (7.1) layout also on 6.19-7.0 kernels. */
static int kernel_get_info(int pidfd, struct tether_pidfd_info *info, size_t size)
{
	struct tether_pidfd_info k;
	__u64 supported;

	if (!feature_has(TETHER_FEATURE_PIDFD_GET_INFO)) {
		errno = ENOTTY; /* one answer for "no such ioctl", whatever the kernel says */
		return -1;
	}
	if (size < TETHER_PIDFD_INFO_SIZE_VER2 || !features_info_supported_at_72())
		return ioctl(pidfd, PIDFD_GET_INFO_SIZED(size), info);
	memset(&k, 0, sizeof(k));
	k.mask = info->mask;
	if (ioctl(pidfd, PIDFD_GET_INFO_SIZED(TETHER_PIDFD_INFO_SIZE_VER2), &k) < 0)
		return -1;
	memcpy(&supported, (char *)&k + 72, sizeof(supported));
	k.coredump_code = 0;
	k.coredump_pad = 0;
	k.supported_mask = supported;
	memcpy(info, &k, size);
	return 0;
}

/*
 * The kernel wakes pidfd pollers before it records the exit (the record is
 * made when the task is released, a few instructions later): a caller woken
 * by POLLIN can ask in between and find no PIDFD_INFO_EXIT. For a pidfd that
 * polls readable the exit is certain and, unless it is a zombie waiting for
 * its parent, imminent: wait for it by yielding (bounded: the window is the
 * rest of the exiting task's release). A zombie of someone else's that is
 * never reaped ends the wait at the bound.
 *
 * The bound is time, not a count of yields: the exiting task may be on
 * another CPU that is not running at all for a while (a preempted vCPU; seen
 * on 7.3 under QEMU with two vCPUs, where 1000 yields passed within its
 * release). Yield first, then sleep a millisecond at a time, ~250 ms in all.
 */
#define EXITED_YIELDS 1000 /* the usual case: the release is a few instructions away */
#define EXITED_SLEEPS 250  /* 1 ms each: the exiting task's CPU is not running */

static int kernel_get_info_exited(int pidfd, struct tether_pidfd_info *info, size_t size, __u64 want)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	siginfo_t si = { 0 };

	/* A zombie of the caller's, waiting for the caller to reap it, has no
	 * exit record yet and will not get one by waiting: answer at once. */
	if (sys_waitid(P_PIDFD, pidfd, &si, WEXITED | WNOWAIT | WNOHANG | __WALL) == 0 && si.si_pid != 0)
		return kernel_get_info(pidfd, info, size) == 0 ? 0 : negative_errno();
	for (int tries = 0;; tries++) {
		int r = kernel_get_info(pidfd, info, size) == 0 ? 0 : negative_errno();
		bool settled = r == 0 ? (info->mask & TETHER_PIDFD_INFO_EXIT) : r != -ESRCH;

		/* ESRCH: released, record not stored yet; success without EXIT:
		 * woken, not yet released. Both only while the pidfd is readable. */
		if (settled || !(want & TETHER_PIDFD_INFO_EXIT) || !feature_has(TETHER_FEATURE_EXIT_INFO) ||
		    tries == EXITED_YIELDS + EXITED_SLEEPS || poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
			return r;
		if (tries < EXITED_YIELDS)
			sched_yield();
		else
			nanosleep(&(const struct timespec){ .tv_nsec = 1000000 }, NULL);
		info->mask = want;
	}
}

static int get_info(int pidfd, struct tether_pidfd_info *info, size_t size);

_public_ int tether_pidfd_get_info(int pidfd, struct tether_pidfd_info *info, size_t size)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	int r;

	if (!info || !info_size_valid(size))
		return -EINVAL;
	if (size > sizeof(*info)) {
		if (!tail_is_zero(info, sizeof(*info), size))
			return -E2BIG;
		size = sizeof(*info); /* the tail stays zero */
	}
	r = get_info(pidfd, info, size);
	if (r == 0)
		info->mask &= ~info_bits_beyond(size);
	return r;
}

static int get_info(int pidfd, struct tether_pidfd_info *info, size_t size)
{
	__u64 want = info->mask;
	int status, r;
	bool ok;

	ok = kernel_get_info(pidfd, info, size) == 0;
	if (ok && (!(want & TETHER_PIDFD_INFO_EXIT) || (info->mask & TETHER_PIDFD_INFO_EXIT)))
		return 0;
	r = ok ? 0 : negative_errno();
	if (!(want & TETHER_PIDFD_INFO_EXIT))
		return r;
	/* Exit wanted, not given: the child lives, or it is an emulated child
	 * that exited (reaped now if need be) and the record knows. */
	r = registry_exit_status(pidfd, &status);
	if (r == -ECHILD)
		return r; /* a spawned program's status, lost with its killed monitor */
	if (r >= 0) {
		if (feature_has(TETHER_FEATURE_EXIT_INFO)) {
			/* Reaped: the kernel's record is complete, coredump and all
			 * (the reap stores it before waitid() returns). */
			info->mask = want;
			if ((r == 1 ? (kernel_get_info(pidfd, info, size) < 0 ? negative_errno() : 0)
				    : kernel_get_info_exited(pidfd, info, size, want)) == 0 &&
			    (info->mask & TETHER_PIDFD_INFO_EXIT))
				return 0;
			ok = false;
		}
		if (!ok)
			memset(info, 0, size);
		info_fill_from_status(info, size, want, status);
		return 0;
	}
	/* No record: not an emulated child, or one whose record went. The
	 * kernel answers, once past the window around the exit. */
	info->mask = want;
	return kernel_get_info_exited(pidfd, info, size, want);
}

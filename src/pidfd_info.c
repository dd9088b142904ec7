/* SPDX-License-Identifier: MIT */
/*
 * PIDFD_GET_INFO for every size version, completed for emulated children on
 * kernels that forget the exit status at the reap (or have no such ioctl).
 */
#include <string.h>
#include <sys/wait.h>

#include "internal.h"

static bool info_size_valid(size_t size)
{
	return size >= TETHER_PIDFD_INFO_SIZE_VER0 && size <= sizeof(struct tether_pidfd_info) &&
	       size % 8 == 0;
}

/* What a wait status says, in PIDFD_INFO_EXIT / PIDFD_INFO_COREDUMP terms. */
static void info_fill_from_status(struct tether_pidfd_info *info, size_t size, __u64 want, int status)
{
	info->mask |= TETHER_PIDFD_INFO_EXIT;
	info->exit_code = status;
	if ((want & TETHER_PIDFD_INFO_COREDUMP) && size >= TETHER_PIDFD_INFO_SIZE_VER1) {
		/* The wait status knows whether a core was dumped and the signal;
		 * it does not know the signal's si_code, so COREDUMP_CODE stays unset. */
		info->mask |= TETHER_PIDFD_INFO_COREDUMP | TETHER_PIDFD_INFO_COREDUMP_SIGNAL;
		info->coredump_mask = WIFSIGNALED(status) && WCOREDUMP(status) ? TETHER_PIDFD_COREDUMPED : 0;
		info->coredump_signal = WIFSIGNALED(status) && WCOREDUMP(status) ? (__u32)WTERMSIG(status) : 0;
	}
}

_public_ int tether_pidfd_get_info(int pidfd, struct tether_pidfd_info *info, size_t size)
{
	__u64 want;
	int status, r;

	if (!info || !info_size_valid(size))
		return -EINVAL;
	want = info->mask;
	if (ioctl(pidfd, PIDFD_GET_INFO_SIZED(size), info) == 0) {
		if (!(want & TETHER_PIDFD_INFO_EXIT) || (info->mask & TETHER_PIDFD_INFO_EXIT))
			return 0;
		/* Alive, exited but not yet reaped by us, or reaped by a kernel that
		 * forgot: only our record can tell. */
		if (registry_exit_status(pidfd, &status) == 0) {
			info_fill_from_status(info, size, want, status);
			return 0;
		}
		/* No record: our reaper may have reaped it (and dropped the record,
		 * the kernel keeping the status) since the first ask. Ask again. */
		info->mask = want;
		return ioctl(pidfd, PIDFD_GET_INFO_SIZED(size), info) == 0 ? 0 : negative_errno();
	}
	r = negative_errno();
	/* No PIDFD_GET_INFO (before 6.13), or a reaped process on a kernel that
	 * then fails with ESRCH: an emulated child's record still knows. */
	if (!(want & TETHER_PIDFD_INFO_EXIT) || registry_exit_status(pidfd, &status) < 0)
		return r;
	memset(info, 0, size);
	info_fill_from_status(info, size, want, status);
	return 0;
}

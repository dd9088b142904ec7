/* SPDX-License-Identifier: MIT */
/*
 * Core dump pipe helper of the test suite, for
 *   core_pattern = |/path/h_coredump_pipe DIR %p %F
 * The kernel runs it (as root, a child of kthreadd, with no fds but the
 * ones it installs) when a process dumps core: stdin is the core, and with
 * %F (6.16+) fd 3 is a pidfd of the crashing process, on which the kernel
 * has recorded the dump (fs/coredump.c, umh_coredump_setup() calls
 * pidfs_coredump() before it installs the fd). Kernels without %F expand it
 * to nothing, so the helper sees no fourth argument.
 *
 * It reads the core to its end (only then does the kernel count the dump as
 * done, and the wait status carry WCOREDUMP), asks the pidfd what the kernel
 * recorded, and writes one line to DIR/pipe-<pid>:
 *   pidfd=<0|1> ioctl=<0|-errno> mask=<hex> coredump_mask=<hex>
 *   coredump_signal=<n> coredump_code=<n> bytes=<n>
 * written to a temporary name and renamed, so a reader never sees half.
 * Statically linked and self-contained: it runs in the test VM, where there
 * are no libraries.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "tether.h"

/* PIDFD_GET_INFO with the size of our struct (the kernel copies what both know). */
#define H_PIDFD_GET_INFO _IOWR(0xFF, 11, struct tether_pidfd_info)
/* The fd the kernel installs for %F (COREDUMP_PIDFD_NUMBER). */
#define H_COREDUMP_PIDFD 3

int main(int argc, char **argv)
{
	struct tether_pidfd_info info;
	char path[512], tmp[540], buf[65536];
	unsigned long long bytes = 0;
	int have_pidfd, r = 0, fd;
	ssize_t n;

	if (argc < 3)
		return 2;
	/* A crash of the helper itself must not recurse into another dump. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	have_pidfd = argc > 3 && strcmp(argv[3], "3") == 0 && fcntl(H_COREDUMP_PIDFD, F_GETFD) >= 0;

	memset(&info, 0, sizeof(info));
	if (have_pidfd) {
		/* Ask before draining: the kernel recorded the dump before it
		 * started the helper, and the process still exists. */
		info.mask = TETHER_PIDFD_INFO_EXIT | TETHER_PIDFD_INFO_COREDUMP;
		if (ioctl(H_COREDUMP_PIDFD, H_PIDFD_GET_INFO, &info) < 0) {
			r = -errno;
			memset(&info, 0, sizeof(info));
		}
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		bytes += (unsigned long long)n;
	}

	snprintf(path, sizeof(path), "%s/pipe-%s", argv[1], argv[2]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	dprintf(fd, "pidfd=%d ioctl=%d mask=%#llx coredump_mask=%#x coredump_signal=%u coredump_code=%d bytes=%llu\n",
		have_pidfd, r, (unsigned long long)info.mask, info.coredump_mask, info.coredump_signal,
		(int)info.coredump_code, bytes);
	close(fd);
	return rename(tmp, path) == 0 ? 0 : 1;
}

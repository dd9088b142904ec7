/* SPDX-License-Identifier: MIT */
/*
 * Core dump socket server of the test suite, for core_pattern = @SOCKET
 * (Linux 6.16+, fs/coredump.c, coredump_sock_connect()):
 *   h_coredump_socket SOCKET DIR
 * It listens on the AF_UNIX stream socket SOCKET, writes "ready\n" to
 * stdout, and serves one connection at a time until its stdin reaches EOF
 * (the test closes its end: no signal is needed to stop it). For a dump,
 * the kernel connects as the crashing process (the peer credentials are
 * its, so SO_PEERPIDFD is a pidfd of it, on which the kernel has already
 * recorded the dump: pidfs_coredump() precedes the connect) and writes the
 * core until it shuts the connection down. In this plain "@" form there is
 * no request or acknowledgement ("@@" is the protocol with them).
 *
 * For each connection one line goes to DIR/socket-<pid>, in the format of
 * h_coredump_pipe.c (pidfd=, ioctl=, mask=, coredump_mask=,
 * coredump_signal=, coredump_code=, bytes=), through a rename.
 * Statically linked and self-contained, for the test VM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tether.h"

#define H_PIDFD_GET_INFO _IOWR(0xFF, 11, struct tether_pidfd_info)
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static void serve(int conn, const char *dir)
{
	struct tether_pidfd_info info;
	char path[512], tmp[540], buf[65536];
	unsigned long long bytes = 0;
	socklen_t len = sizeof(int);
	int pidfd = -1, r = 0, fd;
	ssize_t n;

	memset(&info, 0, sizeof(info));
	if (getsockopt(conn, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
		r = -errno;
		pidfd = -1;
	} else {
		info.mask = TETHER_PIDFD_INFO_PID | TETHER_PIDFD_INFO_EXIT | TETHER_PIDFD_INFO_COREDUMP;
		if (ioctl(pidfd, H_PIDFD_GET_INFO, &info) < 0) {
			r = -errno;
			memset(&info, 0, sizeof(info));
		}
	}
	while ((n = read(conn, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		bytes += (unsigned long long)n;
	}
	snprintf(path, sizeof(path), "%s/socket-%u", dir, info.pid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dprintf(fd,
			"pidfd=%d ioctl=%d mask=%#llx coredump_mask=%#x coredump_signal=%u coredump_code=%d bytes=%llu\n",
			pidfd >= 0, r, (unsigned long long)info.mask, info.coredump_mask, info.coredump_signal,
			(int)info.coredump_code, bytes);
		close(fd);
		rename(tmp, path);
	}
	if (pidfd >= 0)
		close(pidfd);
	close(conn);
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t alen;
	int lfd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(addr.sun_path))
		return 2;
	/* The server must never be a client of itself (the kernel's advice). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	strcpy(addr.sun_path, argv[1]);
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(argv[1]) + 1);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, alen) < 0 || listen(lfd, 64) < 0) {
		fprintf(stderr, "h_coredump_socket: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (write(STDOUT_FILENO, "ready\n", 6) != 6)
		return 1;
	for (;;) {
		struct pollfd p[2] = { { lfd, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & POLLIN) {
			int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (conn >= 0)
				serve(conn, argv[2]);
			continue;
		}
		if (p[1].revents) /* EOF (or anything) on stdin: the test is done */
			break;
	}
	close(lfd);
	unlink(argv[1]);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * tether-monitor: what a monitor becomes once its creator's program image
 * is gone (the creator exited or exec'd), so that it no longer holds the
 * creator's memory. Embedded in libtether and exec'd from a memfd by the
 * monitor itself (monitor_body.c), with the descriptors it watched:
 *
 *   tether-monitor PIDFD HANDLE_RD AUTOKILL
 *
 * PIDFD is the program's pidfd, HANDLE_RD the autokill handle's read end
 * (-1: none), AUTOKILL 1 if the handle's hang-up kills the program. Every
 * signal stays blocked (the mask survives exec) and an ignored SIGCHLD stays
 * ignored, so the kernel goes on reaping the program at its exit. It ends
 * when the program has.
 */
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "monitor.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < -1 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

_Noreturn void monitor_program_loop(int pidfd, int handle_rd, unsigned int flags)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = handle_rd, .events = 0 },
		};

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents)
			_exit(0);
		if (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			if (flags & MONITOR_AUTOKILL)
				syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			close(handle_rd);
			handle_rd = -1;
		}
	}
}

int main(int argc, char **argv)
{
	int pidfd, handle_rd, autokill;

	prctl(PR_SET_NAME, "tether-monitor", 0, 0, 0); /* exec named it after the memfd */
	if (argc != 4 || parse_int(argv[1], &pidfd) < 0 || pidfd < 0 || parse_int(argv[2], &handle_rd) < 0 ||
	    parse_int(argv[3], &autokill) < 0)
		return 2;
	monitor_program_loop(pidfd, handle_rd, autokill ? MONITOR_AUTOKILL : 0);
}

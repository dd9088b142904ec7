/* SPDX-License-Identifier: MIT */
/*
 * tether_child_event(): a child's stops and continues, as its parent learns
 * them. Natively (and for any child whose parent is the caller) the kernel
 * tells the parent: waitid(P_PIDFD, WSTOPPED | WCONTINUED | WNOHANG). An
 * emulated CLONE_AUTOREAP program's parent is its monitor, which takes the
 * same reports and leaves the latest in the page it shares with the caller
 * (monitor_body.c), with a SIGCHLD to the caller as the wake-up.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "monitor.h"
#include "internal.h"
#include "syscalls.h"


static int event_native(int pidfd, struct tether_child_event *ev)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (sys_waitid(P_PIDFD, pidfd, &si, WSTOPPED | WCONTINUED | WNOHANG | __WALL) == 0)
			break;
		if (errno == EINTR)
			continue;
		/* ECHILD: reaped (an autoreap child that ended), or not ours. */
		if (errno == ECHILD && pidfd_exited(pidfd, 0))
			return -EAGAIN;
		return negative_errno();
	}
	if (si.si_pid == 0)
		return -EAGAIN;
	if (si.si_code == CLD_STOPPED)
		ev->type = TETHER_CHILD_STOPPED;
	else if (si.si_code == CLD_CONTINUED)
		ev->type = TETHER_CHILD_CONTINUED;
	else
		return -EAGAIN; /* a ptrace stop (CLD_TRAPPED) is the tracer's, not job control */
	ev->signal = si.si_status;
	return 0;
}

_public_ int tether_child_event(struct tether_child *child, struct tether_child_event *event, size_t size)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	struct tether_child_event ev = { 0 };
	uint32_t raw;
	int pidfd, r;

	if (!child || !event || size < TETHER_CHILD_EVENT_SIZE_VER0)
		return -EINVAL;
	pidfd = child_pidfd(child);
	if (pidfd < 0)
		return pidfd; /* its number holds another file by now */
	r = registry_child_event(pidfd, &raw);
	if (r == 0) {
		/* The monitor is the program's parent: its report, if any. A
		 * stop of a program that has ended since is no longer one, as
		 * the kernel's wait reports end with the process. */
		if (!raw || pidfd_exited(pidfd, 0))
			return -EAGAIN;
		ev.type = MONITOR_EVENT_KIND(raw) == MONITOR_EVENT_STOPPED ? TETHER_CHILD_STOPPED
									  : TETHER_CHILD_CONTINUED;
		ev.signal = MONITOR_EVENT_SIGNAL(raw);
	} else {
		/* We are the parent (native, or no monitor): ask the kernel. */
		r = event_native(pidfd, &ev);
		if (r < 0)
			return r;
	}
	/* What both sides know; a larger struct's tail is zeroed. */
	memcpy(event, &ev, size < sizeof(ev) ? size : sizeof(ev));
	if (size > sizeof(ev))
		memset((char *)event + sizeof(ev), 0, size - sizeof(ev));
	return 0;
}

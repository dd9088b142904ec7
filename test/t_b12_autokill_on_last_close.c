/* SPDX-License-Identifier: MIT */
/*
 * B12: when the last reference to the clone3 pidfd's file goes, the child is
 * SIGKILLed: on its last close, and on the exit or crash of the process that
 * holds it.
 */
#include "harness.h"

static int pid_pipe[2];

/* A creator that makes an autokill child, reports its pid, then ends as told. */
static int creator(void *arg)
{
	int how = (int)(intptr_t)arg, pidfd, watch;
	pid_t pid = t_autokill_sleeper(0, &pidfd, &watch);
	(void)!write(pid_pipe[1], &pid, sizeof(pid));
	if (how == 1)
		raise(SIGKILL);
	if (how == 2)
		*(volatile int *)0 = 0; /* crash */
	return 0;                       /* plain exit */
}

int main(void)
{
	static const char *const ends[] = { "exit", "SIGKILL", "SIGSEGV" };
	int pidfd, watch;

	t_require_flags(T_AUTOKILL_FLAGS);
	pid_t pid = t_autokill_sleeper(0, &pidfd, &watch);
	T_ASSERT(t_stays_alive(watch, 50), "child died before its pidfd was closed");
	T_ASSERT(tether_pidfd_close(pidfd) == 0, "tether_pidfd_close");
	T_ASSERT(t_dies(watch, 10000), "child %d survived the last close of its pidfd", pid);
	close(watch);
	t_info("last close: child killed");

	for (int how = 0; how < 3; how++) {
		T_ASSERT(pipe2(pid_pipe, O_CLOEXEC) == 0, "pipe");
		int status = t_in_subprocess(creator, (void *)(intptr_t)how);
		close(pid_pipe[1]);
		T_ASSERT(read(pid_pipe[0], &pid, sizeof(pid)) == sizeof(pid), "creator did not report");
		close(pid_pipe[0]);
		watch = t_pidfd_open(pid);
		T_ASSERT(watch >= 0 || errno == ESRCH, "pidfd_open: %s", strerror(errno));
		if (watch >= 0) {
			T_ASSERT(t_dies(watch, 10000), "child %d survived its creator's %s", pid, ends[how]);
			close(watch);
		}
		t_info("creator ended by %s (status %#x): child killed", ends[how], status);
	}
	t_pass("autokill fires on last close, creator exit, SIGKILL and crash (%s backend)",
	       t_backend_word(T_AUTOKILL_FLAGS));
}

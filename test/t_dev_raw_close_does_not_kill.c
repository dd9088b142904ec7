/* SPDX-License-Identifier: MIT */
/*
 * Deviation "raw close": userspace cannot see a close() of a pidfd, so in
 * emulation a plain close() of an autokill child's pidfd does not kill it.
 * What emulation does instead: the library's own reference to the autokill
 * file stays until tether_pidfd_close() or until the process exits or
 * execs, and then the child is killed.
 */
#include "harness.h"

static int pid_pipe[2];

static int creator(void *arg)
{
	int pidfd, watch;
	(void)arg;
	pid_t pid = t_autokill_sleeper(0, &pidfd, &watch);
	close(pidfd); /* a raw close: invisible to the emulation */
	int alive = t_stays_alive(watch, T_SETTLE_MS);
	(void)!write(pid_pipe[1], &pid, sizeof(pid));
	return alive ? 0 : 1; /* the creator exits: its last reference goes */
}

int main(void)
{
	pid_t pid;

	t_require_flags(T_AUTOKILL_FLAGS);
	t_require_emulation(T_AUTOKILL_FLAGS);
	T_ASSERT(pipe2(pid_pipe, O_CLOEXEC) == 0, "pipe");
	int status = t_in_subprocess(creator, NULL);
	T_ASSERT(read(pid_pipe[0], &pid, sizeof(pid)) == sizeof(pid), "no pid");
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a raw close() killed the child after all");
	t_info("raw close(): the child lived on");
	int watch = t_pidfd_open(pid);
	if (watch >= 0) {
		T_ASSERT(t_dies(watch, 10000), "the creator's exit did not kill the child");
		close(watch);
	}
	t_pass("raw close() does not kill; the creator's exit does");
}

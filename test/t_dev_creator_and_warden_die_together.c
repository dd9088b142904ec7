/* SPDX-License-Identifier: MIT */
/*
 * Deviation "creator and warden die together": when the warden dies, the
 * creator's reaper kills the autokill children; if the creator cannot act
 * (here: stopped, then killed) at the moment the warden dies, nobody is left
 * to kill them and they survive. This pins that outcome, then cleans up.
 */
#include "harness.h"

static int pipes[2];

static _Noreturn void creator(void)
{
	int pidfd, watch;
	pid_t pid = t_autokill_sleeper(0, &pidfd, &watch);
	pid_t warden = t_find_warden();
	(void)!write(pipes[1], &pid, sizeof(pid));
	(void)!write(pipes[1], &warden, sizeof(warden));
	for (;;)
		pause();
}

int main(void)
{
	pid_t child, warden, creator_pid;
	int status;

	t_require_flags(T_AUTOKILL_FLAGS);
	t_require_emulation(T_AUTOKILL_FLAGS);
	T_ASSERT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper"); /* orphans come to us */
	T_ASSERT(pipe2(pipes, O_CLOEXEC) == 0, "pipe");
	creator_pid = fork();
	if (creator_pid == 0)
		creator();
	close(pipes[1]);
	T_ASSERT(read(pipes[0], &child, sizeof(child)) == sizeof(child), "no child pid");
	T_ASSERT(read(pipes[0], &warden, sizeof(warden)) == sizeof(warden) && warden > 0, "no warden");
	int watch = t_pidfd_open(child);
	T_ASSERT(kill(creator_pid, SIGSTOP) == 0, "stop creator");
	T_ASSERT(waitpid(creator_pid, &status, WUNTRACED) == creator_pid && WIFSTOPPED(status), "creator not stopped");
	T_ASSERT(kill(warden, SIGKILL) == 0, "kill warden");
	T_ASSERT(kill(creator_pid, SIGKILL) == 0, "kill creator");
	T_ASSERT(waitpid(creator_pid, &status, 0) == creator_pid, "reap creator");
	bool survived = t_stays_alive(watch, T_SETTLE_MS);
	kill(child, SIGKILL);
	while (waitpid(-1, &status, __WALL) > 0)
		;
	T_ASSERT(survived, "the child died after all: update the deviation table");
	t_pass("creator and warden killed together: the autokill child survived (documented deviation)");
}

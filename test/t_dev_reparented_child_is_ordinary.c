/* SPDX-License-Identifier: MIT */
/*
 * Deviation "reparented child" (B5): the kernel resets the exit signal to
 * SIGCHLD when it reparents a process, and only the parent's thread group can
 * reap, so an emulated autoreap child whose parent died becomes an ordinary
 * child of the subreaper or init: SIGCHLD, a zombie, a status to wait for.
 */
#include "harness.h"

struct shared {
	struct t_gate gate;
	int pid_pipe[2];
};

static int middle(void *arg)
{
	struct shared *s = arg;
	pid_t pid = t_clone(CLONE_AUTOREAP, 0, NULL);
	if (pid == 0) {
		t_gate_wait(&s->gate);
		_exit(5);
	}
	if (pid < 0)
		return 1;
	(void)!write(s->pid_pipe[1], &pid, sizeof(pid));
	return 0;
}

int main(void)
{
	struct shared s;
	pid_t child;
	int status;

	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	T_ASSERT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER");
	t_gate_open(&s.gate);
	T_ASSERT(pipe(s.pid_pipe) == 0, "pipe");
	T_ASSERT(t_in_subprocess(middle, &s) == 0, "middle process failed");
	T_ASSERT(read(s.pid_pipe[0], &child, sizeof(child)) == sizeof(child), "no pid");
	close(s.gate.rd);
	t_count_sigchld();
	t_gate_release(&s.gate);
	T_ASSERT(waitpid(child, &status, 0) == child, "the subreaper cannot wait for it: %s", strerror(errno));
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 5, "status %#x", status);
	T_ASSERT(t_sigchld_count >= 1, "no SIGCHLD");
	t_pass("reparented emulated child: the subreaper got SIGCHLD and reaped it (exit 5)");
}

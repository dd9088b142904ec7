/* SPDX-License-Identifier: MIT */
/*
 * B5: the flag lives on the child: after its parent dies it is still reaped
 * at once when it exits under a subreaper, which sees neither a zombie nor a
 * signal. Emulation cannot do this (deviation "reparented child"); there the
 * test skips and t_dev_reparented_child_is_ordinary pins what happens instead.
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
	return 0; /* the middle process dies: the child is reparented to us */
}

int main(void)
{
	struct shared s;
	pid_t child;
	int status;

	t_require_flags(CLONE_AUTOREAP);
	if (t_emulated(CLONE_AUTOREAP))
		t_skip("deviation: an emulated child reparented to a subreaper becomes an ordinary child "
		       "(pinned by t_dev_reparented_child_is_ordinary)");
	T_ASSERT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER");
	t_gate_open(&s.gate);
	T_ASSERT(pipe(s.pid_pipe) == 0, "pipe");
	T_ASSERT(t_in_subprocess(middle, &s) == 0, "middle process failed");
	T_ASSERT(read(s.pid_pipe[0], &child, sizeof(child)) == sizeof(child), "no pid");
	close(s.gate.rd);
	t_count_sigchld();
	T_ASSERT(getpid() == (pid_t)t_status_field(child, "PPid"), "child was not reparented to us");
	t_gate_release(&s.gate);
	T_ASSERT(t_wait_pid_reaped(child, 10000), "reparented child left a zombie (state %c)", t_proc_state(child));
	T_ASSERT(waitpid(child, &status, WNOHANG | __WALL) < 0 && errno == ECHILD, "subreaper can wait for it");
	T_ASSERT(t_sigchld_count == 0, "subreaper got SIGCHLD");
	t_pass("reparented autoreap child reaped itself; subreaper saw nothing");
}

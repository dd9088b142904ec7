/* SPDX-License-Identifier: MIT */
/* B8: under ptrace the tracer still sees the exit; the child is released when the tracer is done. */
#include <sys/ptrace.h>

#include "harness.h"

struct ctx {
	pid_t child;
	int ready[2];
};

static int tracer(void *arg)
{
	struct ctx *c = arg;
	int status;
	if (ptrace(PTRACE_SEIZE, c->child, 0, 0) < 0)
		return 10;
	(void)!write(c->ready[1], "s", 1);
	/* The exit, as a tracer sees it. */
	if (waitpid(c->child, &status, __WALL) != c->child)
		return 11;
	return WIFEXITED(status) && WEXITSTATUS(status) == 21 ? 0 : 12;
}

int main(void)
{
	struct ctx c;
	struct t_gate g;
	int pidfd = -1;
	char x;

	t_require_flags(CLONE_AUTOREAP);
	t_gate_open(&g);
	c.child = t_clone_gated(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd, &g, 21);
	T_ASSERT(c.child > 0, "tether_clone3: %s", strerror(errno));
	close(g.rd);
	T_ASSERT(pipe(c.ready) == 0, "pipe"); /* after the child, which must not hold it */
	pid_t tr = fork();
	if (tr == 0) {
		t_gate_release(&g); /* only the test may let the child go */
		_exit(tracer(&c));
	}
	close(c.ready[1]);
	if (read(c.ready[0], &x, 1) != 1) {
		int status;
		waitpid(tr, &status, 0);
		t_gate_release(&g);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 10)
			t_skip("ptrace is not permitted here");
		t_fail("tracer failed early");
	}
	t_gate_release(&g);
	int status;
	T_ASSERT(waitpid(tr, &status, 0) == tr, "waitpid tracer");
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tracer did not see the exit (code %d)",
		 WEXITSTATUS(status));
	T_ASSERT(t_wait_pid_reaped(c.child, 10000), "child not released after the tracer was done");
	T_ASSERT(waitpid(c.child, &status, WNOHANG | __WALL) < 0 && errno == ECHILD, "parent can still wait");
	tether_pidfd_close(pidfd);
	t_pass("tracer saw exit 21, child released afterwards (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

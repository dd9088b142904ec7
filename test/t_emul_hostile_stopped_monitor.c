/* SPDX-License-Identifier: MIT */
/*
 * Someone SIGSTOPs every process of the service but the application (a
 * debugger, a job-control stop gone wrong, a freezer left on): the
 * emulation's helpers are stopped while the application releases an
 * autokill handle. The kernel kills the child at the last close whatever
 * state anything is in; the emulation must not let the child outlive its
 * handle because the helper that would kill it cannot run.
 *
 * The releasing caller kills the child itself when its close was the last
 * writer of the handle (the pipe's read end, which it keeps, tells), so a
 * stopped monitor delays nothing.
 */
#include "hostile_common.h"

int main(int argc, char **argv)
{
	struct tether_child *c;
	pid_t d[64], prog;
	int nd, watch, nstopped = 0;
	bool died;

	hc_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	T_ASSERT(hc_spawn(&c, HC_AUTOKILL_SPAWN, "sleep", NULL) == 0, "spawn");
	prog = tether_child_pid(c);
	watch = t_pidfd_open(prog);
	hc_track(prog);
	nd = hc_descendants(getpid(), d, 64);
	for (int i = 0; i < nd; i++)
		if (d[i] != prog && t_kill(d[i], SIGSTOP) == 0)
			nstopped++;
	usleep(100000);
	tether_child_release(c);
	died = t_dies(watch, 10000);
	for (int i = 0; i < nd; i++)
		if (d[i] != prog)
			t_kill(d[i], SIGCONT);
	T_ASSERT(died, "the autokill child outlived its released handle while %d helper(s) of the library were stopped",
		 nstopped);
	t_pass("autokill child died at release with %d helper(s) stopped (%s backend)", nstopped,
	       t_backend_word(T_AUTOKILL_FLAGS));
}

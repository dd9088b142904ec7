/* SPDX-License-Identifier: MIT */
/*
 * B3: with CLONE_PIDFD the pidfd polls readable on exit and PIDFD_GET_INFO
 * gives the exit code in wait-status form, also after the reap.
 */
#include "harness.h"

static void check(int how, int expect_status, const char *what)
{
	int pidfd = -1;
	struct t_gate g;

	t_gate_open(&g);
	pid_t pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
	if (pid == 0) {
		t_gate_wait(&g);
		if (how == 0)
			_exit(42);
		raise(SIGTERM);
		_exit(1);
	}
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(g.rd);
	T_ASSERT(!t_pidfd_wait_readable(pidfd, 0), "%s: pidfd readable before exit", what);
	t_gate_release(&g);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "%s: pidfd never polled readable", what);
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "%s: not reaped", what);
	int st = t_pidfd_exit_status(pidfd);
	if (st == -ENOTTY || st == -ENODATA) {
		if (!t_emulated(CLONE_AUTOREAP))
			t_skip("kernel keeps no exit info on the pidfd (%s)", strerror(-st));
		t_fail("%s: emulation returned no exit info: %s", what, strerror(-st));
	}
	T_ASSERT(st >= 0, "%s: tether_pidfd_get_info: %s", what, strerror(-st));
	T_ASSERT(st == expect_status, "%s: exit_code %#x, expected %#x", what, st, expect_status);
	if (how == 0)
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 42, "%s: not WIFEXITED 42", what);
	else
		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "%s: not WIFSIGNALED SIGTERM", what);
	t_info("%s: pidfd readable, exit_code %#x after the reap", what, st);
	tether_pidfd_close(pidfd);
}

int main(void)
{
	t_require_flags(CLONE_AUTOREAP);
	check(0, 42 << 8, "_exit(42)");
	check(1, SIGTERM, "SIGTERM");
	t_pass("exit info after reap (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

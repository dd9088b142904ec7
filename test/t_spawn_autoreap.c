/* SPDX-License-Identifier: MIT */
/*
 * CLONE_AUTOREAP through tether_spawn(): the child never stays a zombie,
 * waitpid() sees nothing, and the handle still reports the exit code or
 * signal (from the pidfd). Natively no SIGCHLD arrives; emulated, exec
 * resets the exit signal (the README's "exec" deviation), so it does. A
 * released autoreap child goes on and is reaped when it ends.
 */
#include "spawn_common.h"

int main(int argc, char **argv)
{
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	struct tether_exit_info info;
	pid_t pid;
	int r;

	ts_child_dispatch(argc, argv);
	t_require_flags(CLONE_AUTOREAP);
	t_count_sigchld();
	attr = ts_attr_flags(CLONE_AUTOREAP);

	r = ts_spawn_self(&c, NULL, attr, "exit", "5", NULL);
	T_ASSERT(r == 0, "spawn: %s", strerror(-r));
	T_ASSERT(tether_child_backend(c) == tether_backend_for(CLONE_AUTOREAP), "backend");
	pid = tether_child_pid(c);
	info = ts_wait(c, "exit 5");
	T_ASSERT(info.exited && info.exit_code == 5, "exit 5: status %#x", info.status);
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "child %d not reaped (state %c)", pid, t_proc_state(pid));
	T_ASSERT(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "waitpid saw the autoreap child");
	tether_child_release(c);
	t_info("exit code 5 through the pidfd; no zombie; waitpid: ECHILD");

	r = ts_spawn_self(&c, NULL, attr, "raise", "9", NULL);
	T_ASSERT(r == 0, "spawn: %s", strerror(-r));
	info = ts_wait(c, "SIGKILL");
	T_ASSERT(info.signaled && info.signal == SIGKILL, "SIGKILL: status %#x", info.status);
	tether_child_release(c);
	t_info("death by SIGKILL through the pidfd");

	/* Released while running: it goes on, then is reaped by nobody but the kernel (or emulation). */
	r = ts_spawn_self(&c, NULL, attr, "sleep", NULL);
	T_ASSERT(r == 0, "spawn: %s", strerror(-r));
	pid = tether_child_pid(c);
	int watch = t_pidfd_open(pid);
	T_ASSERT(watch >= 0, "pidfd_open");
	tether_child_release(c);
	T_ASSERT(t_stays_alive(watch, 50), "released autoreap child died");
	T_ASSERT(t_pidfd_send_signal(watch, SIGTERM) == 0, "kill");
	T_ASSERT(t_dies(watch, 10000), "child survived SIGTERM");
	close(watch);
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "released child %d left a zombie", pid);
	t_info("released autoreap child ran on and was reaped when killed");

	if (t_emulated(CLONE_AUTOREAP)) {
		/* Deviation "exec" (README): execve() resets the exit signal to
		 * SIGCHLD, and every spawned child execs. tether still reaped them. */
		T_ASSERT(t_sigchld_count <= 3, "%d SIGCHLDs for 3 children", (int)t_sigchld_count);
		t_info("emulation: %d SIGCHLD(s) after exec, as the deviation table says", (int)t_sigchld_count);
	} else {
		T_ASSERT(t_sigchld_count == 0, "%d SIGCHLD(s) for autoreap children", (int)t_sigchld_count);
	}
	tether_spawn_attr_destroy(attr);
	ts_assert_no_children("end");
	t_pass("spawned autoreap children: no zombie, waitpid() sees none, exit info kept (%s backend)",
	       t_backend_word(CLONE_AUTOREAP));
}

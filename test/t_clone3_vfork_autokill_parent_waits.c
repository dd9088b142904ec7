/* SPDX-License-Identifier: MIT */
/*
 * CLONE_VFORK with the lifecycle flags: the caller is suspended until the
 * child execs or exits (clone(2): "the execution of the calling process is
 * suspended until the child releases its virtual memory resources via a call
 * to execve(2) or _exit(2)"), and it is still autokilled and autoreaped.
 * An emulated autokill child waits to be armed by its parent, so a real
 * vfork would deadlock there: the emulation suspends the caller itself.
 *
 * Three children, each with CLONE_VFORK|CLONE_PIDFD|lifecycle flags: one
 * that writes a byte after 200 ms and exits, one that does the same and then
 * execs, one that execs a sleeper and is then autokilled by the last close.
 * The byte must be there when tether_clone3() returns.
 */
#include "harness.h"

#define FLAGS (CLONE_VFORK | CLONE_PIDFD | CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

static void one(const char *how, int then_exec)
{
	int pidfd = -1, p[2];
	char byte;

	T_ASSERT(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	pid_t pid = t_clone(FLAGS, 0, &pidfd);
	T_ASSERT(pid >= 0, "%s: tether_clone3: %s", how, strerror(errno));
	if (pid == 0) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		(void)!write(p[1], "x", 1);
		if (then_exec) {
			char *argv[] = { "t_clone3_vfork_autokill_parent_waits", "child", NULL };
			execv("/proc/self/exe", argv);
			_exit(99);
		}
		_exit(7);
	}
	close(p[1]);
	T_ASSERT(read(p[0], &byte, 1) == 1, "%s: tether_clone3() returned before the child exec'd or exited", how);
	close(p[0]);
	if (then_exec) {
		/* Now a sleeper: the last close of its pidfd must kill it. */
		int watch = t_pidfd_open(pid);
		T_ASSERT(watch >= 0, "pidfd_open: %s", strerror(errno));
		T_ASSERT(t_stays_alive(watch, 50), "%s: the exec'd child died before its pidfd was closed", how);
		T_ASSERT(tether_pidfd_close(pidfd) == 0, "tether_pidfd_close");
		T_ASSERT(t_dies(watch, 10000), "%s: child %d survived the last close of its pidfd", how, pid);
		close(watch);
	} else {
		T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "%s: child did not exit", how);
		int st = t_pidfd_exit_status(pidfd);
		T_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7, "%s: status %#x", how, st);
		tether_pidfd_close(pidfd);
	}
	t_info("%s: the caller waited, the child was %s", how, then_exec ? "autokilled" : "autoreaped");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		pause();
		return 0;
	}
	t_require_flags(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL);
	one("exit", 0);
	one("exec", 1);
	t_pass("CLONE_VFORK with the lifecycle flags suspends the caller until exit or exec (%s backend)",
	       t_backend_word(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL));
}

/* SPDX-License-Identifier: MIT */
/*
 * Deviation "caller exec": an emulated autoreap tether_clone3() child is
 * created with no exit signal, and only its own exec or a reparenting gives
 * it one back (SPEC, kernel facts). If the *caller* execs while such a child
 * lives, the library (and its reaper thread) is gone from the new program,
 * and the child's exit leaves a zombie that sends no SIGCHLD and that
 * waitpid(-1)/wait() do not see: only a wait with __WALL (or the new
 * program's own exit) collects it. Natively the kernel reaps it at once.
 * Pinned here: the zombie stays, invisible to waitpid(-1, WNOHANG), and
 * waitid(P_ALL, __WALL) collects it with the child's status. (Callers that
 * exec with such children alive: wait for them or kill them first, or use
 * tether_spawn(), whose children have a monitor process.)
 */
#include "harness.h"

static int after_exec(pid_t pid, int gate_wr)
{
	siginfo_t si;
	int st;

	close(gate_wr); /* the child's gate: it exits now */
	for (int i = 0; i < 1000 && t_proc_state(pid) != 'Z'; i++)
		usleep(10 * 1000);
	if (t_proc_state(pid) != 'Z') {
		printf("  child %d: state '%c', expected a zombie\n", (int)pid, t_proc_state(pid) ?: '-');
		return 2;
	}
	usleep(300 * 1000); /* time for anybody (nobody) to reap it */
	if (t_proc_state(pid) != 'Z')
		return 3;
	pid_t w = waitpid(-1, &st, WNOHANG);
	if (w == pid) {
		printf("  waitpid(-1) reaped it: no deviation\n");
		return 4;
	}
	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) < 0 || si.si_pid != pid || si.si_code != CLD_EXITED ||
	    si.si_status != 8) {
		printf("  waitid(__WALL): pid %d code %d status %d\n", (int)si.si_pid, si.si_code, si.si_status);
		return 5;
	}
	return 0;
}

static int before_exec(void *arg)
{
	int gate[2], pidfd = -1;
	char a1[16], a2[16];
	char *self = arg;

	if (pipe(gate) < 0) /* both ends survive the exec */
		return 10;
	pid_t pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
	if (pid == 0) {
		char c;
		close(gate[1]);
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(8);
	}
	if (pid < 0)
		return 11;
	close(gate[0]);
	snprintf(a1, sizeof(a1), "%d", (int)pid);
	snprintf(a2, sizeof(a2), "%d", gate[1]);
	char *args[] = { self, "--after-exec", a1, a2, NULL };
	execv("/proc/self/exe", args);
	return 12;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--after-exec") == 0)
		return after_exec(atoi(argv[2]), atoi(argv[3]));
	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	int st = t_in_subprocess(before_exec, argv[0]);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "step %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	t_pass("caller exec: the emulated child's exit left a zombie only a __WALL wait collects (the deviation)");
}

/* SPDX-License-Identifier: MIT */
/*
 * Deviation "zombie state" for spawned children: the program itself is
 * reaped at its exit (by the kernel, its monitor ignoring SIGCHLD, or by the
 * monitor), but the monitor, a child of the caller without exit signal,
 * ends right after it and stays a zombie until tether_child_wait() or the
 * release reaps it. Pinned here: that zombie is the monitor (never the
 * program), wait(-1) and waitpid(-1) never see it, only __WALL does, and
 * tether_child_wait() leaves nothing behind.
 */
#include "harness.h"

static char comm_of(pid_t pid, char *comm, size_t len)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	comm[0] = '\0';
	if (fd < 0)
		return 0;
	n = read(fd, comm, len - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return 1;
}

int main(int argc, char **argv)
{
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	struct tether_exit_info info;
	char *cargv[] = { (char *)"/proc/self/exe", (char *)"exit3", NULL };
	siginfo_t si;
	char comm[32];
	int status;

	if (argc > 1 && strcmp(argv[1], "exit3") == 0)
		_exit(3);
	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);
	T_ASSERT(tether_spawn_attr_init(&attr) == 0 && tether_spawn_attr_set_flags(attr, CLONE_AUTOREAP) == 0, "attr");
	T_ASSERT(tether_spawn(&c, cargv[0], NULL, attr, cargv, NULL) == 0, "spawn");
	pid_t program = tether_child_pid(c);

	/* The program ends; its monitor follows and waits to be collected. */
	struct pollfd pfd = { .fd = tether_child_pidfd(c), .events = POLLIN };
	T_ASSERT(poll(&pfd, 1, 20000) == 1, "the program did not end");
	memset(&si, 0, sizeof(si));
	for (long long end = t_now_ms() + 10000; t_now_ms() < end; usleep(1000)) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 && si.si_pid != 0)
			break;
	}
	T_ASSERT(si.si_pid != 0, "no zombie: the deviation is gone, update the deviation table");
	T_ASSERT(si.si_pid != program, "the program itself is a zombie of ours");
	T_ASSERT(comm_of(si.si_pid, comm, sizeof(comm)) && strcmp(comm, "tether-monitor") == 0,
		 "the zombie (pid %d) is '%s', not tether-monitor", (int)si.si_pid, comm);
	T_ASSERT(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD, "waitpid(-1) sees the monitor");
	memset(&si, 0, sizeof(si));
	T_ASSERT(waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 && errno == ECHILD, "waitid(P_ALL) sees the monitor");

	T_ASSERT(tether_child_wait(c, 10000, &info) == 0 && info.exited && info.exit_code == 3, "status");
	memset(&si, 0, sizeof(si));
	T_ASSERT(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 || si.si_pid == 0,
		 "tether_child_wait() left a zombie (pid %d)", (int)si.si_pid);
	tether_child_release(c);
	tether_spawn_attr_destroy(attr);
	t_pass("the spawned program's monitor is a zombie (seen only by __WALL) until tether_child_wait()");
}

/* SPDX-License-Identifier: MIT *
 * NOT IN THE SUITE YET: passes on 6.18 (host), but on 5.10 the new image
 * waited in vain for the monitor to take over (SIGALRM after 30 s);
 * reproduce in the VM with TETHER_BACKEND=emulate.
 */
/*
 * Deviation "creator execs while spawned children live": the monitor of a
 * spawned autoreap program sees the creator's image go, becomes the small
 * embedded tether-monitor program (so that the old image's memory is not
 * kept), and exec makes it an ordinary child of the new image: once the
 * program has ended, the new image's wait(-1) reaps the monitor (with
 * SIGCHLD). The program itself never shows up there. Natively nothing
 * changes at the exec: skipped there.
 */
#include "harness.h"

static void read_proc(pid_t pid, const char *what, char *buf, size_t len, bool link)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if (link) {
		n = readlink(path, buf, len - 1);
	} else {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, len - 1);
		if (fd >= 0)
			close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* The new image of the creator: reap what comes; exit 0 if it is the monitor alone. */
static int after_exec(pid_t program)
{
	siginfo_t si;
	char comm[64], exe[256];
	int status, n = 0;

	alarm(30);
	/* The monitor takes over a moment after the exec: until then it is a
	 * child without exit signal, which wait(-1) does not count. */
	for (bool ready = false; !ready; usleep(1000)) {
		char path[64], kids[256];
		snprintf(path, sizeof(path), "task/%d/children", (int)getpid());
		read_proc(getpid(), path, kids, sizeof(kids), false);
		for (char *p = kids, *end;; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			read_proc((pid_t)pid, "exe", exe, sizeof(exe), true);
			ready |= strstr(exe, "memfd:tether-monitor") != NULL;
		}
	}
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0)
			break;
		if (si.si_pid == program) {
			printf("the program (pid %d) came to the new image's wait(-1)\n", (int)program);
			return 2;
		}
		read_proc(si.si_pid, "comm", comm, sizeof(comm), false);
		/* Named after its memfd by exec, until it names itself. */
		if (strcmp(comm, "tether-monitor") != 0 && strncmp(comm, "memfd:tether-mo", 15) != 0) {
			printf("an unknown child %d (%s) came to wait(-1)\n", (int)si.si_pid, comm);
			return 3;
		}
		if (waitpid(si.si_pid, &status, 0) != si.si_pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("the monitor did not end cleanly\n");
			return 5;
		}
		n++;
	}
	if (errno != ECHILD || n != 1) {
		printf("wait(-1) ended with %s after %d monitor(s), expected ECHILD after 1\n", strerror(errno), n);
		return 6;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int status;

	if (argc > 2 && strcmp(argv[1], "after-exec") == 0)
		return after_exec((pid_t)atoi(argv[2]));
	if (argc > 1 && strcmp(argv[1], "linger") == 0) {
		usleep(500 * 1000);
		_exit(7);
	}
	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);

	pid_t creator = fork();
	T_ASSERT(creator >= 0, "fork");
	if (creator == 0) {
		struct tether_spawn_attr *attr;
		struct tether_child *c;
		char *cargv[] = { (char *)"/proc/self/exe", (char *)"linger", NULL };
		char num[16], *eargv[] = { (char *)"/proc/self/exe", (char *)"after-exec", num, NULL };

		if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, CLONE_AUTOREAP) < 0 ||
		    tether_spawn(&c, cargv[0], NULL, attr, cargv, NULL) < 0)
			_exit(10);
		snprintf(num, sizeof(num), "%d", (int)tether_child_pid(c));
		execv(eargv[0], eargv);
		_exit(11);
	}
	T_ASSERT(waitpid(creator, &status, 0) == creator, "reap the creator");
	T_ASSERT(WIFEXITED(status), "the creator's new image died (status 0x%x)", status);
	T_ASSERT(WEXITSTATUS(status) == 0, "the creator's new image saw something else (exit %d)", WEXITSTATUS(status));
	t_pass("after the creator's exec, its monitor became tether-monitor and an ordinary child of the new image; "
	       "the program never showed up");
}

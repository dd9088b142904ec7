/* SPDX-License-Identifier: MIT */
/*
 * Deviation "creator execs while spawned children live": the monitor of a
 * spawned autoreap program sees the creator's image go, becomes the small
 * embedded tether-monitor program (so that the old image's memory is not
 * kept), and exec makes it an ordinary child of the new image: once the
 * program has ended, the new image's wait(-1) reaps the monitor (with
 * SIGCHLD). The program itself never shows up there. Natively nothing
 * changes at the exec: skipped there.
 *
 * The program lives until the new image has seen the take-over (it reads
 * its stdin, a pipe whose only writer the new image holds): no timing
 * decides whether the monitor is watched while it runs. On Debian's 5.10
 * the take-over failed for good (execveat(AT_EMPTY_PATH) of the memfd
 * answers ENOENT there) and the new image waited in vain.
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

/* The new image of the creator: reap what comes; exit 0 if it is the monitor alone.
 * gate: the write end of the program's stdin. */
static int after_exec(pid_t program, int gate)
{
	siginfo_t si;
	char comm[64], exe[256];
	int status, n = 0;

	long long end = t_now_ms() + 30000;

	alarm(60);
	/* The monitor takes over a moment after the exec: until then it is a
	 * child without exit signal, which wait(-1) does not count. */
	for (bool ready = false; !ready; usleep(1000)) {
		char path[64], kids[256];
		snprintf(path, sizeof(path), "task/%d/children", (int)getpid());
		read_proc(getpid(), path, kids, sizeof(kids), false);
		for (char *p = kids, *e;; p = e) {
			long pid = strtol(p, &e, 10);
			if (e == p)
				break;
			read_proc((pid_t)pid, "exe", exe, sizeof(exe), true);
			ready |= strstr(exe, "memfd:tether-monitor") != NULL;
			if (!ready && t_now_ms() > end) {
				char stat[512], *f = stat;
				read_proc((pid_t)pid, "comm", comm, sizeof(comm), false);
				read_proc((pid_t)pid, "stat", stat, sizeof(stat), false);
				/* Field 38 of stat: the exit signal. */
				f = strrchr(stat, ')');
				for (int k = 2; f && k < 38; k++)
					f = strchr(f + 1, ' ');
				f = f ? f + 1 : (char *)"?";
				printf("child %ld (%s, state %c, exe '%s', exit signal %.*s) never became tether-monitor\n",
				       pid, comm, t_proc_state((pid_t)pid), exe, (int)strcspn(f, " "), f);
			}
		}
		if (!ready && t_now_ms() > end) {
			printf("no monitor took over in 30 s (children: '%s'; the program %d is %c)\n", kids,
			       (int)program, t_proc_state(program) ? t_proc_state(program) : '-');
			return 4;
		}
	}
	close(gate); /* the program ends; its monitor follows */
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

	if (argc > 3 && strcmp(argv[1], "after-exec") == 0)
		return after_exec((pid_t)atoi(argv[2]), atoi(argv[3]));
	if (argc > 1 && strcmp(argv[1], "linger") == 0) {
		char b;
		/* Until the new image closes its end (or dies: then at most a minute). */
		alarm(60);
		ssize_t n;
		while ((n = read(0, &b, 1)) > 0 || (n < 0 && errno == EINTR))
			;
		_exit(7);
	}
	t_require_flags(CLONE_AUTOREAP);
	t_require_emulation(CLONE_AUTOREAP);

	pid_t creator = fork();
	T_ASSERT(creator >= 0, "fork");
	if (creator == 0) {
		struct tether_spawn_attr *attr;
		struct tether_file_actions *fa;
		struct tether_child *c;
		char *cargv[] = { (char *)"/proc/self/exe", (char *)"linger", NULL };
		char num[16], gate[16], *eargv[] = { (char *)"/proc/self/exe", (char *)"after-exec", num, gate, NULL };
		int p[2];

		/* The program's stdin; the write end goes across our exec. */
		if (pipe(p) < 0 || tether_file_actions_init(&fa) < 0 || tether_file_actions_add_dup2(fa, p[0], 0) < 0 ||
		    tether_file_actions_add_close(fa, p[1]) < 0)
			_exit(12);
		if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, CLONE_AUTOREAP) < 0 ||
		    tether_spawn(&c, cargv[0], fa, attr, cargv, NULL) < 0)
			_exit(10);
		close(p[0]);
		snprintf(num, sizeof(num), "%d", (int)tether_child_pid(c));
		snprintf(gate, sizeof(gate), "%d", p[1]);
		execv(eargv[0], eargv);
		_exit(11);
	}
	T_ASSERT(waitpid(creator, &status, 0) == creator, "reap the creator");
	T_ASSERT(WIFEXITED(status), "the creator's new image died (status 0x%x)", status);
	T_ASSERT(WEXITSTATUS(status) == 0, "the creator's new image saw something else (exit %d)", WEXITSTATUS(status));
	t_pass("after the creator's exec, its monitor became tether-monitor and an ordinary child of the new image; "
	       "the program never showed up");
}

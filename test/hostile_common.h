/* SPDX-License-Identifier: MIT */
/*
 * Shared by the tests of hostile applications (t_spawn_autoreap_invisible_*,
 * t_spawn_autokill_hostile_*, t_spawn_sigterm_*, t_emul_hostile_*): the
 * things ordinary programs do that a library's helper processes must
 * survive, and a few extra child modes on top of spawn_common.h's.
 */
#ifndef TETHER_TEST_HOSTILE_COMMON_H
#define TETHER_TEST_HOSTILE_COMMON_H

#include <sys/resource.h>

#include "spawn_common.h"

#define HC_AUTOKILL_SPAWN (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

static volatile sig_atomic_t hc_terms;

static void hc_on_term(int sig)
{
	(void)sig;
	if (++hc_terms > 1)
		_exit(3); /* a second SIGTERM: the stop reached us twice */
}

/*
 *   term          count SIGTERMs: on the first, "clean up" for about a
 *                 second and exit 0; a second SIGTERM exits 3. Writes "r"
 *                 to fd 1 once the handler is in place.
 *   stdin-exit N  read stdin until EOF (the test holds the pipe's write
 *                 end: a gate), then exit with N
 * and every mode of ts_child_dispatch().
 */
static inline void hc_child_dispatch(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "child") == 0 && strcmp(argv[2], "stdin-exit") == 0) {
		char b;
		ssize_t n;
		while ((n = read(0, &b, 1)) > 0 || (n < 0 && errno == EINTR))
			;
		_exit(atoi(argv[3]));
	}
	if (argc >= 3 && strcmp(argv[1], "child") == 0 && strcmp(argv[2], "term") == 0) {
		struct sigaction sa = { .sa_handler = hc_on_term };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		(void)!write(1, "r", 1);
		while (hc_terms == 0)
			pause();
		/* Clean-up: a second, in small steps, so that a second SIGTERM
		 * or a SIGKILL in the middle of it shows. */
		for (int i = 0; i < 100; i++)
			usleep(10000);
		_exit(0);
	}
	ts_child_dispatch(argc, argv);
}

/* Spawn "self child MODE ARGS..." with just these flags; the error, or 0. */
static inline int hc_spawn(struct tether_child **c, uint64_t flags, const char *mode, ...)
{
	struct tether_spawn_attr *attr = ts_attr_flags(flags);
	va_list ap;
	char **v;
	int r;

	va_start(ap, mode);
	v = ts_argv_v(mode, ap);
	va_end(ap);
	r = tether_spawn(c, TS_SELF, NULL, attr, v, NULL);
	tether_spawn_attr_destroy(attr);
	return r;
}

/*
 * Programs that would outlive a failing test (AUTOREAP without AUTOKILL
 * lives on after its handle): killed at exit() (t_fail() exits), never left
 * behind holding the runner's output pipe.
 */
static pid_t hc_tracked[64];
static int hc_ntracked;

static inline void hc_kill_tracked(void)
{
	for (int i = 0; i < hc_ntracked; i++)
		if (hc_tracked[i] > 1 && t_proc_state(hc_tracked[i]) != 0)
			t_kill(hc_tracked[i], SIGKILL);
}

static inline void hc_track(pid_t pid)
{
	if (hc_ntracked == 0)
		atexit(hc_kill_tracked);
	if (hc_ntracked < (int)TS_N(hc_tracked))
		hc_tracked[hc_ntracked++] = pid;
}

/* Raise RLIMIT_NOFILE's soft limit to at least n (and the hard one as root). */
static inline void hc_nofile_at_least(rlim_t n)
{
	struct rlimit rl;

	T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	if (rl.rlim_cur >= n)
		return;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	rl.rlim_cur = n;
	T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit(RLIMIT_NOFILE, %lu): %s", (unsigned long)n,
		 strerror(errno));
}

/* A number from the environment, or def. */
static inline int hc_env_int(const char *name, int def)
{
	const char *s = getenv(name);
	return s && atoi(s) > 0 ? atoi(s) : def;
}

/*
 * Every process in this process's subtree (children of every thread,
 * recursively), zombies left out, up to max; returns how many. A process
 * reparented away (to init or a subreaper above us) is no longer counted:
 * callers that must see orphans make themselves subreapers.
 */
static inline int hc_descendants(pid_t root, pid_t *out, int max)
{
	int n = 0, head = 0;
	pid_t queue[8192];
	int qn = 0;

	queue[qn++] = root;
	while (head < qn) {
		pid_t p = queue[head++];
		char path[384], buf[16384];
		DIR *tasks;
		struct dirent *d;

		snprintf(path, sizeof(path), "/proc/%d/task", (int)p);
		tasks = opendir(path);
		while (tasks && (d = readdir(tasks))) {
			int fd;
			ssize_t len;

			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)p, d->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
			if (fd >= 0)
				close(fd);
			if (len <= 0)
				continue;
			buf[len] = '\0';
			for (char *s = buf, *end;; s = end) {
				long c = strtol(s, &end, 10);
				if (end == s)
					break;
				if (t_proc_state((pid_t)c) == 'Z' || t_proc_state((pid_t)c) == 0)
					continue;
				if (qn < (int)TS_N(queue))
					queue[qn++] = (pid_t)c;
				if (n < max)
					out[n++] = (pid_t)c;
			}
		}
		if (tasks)
			closedir(tasks);
	}
	return n;
}

/* /proc/PID/comm, without the newline ("" when gone). */
static inline void hc_comm(pid_t pid, char *out, size_t len)
{
	char path[64];
	int fd;
	ssize_t n;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/*
 * Field `field` (numbered as in proc(5): 4 is ppid, 38 exit_signal) of
 * /proc/PID/stat as a number, or -1 when the process is gone.
 */
static inline long hc_stat_field(pid_t pid, int field)
{
	char path[64], buf[1024], *p;
	int fd, at = 2;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	for (p = p ? p + 1 : buf; *p && at < field; p++)
		if (*p == ' ')
			at++;
	return atol(p);
}

/* The parent pid of pid, or -1. */
static inline pid_t hc_ppid(pid_t pid)
{
	return (pid_t)hc_stat_field(pid, 4);
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Shared by the t_tree_* tests. A test spawns itself ("child tree-MODE
 * MARK ...") as the root of a tree; the members name themselves MARK
 * (PR_SET_NAME: unique per test process), write their pids to stdout (a pipe
 * of the test's) and sleep. After a kill, no process named MARK may be left
 * anywhere on the machine, alive or zombie, and the tree's cgroup is gone.
 */
#ifndef TETHER_TEST_TREE_COMMON_H
#define TETHER_TEST_TREE_COMMON_H

#include <dirent.h>
#include <sys/stat.h>

#include "spawn_common.h"

#define TT_MAX 1024

static inline void tt_say_pid(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	(void)!write(1, buf, (size_t)n);
}

static inline _Noreturn void tt_sleep_forever(void)
{
	for (;;)
		pause();
}

/* fork() whose child names itself mark; the parent gets the pid. */
static inline pid_t tt_fork(const char *mark)
{
	pid_t p = fork();
	if (p == 0)
		prctl(PR_SET_NAME, mark, 0, 0, 0);
	return p;
}

/*
 * "child tree-MODE MARK [N]": the trees the tests build.
 *   daemon        setsid + double fork: the daemon re-parents to the tree's reaper
 *   reparent      a child forks a grandchild and exits at once
 *   storm N       N processes (the root and N-1 members), set up, then waiting
 *                 for the root's stdin: once a byte comes, each member forks
 *                 (its children exit at once) without end, and says its pid
 *                 again after its first fork
 *   noterm        root and a child ignore SIGTERM
 *   noterm-daemon root and a setsid() + double-fork daemon ignore SIGTERM
 *   otheruid      a child under uid 65534
 *   exit-after N  a daemon child sleeps; the root exits with N once it is started
 *   nohup         a child ignores SIGHUP in a process group of its own (a
 *                 shell's "nohup cmd &") and sleeps; the root exits 0 at once
 *   fan N         the root and N-1 children of it, all with SIGTERM's default
 *                 action (they die of it at once)
 *   orphan-exit   a grandchild, orphaned by its parent's exit, exits itself;
 *                 the root exits 0 once no trace of it is left (not even a
 *                 zombie), 3 if one stays 10 s
 * Every member prints its pid once it is set up.
 */
static inline void tt_child_dispatch(int argc, char **argv)
{
	const char *mode, *mark;

	if (argc < 4 || strcmp(argv[1], "child") != 0 || strncmp(argv[2], "tree-", 5) != 0)
		return;
	mode = argv[2] + 5;
	mark = argv[3];
	prctl(PR_SET_NAME, mark, 0, 0, 0);
	if (strcmp(mode, "daemon") == 0 || strcmp(mode, "exit-after") == 0) {
		pid_t p = tt_fork(mark);
		if (p == 0) {
			setsid();
			if (tt_fork(mark) == 0) {
				tt_say_pid();
				tt_sleep_forever();
			}
			_exit(0); /* the daemon's parent goes: it is an orphan now */
		}
		waitpid(p, NULL, 0);
		tt_say_pid();
		if (mode[0] == 'e')
			_exit(argc > 4 ? atoi(argv[4]) : 0);
		tt_sleep_forever();
	}
	if (strcmp(mode, "reparent") == 0) {
		pid_t p = tt_fork(mark);
		if (p == 0) {
			if (tt_fork(mark) == 0) {
				usleep(50 * 1000); /* its parent is gone by now */
				tt_say_pid();
				tt_sleep_forever();
			}
			_exit(0); /* short-lived intermediate */
		}
		waitpid(p, NULL, 0); /* the root is a good parent: its own child is no zombie */
		tt_say_pid();
		tt_sleep_forever();
	}
	if (strcmp(mode, "storm") == 0) {
		/* The storm starts only when the test is about to kill: until then
		 * nobody spins (a machine of 2 CPUs starts 200 spinning forkers
		 * slowly, and everything else on it with them). */
		int n = argc > 4 ? atoi(argv[4]) : 200, gate[2];
		char go;

		if (pipe(gate) < 0)
			_exit(97);
		for (int i = 1; i < n; i++) {
			if (tt_fork(mark) == 0) {
				close(gate[1]);
				tt_say_pid();
				(void)!read(gate[0], &go, 1); /* EOF: the root let go */
				for (bool said = false;;) {
					pid_t c = fork();
					if (c == 0)
						_exit(0);
					if (c > 0)
						waitpid(c, NULL, 0);
					if (c > 0 && !said)
						tt_say_pid(), said = true;
				}
			}
		}
		close(gate[0]);
		tt_say_pid();
		if (read(0, &go, 1) == 1)
			close(gate[1]);
		tt_sleep_forever();
	}
	if (strcmp(mode, "fan") == 0) {
		int n = argc > 4 ? atoi(argv[4]) : 4;
		for (int i = 1; i < n; i++) {
			if (tt_fork(mark) == 0) {
				tt_say_pid();
				tt_sleep_forever();
			}
		}
		tt_say_pid();
		tt_sleep_forever();
	}
	if (strcmp(mode, "nohup") == 0) {
		if (tt_fork(mark) == 0) {
			signal(SIGHUP, SIG_IGN);
			setpgid(0, 0);
			tt_say_pid();
			tt_sleep_forever();
		}
		tt_say_pid();
		_exit(0);
	}
	if (strcmp(mode, "orphan-exit") == 0) {
		int p[2];
		pid_t mid, g = 0;
		char path[64];

		if (pipe(p) < 0)
			_exit(97);
		mid = tt_fork(mark);
		if (mid == 0) {
			pid_t parent = getpid(), gc = tt_fork(mark);
			if (gc == 0) {
				while (getppid() == parent) /* until the intermediate is gone */
					usleep(10 * 1000);
				_exit(0);
			}
			(void)!write(p[1], &gc, sizeof(gc));
			_exit(0);
		}
		waitpid(mid, NULL, 0);
		if (read(p[0], &g, sizeof(g)) != sizeof(g) || g <= 0)
			_exit(96);
		tt_say_pid();
		snprintf(path, sizeof(path), "/proc/%d", (int)g);
		for (long long end = t_now_ms() + 10000; t_now_ms() < end; usleep(10 * 1000))
			if (access(path, F_OK) < 0)
				_exit(0);
		_exit(3);
	}
	if (strcmp(mode, "noterm-daemon") == 0) {
		pid_t p;
		signal(SIGTERM, SIG_IGN);
		p = tt_fork(mark);
		if (p == 0) {
			setsid();
			if (tt_fork(mark) == 0) {
				tt_say_pid();
				tt_sleep_forever();
			}
			_exit(0);
		}
		waitpid(p, NULL, 0);
		tt_say_pid();
		tt_sleep_forever();
	}
	if (strcmp(mode, "noterm") == 0) {
		signal(SIGTERM, SIG_IGN);
		if (tt_fork(mark) == 0) {
			tt_say_pid();
			tt_sleep_forever();
		}
		tt_say_pid();
		tt_sleep_forever();
	}
	if (strcmp(mode, "otheruid") == 0) {
		if (tt_fork(mark) == 0) {
			if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
				_exit(3);
			prctl(PR_SET_NAME, mark, 0, 0, 0);
			tt_say_pid();
			tt_sleep_forever();
		}
		tt_say_pid();
		tt_sleep_forever();
	}
	fprintf(stderr, "unknown tree mode '%s'\n", mode);
	_exit(98);
}

/* This process's mark for its trees' members. */
static inline const char *tt_mark(void)
{
	static char mark[16];
	if (!mark[0])
		snprintf(mark, sizeof(mark), "tt%d", (int)getpid());
	return mark;
}

/* Processes named mark on the machine: *zombies of them are zombies. */
static inline int tt_count_marked(const char *mark, int *zombies)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	*zombies = 0;
	while (d && (e = readdir(d))) {
		char path[300], buf[512];
		int fd;
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "PID (COMM) S ..." */
		char *open_ = strchr(buf, '('), *close_ = strrchr(buf, ')');
		if (!open_ || !close_ || close_ - open_ - 1 != (long)strlen(mark) ||
		    strncmp(open_ + 1, mark, strlen(mark)) != 0)
			continue;
		n++;
		if (close_[1] == ' ' && close_[2] == 'Z')
			(*zombies)++;
	}
	if (d)
		closedir(d);
	return n;
}

/* SIGKILL every process named mark (ours: the mark holds this test's pid). */
static inline void tt_kill_marked(const char *mark)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[300], comm[64] = "";
		int fd;
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len > 0 && comm[len - 1] == '\n')
			comm[len - 1] = '\0';
		if (len > 0 && strcmp(comm, mark) == 0)
			t_kill(atoi(e->d_name), SIGKILL);
	}
	if (d)
		closedir(d);
}

static inline void tt_cleanup(void)
{
	static pid_t owner;

	if (!owner) {
		owner = getpid();
		return;
	}
	for (int z, i = 0; getpid() == owner && i < 5 && tt_count_marked(tt_mark(), &z) > 0; i++)
		tt_kill_marked(tt_mark());
}

/*
 * After the dispatch, in the test's own process: fix the mark, and at exit
 * (a failed assertion too) kill whatever of this test's trees is left, so
 * that a failure never leaves a tree (that may have escaped its monitor)
 * behind.
 */
static inline void tt_setup(void)
{
	tt_mark();
	tt_cleanup();
	atexit(tt_cleanup);
}

/* Wait (bounded) until no process is named mark; fails the test otherwise. */
static inline void tt_assert_none_left(const char *mark, const char *what)
{
	int n = 0, z = 0;
	for (long long end = t_now_ms() + 10000; t_now_ms() < end;) {
		n = tt_count_marked(mark, &z);
		if (n == 0)
			return;
		usleep(10 * 1000);
	}
	t_fail("%s: %d processes of the tree left (%d zombies)", what, n, z);
}

/*
 * Spawn "self child tree-MODE MARK [arg]" as a tree; *out: the read end of
 * its stdout; in (may be NULL): the write end of its stdin.
 */
static inline struct tether_child *tt_spawn_io(enum tether_tree tree, uint64_t flags, const char *mode,
					       const char *arg, int *out, int *in)
{
	struct tether_spawn_attr *a = ts_attr_flags(flags);
	struct tether_file_actions *fa;
	struct tether_child *c = NULL;
	char m[64];
	int p[2], q[2] = { -1, -1 }, r;

	snprintf(m, sizeof(m), "tree-%s", mode);
	T_ASSERT(tether_spawn_attr_set_tree(a, tree) == 0, "set_tree");
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0, "pipe2");
	T_ASSERT(!in || pipe2(q, O_CLOEXEC) == 0, "pipe2");
	T_ASSERT(tether_file_actions_init(&fa) == 0 && tether_file_actions_add_dup2(fa, p[1], 1) == 0, "fa");
	T_ASSERT(!in || tether_file_actions_add_dup2(fa, q[0], 0) == 0, "fa");
	r = ts_spawn_self(&c, fa, a, m, tt_mark(), arg, (char *)NULL);
	tether_file_actions_destroy(fa);
	tether_spawn_attr_destroy(a);
	close(p[1]);
	if (in) {
		close(q[0]);
		*in = q[1];
	}
	T_ASSERT(r == 0, "spawning a tree (%s): %s", mode, strerror(-r));
	*out = p[0];
	return c;
}

static inline struct tether_child *tt_spawn(enum tether_tree tree, uint64_t flags, const char *mode, const char *arg,
					    int *out)
{
	return tt_spawn_io(tree, flags, mode, arg, out, NULL);
}

/* Read n pids (bounded wait); returns how many came. */
static inline int tt_read_pids(int fd, pid_t *pids, int n)
{
	char buf[8192];
	size_t len = 0;
	int got = 0;
	long long end = t_now_ms() + 60000;

	while (got < n && t_now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		char *nl;
		while (got < n && (nl = strchr(buf, '\n'))) {
			pids[got++] = (pid_t)atoi(buf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
	}
	return got;
}

/* The mechanisms to try here: subreaper always, cgroup where the caller may make one. */
static inline int tt_mechanisms(enum tether_tree *out)
{
	int n = 0;
	out[n++] = TETHER_TREE_SUBREAPER;
	if (tether_tree_probe() == TETHER_TREE_CGROUP)
		out[n++] = TETHER_TREE_CGROUP;
	else
		t_info("no cgroup v2 directory can be made here: the cgroup mechanism is not tried");
	return n;
}

/*
 * A test whose trees are spawned without lifecycle flags: tether_spawn()
 * never consults the backend for them (a tree's root is its monitor's
 * child on every backend, src/spawn/spawn.c), so the runner's native pass
 * would repeat its emulate pass exactly, and is skipped. Trees with flags
 * run in both passes: natively too, the whole tree must die.
 */
static inline void tt_flagless_one_pass(void)
{
	if (tether_get_backend() == TETHER_BACKEND_NATIVE)
		t_skip("trees without lifecycle flags do not depend on the backend: the emulate pass runs this");
}

/*
 * Every t_tree_* test's start: serve the child modes when run as one, mark
 * this test's processes, and say which mechanisms to try (into mech[2]);
 * flags: the lifecycle flags its trees are spawned with.
 */
static inline int tt_start(int argc, char **argv, enum tether_tree *mech, uint64_t flags)
{
	tt_child_dispatch(argc, argv);
	ts_child_dispatch(argc, argv);
	tt_setup();
	if (!flags)
		tt_flagless_one_pass();
	return tt_mechanisms(mech);
}

static inline const char *tt_name(enum tether_tree t)
{
	return t == TETHER_TREE_CGROUP ? "cgroup" : t == TETHER_TREE_SUBREAPER ? "subreaper" : t == TETHER_TREE_AUTO ? "auto" : "none";
}

/* Kill the tree and check that nothing of it is left: no member, no zombie, no cgroup. */
static inline void tt_kill_and_check(struct tether_child *c, const char *what)
{
	struct tether_tree_stats st;
	int r = tether_child_kill_tree(c, SIGKILL);

	T_ASSERT(r == 0 || r == -ESRCH, "%s: kill_tree: %s", what, strerror(-r));
	T_ASSERT(tether_child_wait_tree(c, 20000) == 0, "%s: the tree did not end", what);
	T_ASSERT(tether_child_tree_pids(c, NULL, 0) == 0, "%s: members listed after the kill", what);
	tt_assert_none_left(tt_mark(), what);
	T_ASSERT(tether_child_tree_stats(c, &st) == 0, "stats");
	if (tether_child_tree(c) == TETHER_TREE_CGROUP)
		T_ASSERT(st.cgroup_removed, "%s: the tree's cgroup was not removed", what);
	t_info("%s: nothing left (%u when killed, %u signalled, %u rounds, %u reaped by the monitor%s)", what,
	       st.processes_at_kill, st.signalled, st.kill_rounds, st.reaped,
	       tether_child_tree(c) == TETHER_TREE_CGROUP ? ", cgroup removed" : "");
}

#endif

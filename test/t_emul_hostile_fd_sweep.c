/* SPDX-License-Identifier: MIT */
/*
 * A daemon's descriptor sweep (close_range(3, ~0U)) while the library
 * watches children, then the application opens its own files, which take
 * the numbers the library had. Each case in a fresh forked process:
 *  (a) "released": an autoreap program still runs when its handle is
 *      released (its monitor is then the reaper thread's to collect); the
 *      sweep; then the program is killed, and the application makes no
 *      library call at all: the monitor must still be reaped (no zombie
 *      tether-monitor), the reaper thread must end, and no descriptor of the
 *      library may stay open;
 *  (b) "autokill": the same with autokill, the handle kept alive by a dup()
 *      of the application's until the sweep closes it (which kills the
 *      program, as the kernel's own autokill does);
 *  (c) "fork-like": tether_clone3() autoreap children, with and without a
 *      pidfd of the caller's, and a fork-like autokill child, all watched by
 *      the reaper, next to a released spawned program: each one killed after
 *      the sweep is reaped (no zombie of ours);
 *  (d) "busy": the same sweep, then spawns, waits and releases right away,
 *      while the released program of before still runs;
 *  (e) "held": handles still held at the sweep (one program running, one
 *      ended and waited for), no reaper running: the next library call
 *      notices; the running program, whose pidfd went with the sweep, is
 *      then as if released, its monitor reaped when it ends.
 * Every case ends with more library work (spawns, waits, releases, a
 * fork-like child) that must work. Throughout, the application's files must
 * stay its own: none closed or replaced (compared with kcmp()), nothing
 * written to its eventfds, sockets or epolls, nothing read from its pipes.
 * Natively there is nothing of the library's to sweep: the same checks hold.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/kcmp.h>

#include "hostile_common.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_kcmp
#define SYS_kcmp 272
#endif

#define AR CLONE_AUTOREAP
#define REF_BASE 600 /* the test's reference copies of the application's files */
#define OPENS_REACH 48 /* the application opens enough files (a daemon's handful) to take every number below this */
#define MAX_APP 256

enum kind { K_EVENTFD, K_EPOLL, K_SOCKET, K_PIPE_RD, K_PIPE_WR, K_KINDS };
static const char *const kind_names[] = { "eventfd", "epoll", "socket", "pipe read end", "pipe write end" };

/* The application's files made after the sweep. */
static struct app {
	int n;
	int fd[MAX_APP], ref[MAX_APP];
	enum kind kind[MAX_APP];
	int max_lib; /* the highest number the library had before the sweep */
	int fds_after; /* the application's descriptors from then on */
	char lib[1024];
	char before[1024]; /* open when the case began: not the library's */
} app;

static bool emulated;

static int sleeper_fn(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static int exit5_fn(void *arg)
{
	(void)arg;
	return 5;
}

static void app_add(int fd, enum kind k)
{
	T_ASSERT(fd >= 0 && app.n < MAX_APP, "making the application's %s: %s", kind_names[k], strerror(errno));
	app.fd[app.n] = fd;
	app.ref[app.n] = fcntl(fd, F_DUPFD_CLOEXEC, REF_BASE);
	T_ASSERT(app.ref[app.n] >= REF_BASE, "F_DUPFD_CLOEXEC: %s", strerror(errno));
	app.kind[app.n++] = k;
}

/* One more file of the application's of each kind in turn; the lowest number it got. */
static int app_make_one(int i)
{
	int p[2], lo;

	switch ((enum kind)(i % 4)) {
	case K_EVENTFD:
		lo = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		app_add(lo, K_EVENTFD);
		return lo;
	case K_EPOLL:
		lo = epoll_create1(EPOLL_CLOEXEC);
		app_add(lo, K_EPOLL);
		return lo;
	case K_SOCKET:
		T_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, p) == 0, "socketpair");
		app_add(p[0], K_SOCKET);
		app_add(p[1], K_SOCKET);
		return p[0] < p[1] ? p[0] : p[1];
	default:
		/* A pipe with one byte in it: a read by the library would take it. */
		T_ASSERT(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0 && write(p[1], "x", 1) == 1, "pipe");
		app_add(p[0], K_PIPE_RD);
		app_add(p[1], K_PIPE_WR);
		return p[0] < p[1] ? p[0] : p[1];
	}
}

/*
 * The sweep, then the application's own files, made as a daemon makes them
 * (each takes the lowest free number) until every number the library had
 * (below OPENS_REACH) is taken, by the application or by whatever the
 * library has made since.
 */
static bool listed(const char *list, long fd)
{
	for (const char *p = list;; ) {
		char *end;
		long n = strtol(p, &end, 10);
		if (end == p)
			return false;
		if (n == fd)
			return true;
		p = end;
	}
}

static void sweep_and_reuse(const char *what)
{
	int max = 2;

	ts_fd_list(app.lib, sizeof(app.lib));
	for (char *p = app.lib, *end;; p = end) {
		long fd = strtol(p, &end, 10);
		if (end == p)
			break;
		if (fd > max && fd < OPENS_REACH && !listed(app.before, fd))
			max = (int)fd;
	}
	app.max_lib = max;
	T_ASSERT(syscall(SYS_close_range, 3U, ~0U, 0) == 0, "close_range: %s", strerror(errno));
	for (int i = 0; app_make_one(i) <= max; i++)
		;
	app.fds_after = 2 * app.n; /* each file and its reference copy */
	for (int fd = 0; fd < 3; fd++)
		app.fds_after += fcntl(fd, F_GETFD) >= 0;
	t_info("%s: swept descriptors %s (before the case: %s); %d files of the application's made since", what, app.lib, app.before, app.n);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;
	long r = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, a, b);

	if (r >= 0 || (errno != ENOSYS && errno != EPERM))
		return r == 0;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* No event and nothing watched (no "tfd:" line in its fdinfo). */
static bool epoll_is_empty(int ep)
{
	char path[64], line[256];
	struct epoll_event ev;
	bool empty = epoll_wait(ep, &ev, 1, 0) == 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	f = fopen(path, "re");
	while (empty && f && fgets(line, sizeof(line), f))
		empty = strncmp(line, "tfd:", 4) != 0;
	if (f)
		fclose(f);
	return empty;
}

/* The application's files are still its own, untouched. */
static void app_check(const char *what)
{
	for (int i = 0; i < app.n; i++) {
		int fd = app.fd[i], ref = app.ref[i];
		uint64_t v;
		char b[64];
		int q = 0;

		T_ASSERT(same_file(fd, ref), "%s: the application's %s on descriptor %d was closed or replaced", what,
			 kind_names[app.kind[i]], fd);
		switch (app.kind[i]) {
		case K_EVENTFD:
			T_ASSERT(read(ref, &v, sizeof(v)) < 0 && errno == EAGAIN,
				 "%s: something was written into the application's eventfd %d", what, fd);
			break;
		case K_EPOLL:
			T_ASSERT(epoll_is_empty(ref), "%s: something was added to the application's epoll %d", what, fd);
			break;
		case K_SOCKET:
			T_ASSERT(recv(ref, b, sizeof(b), MSG_DONTWAIT) < 0 && errno == EAGAIN,
				 "%s: something was sent to the application's socket %d", what, fd);
			break;
		case K_PIPE_RD:
			T_ASSERT(ioctl(ref, FIONREAD, &q) == 0 && q == 1,
				 "%s: something was read from the application's pipe %d (%d bytes left of 1)", what, fd, q);
			break;
		default:
			break;
		}
	}
}

/* Open descriptors, those of a memory checker's own (above our limit: valgrind's) left out. */
static int count_fds(void)
{
	char list[4096];
	struct rlimit rl;
	int n = 0;

	T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	ts_fd_list(list, sizeof(list));
	for (char *p = list, *end;; p = end) {
		long fd = strtol(p, &end, 10);
		if (end == p)
			return n;
		n += (rlim_t)fd < rl.rlim_cur;
	}
}

/* Nothing of the library's left: no thread, no descriptor, no zombie. */
static void expect_nothing_left(const char *what)
{
	siginfo_t si;
	int n;

	t_settle_threads();
	T_ASSERT(t_status_field(getpid(), "Threads") == 1, "%s: a thread of the library never ended", what);
	for (long long end = t_now_ms() + 5000; (n = count_fds()) != app.fds_after && t_now_ms() < end;)
		usleep(2000);
	if (n != app.fds_after) {
		char list[2048];
		ts_fd_list(list, sizeof(list));
		t_fail("%s: %d descriptors open, %d expected (the application's): %s", what, n, app.fds_after, list);
	}
	memset(&si, 0, sizeof(si));
	T_ASSERT(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 || si.si_pid == 0,
		 "%s: process %d is left a zombie of ours", what, (int)si.si_pid);
	app_check(what);
}

/* The monitors among our children now (emulated spawns only). */
static int monitors(pid_t *out, int max)
{
	return emulated ? t_find_monitors(out, max) : 0;
}

/* The monitor that is not among old[0..n) now, into old[0]: 1, or 0 (none). */
static int new_monitor(pid_t *old, int n)
{
	pid_t now[8];
	int m = monitors(now, 8);

	for (int i = 0; i < m; i++) {
		bool seen = false;
		for (int j = 0; j < n; j++)
			seen |= now[i] == old[j];
		if (!seen) {
			old[0] = now[i];
			return 1;
		}
	}
	return 0;
}

static void expect_reaped(const char *what, const pid_t *pids, int n, const char *whose)
{
	for (int i = 0; i < n; i++)
		T_ASSERT(t_wait_pid_reaped(pids[i], 20000),
			 "%s: %s %d is left a zombie (state %c): nobody reaped it after the sweep", what, whose,
			 (int)pids[i], t_proc_state(pids[i]));
}

/*
 * The sleepers of a case, each with its parent (a monitor, or us), so that
 * a failing case leaves no survivor behind: at exit, each one that is still
 * its parent's child (so not a reused pid) is killed. A case that passes
 * has killed them all and forgets them.
 */
static struct {
	pid_t pid, parent;
} sleepers[16];
static int n_sleepers;

static void sleepers_kill(void)
{
	for (int i = 0; i < n_sleepers; i++)
		if (hc_ppid(sleepers[i].pid) == sleepers[i].parent)
			t_kill(sleepers[i].pid, SIGKILL);
}

static pid_t sleeper_add(pid_t pid)
{
	if (pid > 0 && n_sleepers < (int)TS_N(sleepers)) {
		sleepers[n_sleepers].pid = pid;
		sleepers[n_sleepers++].parent = hc_ppid(pid);
	}
	return pid;
}

static pid_t spawn_sleeper(uint64_t flags, struct tether_child **c)
{
	int r = hc_spawn(c, flags, "sleep", NULL);
	T_ASSERT(r == 0, "spawn: %s", strerror(-r));
	return sleeper_add(tether_child_pid(*c));
}

static pid_t clone_sleeper(uint64_t flags, int *pidfd)
{
	return sleeper_add(t_clone_fn(flags, 0, pidfd, sleeper_fn, NULL));
}

/* Library work after the sweep: each kind of child, its status exact. */
static void later_work(const char *what)
{
	struct tether_child *c;
	struct tether_exit_info info;
	pid_t prog, mon[8], pid;
	int nm, pidfd = -1, r;

	r = hc_spawn(&c, AR | CLONE_NNP, "exit", "7", NULL);
	T_ASSERT(r == 0, "%s: spawn after the sweep: %s", what, strerror(-r));
	info = ts_wait(c, what);
	T_ASSERT(info.exited && info.exit_code == 7, "%s: status %#x, not exit 7", what, info.status);
	tether_child_release(c);

	prog = spawn_sleeper(HC_AUTOKILL_SPAWN, &c);
	tether_child_release(c);
	T_ASSERT(t_wait_pid_gone(prog, 20000), "%s: an autokill program outlived its released handle", what);

	nm = monitors(mon, 8);
	prog = spawn_sleeper(AR, &c);
	nm = new_monitor(mon, nm);
	tether_child_release(c);
	t_kill(prog, SIGKILL);
	expect_reaped(what, mon, nm, "the monitor of a program released after the sweep");

	pid = t_clone_fn(AR | CLONE_PIDFD, 0, &pidfd, exit5_fn, NULL);
	T_ASSERT(pid > 0, "%s: tether_clone3: %s", what, strerror(errno));
	T_ASSERT(t_pidfd_wait_readable(pidfd, 20000), "%s: the fork-like child did not end", what);
	T_ASSERT(t_pidfd_exit_status(pidfd) == 5 << 8, "%s: fork-like child's status %#x, not exit 5", what,
		 t_pidfd_exit_status(pidfd));
	T_ASSERT(tether_pidfd_close(pidfd) == 0, "tether_pidfd_close");
	T_ASSERT(t_wait_pid_reaped(pid, 20000), "%s: the fork-like child %d is left a zombie", what, (int)pid);
	expect_nothing_left(what);
}

/* A case's end: nothing of the library's left, and it still works. */
static int case_end(const char *what)
{
	expect_nothing_left(what);
	later_work(what);
	return 0;
}

static int case_released(void *arg)
{
	const char *what = "released";
	struct tether_child *c;
	pid_t prog, mon[8];
	int nm;

	(void)arg;
	prog = spawn_sleeper(AR, &c);
	nm = monitors(mon, 8);
	T_ASSERT(!emulated || nm == 1, "%s: %d monitors, not 1", what, nm);
	tether_child_release(c); /* it runs on: its monitor is the reaper's now */
	sweep_and_reuse(what);
	/* No library call from here on until the monitor is gone. */
	t_kill(prog, SIGKILL);
	T_ASSERT(t_wait_pid_gone(prog, 20000), "%s: the program did not end", what);
	expect_reaped(what, mon, nm, "the monitor of the released program");
	return case_end(what);
}

static int case_autokill(void *arg)
{
	const char *what = "autokill";
	struct tether_child *c;
	pid_t prog, mon[8];
	int nm, keep;

	(void)arg;
	prog = spawn_sleeper(HC_AUTOKILL_SPAWN, &c);
	nm = monitors(mon, 8);
	keep = tether_child_autokill_fd(c);
	T_ASSERT(keep >= 0, "tether_child_autokill_fd: %s", strerror(-keep));
	keep = fcntl(keep, F_DUPFD_CLOEXEC, 3);
	T_ASSERT(keep >= 0, "dup: %s", strerror(errno));
	tether_child_release(c);
	T_ASSERT(t_proc_state(prog) != 0 && t_proc_state(prog) != 'Z', "%s: the program died although its "
		 "autokill file is still open", what);
	sweep_and_reuse(what); /* closes the last reference: the program dies */
	T_ASSERT(t_wait_pid_gone(prog, 20000), "%s: the program outlived the sweep of its last autokill reference",
		 what);
	expect_reaped(what, mon, nm, "the monitor of the autokill program");
	return case_end(what);
}

static int case_fork_like(void *arg)
{
	const char *what = "fork-like";
	struct tether_child *c;
	pid_t kids[4], prog, mon[8];
	int nm, pidfd = -1, akfd = -1;

	(void)arg;
	prog = spawn_sleeper(AR, &c);
	tether_child_release(c);
	kids[0] = clone_sleeper(AR, NULL);               /* fire and forget */
	kids[1] = clone_sleeper(AR | CLONE_PIDFD, &pidfd); /* the caller's pidfd is swept */
	kids[2] = clone_sleeper(AR | CLONE_NNP, NULL);
	kids[3] = clone_sleeper(T_AUTOKILL_FLAGS, &akfd); /* its handle is swept: it dies */
	for (int i = 0; i < 4; i++)
		T_ASSERT(kids[i] > 0, "%s: tether_clone3 %d: %s", what, i, strerror(errno));
	nm = monitors(mon, 8);
	sweep_and_reuse(what);
	t_kill(prog, SIGKILL);
	for (int i = 0; i < 3; i++)
		t_kill(kids[i], SIGKILL);
	expect_reaped(what, kids, 4, "the fork-like child");
	expect_reaped(what, mon, nm, "the monitor");
	return case_end(what);
}

static int case_busy(void *arg)
{
	const char *what = "busy";
	struct tether_child *c, *c2;
	pid_t prog, prog2, mon[8], mon2[8], pid;
	int nm, nm2;

	(void)arg;
	prog = spawn_sleeper(AR, &c);
	nm = monitors(mon, 8);
	tether_child_release(c);
	sweep_and_reuse(what);
	/* At once, while the released program still runs: */
	nm2 = monitors(mon2, 8);
	prog2 = spawn_sleeper(AR | CLONE_NNP, &c2);
	nm2 = new_monitor(mon2, nm2);
	tether_child_release(c2);
	pid = clone_sleeper(AR, NULL);
	T_ASSERT(pid > 0, "%s: tether_clone3: %s", what, strerror(errno));
	app_check(what);
	t_kill(prog, SIGKILL);
	t_kill(prog2, SIGKILL);
	t_kill(pid, SIGKILL);
	expect_reaped(what, &pid, 1, "the fork-like child");
	expect_reaped(what, mon, nm, "the monitor released before the sweep");
	expect_reaped(what, mon2, nm2, "a monitor");
	return case_end(what);
}

static int case_held(void *arg)
{
	const char *what = "held";
	struct tether_child *c, *done;
	pid_t prog, mon[8];
	int nm, r;

	(void)arg;
	/* No reaper runs: only the next library call can notice the sweep. */
	prog = spawn_sleeper(AR | CLONE_NNP, &c);
	r = hc_spawn(&done, AR, "exit", "3", NULL);
	T_ASSERT(r == 0, "spawn: %s", strerror(-r));
	ts_wait(done, what); /* ended and waited for, its handle still held */
	nm = monitors(mon, 8);
	sweep_and_reuse(what);
	app_check(what);
	/* Both handles' pidfds went with the sweep: they are never used again
	 * (releasing them would close the application's files: its own double
	 * close). The next call notices the sweep; the program still running
	 * is then as if released. */
	r = hc_spawn(&done, AR, "exit", "4", NULL);
	T_ASSERT(r == 0, "%s: spawn after the sweep: %s", what, strerror(-r));
	T_ASSERT(ts_wait(done, what).exit_code == 4, "%s: not exit 4", what);
	tether_child_release(done);
	app_check(what);
	t_kill(prog, SIGKILL);
	expect_reaped(what, mon, nm, "the monitor of a program whose handle was swept");
	return case_end(what);
}

static int (*const cases[])(void *) = { case_released, case_autokill, case_fork_like, case_busy, case_held };
static const char *const names[] = { "released", "autokill", "fork-like", "busy", "held" };

static int run_case(void *arg)
{
	int r;

	atexit(sleepers_kill);
	r = cases[(intptr_t)arg](NULL);
	n_sleepers = 0; /* passed: every one was killed, and may be reaped by now */
	return r;
}

int main(int argc, char **argv)
{
	hc_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	emulated = t_emulated(AR);
	for (size_t i = 0; i < TS_N(cases); i++) {
		if (argc == 3 && strcmp(argv[1], "case") == 0 && strcmp(argv[2], names[i]) != 0)
			continue; /* "case NAME": that one alone */
		ts_fd_list(app.before, sizeof(app.before));
		int st = t_in_subprocess(run_case, (void *)(intptr_t)i);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "case %s failed (status %#x)", names[i], st);
	}
	t_pass("a descriptor sweep leaves no zombie, no thread and no descriptor of the library behind, later calls "
	       "work, and the application's files stay its own (%s backend)",
	       t_backend_word(AR));
}

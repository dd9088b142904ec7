/* SPDX-License-Identifier: MIT */
/*
 * A full pid space while creating children: clone3() fails with EAGAIN when
 * alloc_pid() finds no free pid, and tether_spawn() (every valid lifecycle
 * flag combination) and tether_clone3() (plain, CLONE_NNP, CLONE_AUTOREAP,
 * CLONE_AUTOREAP|CLONE_NNP|CLONE_PIDFD_AUTOKILL) must then fail with EAGAIN
 * and leave nothing behind: no fd, no zombie, no stray process, no thread of
 * the library (the tether-warden, once started, stays: it is per creator).
 * The emulation needs more pids than the child's own (its reaper thread, the
 * warden), so the calls are also made with 1 to 4 free pids, where each must
 * either work or fail just as cleanly. The first autokill call meets a full
 * pid space, so the warden cannot start. Once pids are free again, every
 * case works and reports its exit status.
 *
 * The pid space filled is never the host's: the test runs in a new pid
 * namespace whose pid_max is lowered (per pid namespace since Linux 6.14,
 * written from inside it; the host's value is checked to stay the same).
 * Where pid_max is global, it skips, except inside the test VM (the runner is
 * PID 1 there), which is disposable: there it lowers the global pid_max for
 * the run and restores it. Placeholder processes (children of a "filler"
 * process in the namespace) take every free pid, and the filler frees exactly
 * as many as a case asks for.
 */
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>

#include "spawn_common.h"

/* The first of this process's tether monitors, or 0. Monitors end with their
 * children: once everything is released, none may be left. */
static pid_t t_find_warden(void)
{
	pid_t m = 0;
	return t_find_monitors(&m, 1) == 1 ? m : 0;
}

#define PID_MAX_PATH "/proc/sys/kernel/pid_max"
#define LIMIT 400 /* pids 300..399 are reused after the wrap (RESERVED_PIDS is 300) */
#define MAX_PLACEHOLDERS 4096
#define MAX_SPARE 4

#define AR CLONE_AUTOREAP
#define AK CLONE_PIDFD_AUTOKILL

struct pcase {
	bool spawn;
	uint64_t flags;
	int exit_signal;
	const char *name;
	int min_spare; /* fewest free pids it worked with, -1 for never */
};

/* Autokill first: the first autokill call meets a full pid space and no warden. */
static struct pcase cases[] = {
	{ true, AR | CLONE_NNP | AK, 0, "spawn AUTOREAP|NNP|AUTOKILL", -1 },
	{ false, T_AUTOKILL_FLAGS, 0, "clone3 AUTOREAP|NNP|AUTOKILL|PIDFD", -1 },
	{ true, AR | AK, 0, "spawn AUTOREAP|AUTOKILL", -1 }, /* root: CAP_SYS_ADMIN */
	{ true, 0, 0, "spawn", -1 },
	{ true, AR, 0, "spawn AUTOREAP", -1 },
	{ true, CLONE_NNP, 0, "spawn NNP", -1 },
	{ true, AR | CLONE_NNP, 0, "spawn AUTOREAP|NNP", -1 },
	{ false, 0, SIGCHLD, "clone3 plain", -1 },
	{ false, CLONE_PIDFD, SIGCHLD, "clone3 PIDFD", -1 },
	{ false, CLONE_PIDFD | CLONE_NNP, SIGCHLD, "clone3 NNP|PIDFD", -1 },
	{ false, CLONE_PIDFD | AR, 0, "clone3 AUTOREAP|PIDFD", -1 },
};

/* ---- pid_max: which namespace it belongs to ---- */

static long read_pid_max(void)
{
	char buf[32] = "";
	int fd = open(PID_MAX_PATH, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static int write_pid_max(long v)
{
	char buf[32];
	int fd = open(PID_MAX_PATH, O_WRONLY | O_CLOEXEC), len, r = 0;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", v);
	if (write(fd, buf, (size_t)len) != len)
		r = -errno;
	close(fd);
	return r;
}

/* In a forked process: a new pid namespace and its first process, which runs fn; its exit code. */
static int in_new_pidns(int (*prepare)(void), int (*fn)(int), int arg)
{
	int status;
	pid_t mid = fork();

	T_ASSERT(mid >= 0, "fork: %s", strerror(errno));
	if (mid == 0) {
		if (prepare && prepare() < 0)
			_exit(3);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(errno == EPERM ? 4 : 5);
		pid_t init = fork();
		if (init == 0)
			_exit(fn(arg));
		if (init < 0 || waitpid(init, &status, 0) != init)
			_exit(5);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 5);
	}
	T_ASSERT(waitpid(mid, &status, 0) == mid, "waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 5;
}

static int report_pid_max(int fd)
{
	long v = read_pid_max(); /* the sysctl answers for the reader's pid namespace */
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : 1;
}

/* An unprivileged user namespace of our own: uid 0 in it is 65534 outside. */
static int own_userns(void)
{
	char map[32];
	int fd;

	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return -1;
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* our /proc/self files are ours again */
	if (unshare(CLONE_NEWUSER) < 0)
		return -1;
	static const char *const files[] = { "/proc/self/setgroups", "/proc/self/uid_map", "/proc/self/gid_map" };
	for (size_t i = 0; i < TS_N(files); i++) {
		snprintf(map, sizeof(map), i ? "0 65534 1\n" : "deny\n");
		fd = open(files[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
			return -1;
		close(fd);
	}
	return 0;
}

/*
 * Root of a user namespace whose uid 0 is not the host's root may write
 * pid_max only where the sysctl is its pid namespace's own (the kernel lets
 * a namespace's admin write it); the global one refuses anyone but the
 * host's root. It writes back the value it read: no change either way.
 */
static int try_write_pid_max(int unused)
{
	(void)unused;
	return write_pid_max(read_pid_max()) == 0 ? 0 : 1;
}

/* Whether pid_max is per pid namespace: proved, never assumed from a version. */
static bool pid_max_per_namespace(long host)
{
	int p[2], code;
	long fresh = -1;

	T_ASSERT(pipe2(p, O_CLOEXEC) == 0, "pipe2");
	code = in_new_pidns(NULL, report_pid_max, p[1]);
	close(p[1]);
	if (code == 4)
		t_skip("no pid namespace for us (unshare(CLONE_NEWPID): EPERM)");
	T_ASSERT(code == 0 && read(p[0], &fresh, sizeof(fresh)) == sizeof(fresh), "reading pid_max in a new pid namespace");
	close(p[0]);
	if (fresh != host) {
		/* A global pid_max reads the same from every namespace. */
		t_info("pid_max: %ld here, %ld in a new pid namespace: per namespace", host, fresh);
		return true;
	}
	code = in_new_pidns(own_userns, try_write_pid_max, 0);
	t_info("pid_max: %ld here and in a new pid namespace; a user namespace's root %s write it",
	       host, code == 0 ? "may" : "may not");
	return code == 0;
}

/* The test VM: the runner is /init (PID 1) and the kernel command line carries its settings. */
static bool in_test_vm(void)
{
	char buf[4096] = "";
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return getppid() == 1 && n > 0 && strstr(buf, "tether.label=");
}

static long restore_value = -1;
static pid_t restore_owner;

static void restore_pid_max(void)
{
	if (getpid() == restore_owner && restore_value > 0 && write_pid_max(restore_value) == 0)
		restore_value = -1;
}

/* ---- the filler: placeholder processes that take every free pid ---- */

struct filler_cmd {
	char op; /* 'F' fill, 'K' kill arg placeholders, 'X' kill all and exit */
	int arg;
};

static struct filler {
	pid_t pid;
	int cmd, rep;
	int count; /* placeholders alive */
} filler = { .pid = -1, .cmd = -1, .rep = -1 };

static bool read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* A single-threaded process: fork() and async-signal-safe calls only. Replies a count or -errno. */
static _Noreturn void filler_main(int cmd, int rep)
{
	static pid_t ph[MAX_PLACEHOLDERS];
	struct filler_cmd c;
	int n = 0, reply;

	while (read_full(cmd, &c, sizeof(c))) {
		reply = 0;
		if (c.op == 'F') {
			for (;;) {
				if (n == MAX_PLACEHOLDERS) {
					reply = -E2BIG;
					break;
				}
				pid_t p = fork();
				if (p == 0) {
					for (int fd = 0; fd < 64; fd++)
						close(fd); /* holds nothing of ours: no pipe stays open */
					for (;;)
						pause();
				}
				if (p < 0) {
					reply = errno == EAGAIN ? n : -errno;
					break;
				}
				ph[n++] = p;
			}
		} else if (c.op == 'K' || c.op == 'X') {
			int k = c.op == 'X' ? n : c.arg;
			if (k > n)
				k = -1;
			/* The highest pids: those above RESERVED_PIDS are reused after the wrap. */
			for (int j = 0; j < k; j++) {
				int top = 0;
				for (int i = 1; i < n; i++)
					if (ph[i] > ph[top])
						top = i;
				t_kill(ph[top], SIGKILL);
				while (waitpid(ph[top], NULL, 0) < 0 && errno == EINTR)
					;
				ph[top] = ph[--n];
			}
			reply = k < 0 ? -ESRCH : n;
		}
		if (write(rep, &reply, sizeof(reply)) != sizeof(reply) || c.op == 'X')
			break;
	}
	for (int i = 0; i < n; i++)
		t_kill(ph[i], SIGKILL);
	_exit(0);
}

static void filler_start(void)
{
	int cmd[2], rep[2];

	T_ASSERT(pipe2(cmd, O_CLOEXEC) == 0 && pipe2(rep, O_CLOEXEC) == 0, "pipe2");
	fflush(stdout);
	filler.pid = fork();
	T_ASSERT(filler.pid >= 0, "fork: %s", strerror(errno));
	if (filler.pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		filler_main(cmd[0], rep[1]);
	}
	close(cmd[0]);
	close(rep[1]);
	filler.cmd = cmd[1];
	filler.rep = rep[0];
}

static int filler_do(char op, int arg)
{
	struct filler_cmd c = { .op = op, .arg = arg };
	int reply;

	T_ASSERT(write(filler.cmd, &c, sizeof(c)) == sizeof(c) && read_full(filler.rep, &reply, sizeof(reply)),
		 "the filler process is gone");
	T_ASSERT(reply >= 0, "filler '%c' %d: %s", op, arg, strerror(-reply));
	filler.count = reply;
	return reply;
}

/*
 * Take every free pid. A thread that ended (the library's reaper) releases
 * itself, and its pid number is freed a moment after it left the thread
 * count: fill until a fill a little later finds nothing more.
 */
static void fill(void)
{
	filler_do('F', 0);
	for (int round = 0; round < 100; round++) {
		int before = filler.count;
		usleep(5000);
		if (filler_do('F', 0) == before)
			return;
	}
	t_fail("pids keep coming free in a namespace where nothing runs");
}

static void filler_stop(void)
{
	int status;

	filler_do('X', 0);
	T_ASSERT(waitpid(filler.pid, &status, 0) == filler.pid && WIFEXITED(status), "filler exit");
	close(filler.cmd);
	close(filler.rep);
	filler.pid = -1;
	filler.count = 0;
}

/* ---- what must be left: nothing but the warden ---- */

static int base_fds;

/* Processes of our pid namespace (our /proc is its). */
static int ns_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] >= '1' && e->d_name[0] <= '9';
	if (d)
		closedir(d);
	return n;
}

/* Live children other than the filler and the warden. */
static int strays(pid_t warden, pid_t *first)
{
	pid_t live[64];
	int n = t_live_children(live, 64), k = 0;

	for (int i = 0; i < n; i++)
		if (live[i] != warden && live[i] != filler.pid && k++ == 0)
			*first = live[i];
	return k;
}

/* Wait (bounded) until the library runs nothing but the warden: no other child, no thread. */
static void settle(const char *what)
{
	pid_t stray = 0;

	for (long long end = t_now_ms() + 10000;
	     strays(t_find_warden(), &stray) > 0 || t_status_field(getpid(), "Threads") != 1; usleep(1000))
		T_ASSERT(t_now_ms() < end, "%s: left %s (pid %d, %ld threads)", what,
			 stray ? "a child alive" : "a thread running", (int)stray, t_status_field(getpid(), "Threads"));
}

static void check_clean(const char *what)
{
	siginfo_t si = { 0 };
	pid_t warden;
	int want;

	settle(what);
	warden = t_find_warden();
	T_ASSERT(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 || si.si_pid == 0,
		 "%s: a zombie child (pid %d) was left", what, (int)si.si_pid);
	/* A monitor left would hold 3 fds of ours: its pidfd and the image pipe. */
	want = base_fds + (filler.pid > 0 ? 2 : 0) + (warden ? 3 : 0);
	T_ASSERT(t_count_fds() == want, "%s: %d fd(s) open, expected %d%s", what, t_count_fds(), want,
		 warden ? " (with a monitor's 3)" : "");
	want = 1 + (filler.pid > 0) + filler.count + (warden ? 1 : 0);
	T_ASSERT(ns_processes() == want, "%s: %d processes in the namespace, expected %d", what, ns_processes(),
		 want);
}

/* ---- the cases ---- */

/* Where the last spawn failed (tether_spawnx()), for messages. */
static enum tether_spawn_stage failed_stage;

/* The child's exit code: code, plus 1 when it has no_new_privs. */
static int run_case(const struct pcase *pc, int code)
{
	int expect = code + !!(pc->flags & CLONE_NNP), status = -1, pidfd = -1;

	if (pc->spawn) {
		struct tether_spawn_attr *attr = ts_attr_flags(pc->flags);
		struct tether_child *c = NULL;
		struct tether_exit_info info;
		enum tether_spawn_stage stage;
		char num[16];
		char *argv[] = { (char *)TS_SELF, (char *)"child", (char *)"pidns-exit", num, NULL };
		int r;

		snprintf(num, sizeof(num), "%d", code);
		r = tether_spawnx(&c, TS_SELF, 0, NULL, attr, argv, NULL, &stage);
		tether_spawn_attr_destroy(attr);
		failed_stage = stage;
		if (r < 0)
			return r;
		r = tether_child_wait(c, 20000, &info);
		T_ASSERT(r == 0, "%s: tether_child_wait: %s", pc->name, strerror(-r));
		T_ASSERT(info.exited && info.exit_code == expect, "%s: exit code %d (signal %d), expected %d",
			 pc->name, info.exit_code, info.signal, expect);
		tether_child_release(c);
		return 0;
	}

	pid_t pid = t_clone(pc->flags, pc->exit_signal, &pidfd);
	if (pid == 0) /* a copy of a threaded process: system calls only */
		_exit(code + prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	if (pid < 0)
		return -errno;
	if (pc->flags & CLONE_AUTOREAP) {
		T_ASSERT(t_pidfd_wait_readable(pidfd, 20000), "%s: the child did not exit", pc->name);
		status = t_pidfd_exit_status(pidfd);
	} else {
		T_ASSERT(waitpid(pid, &status, 0) == pid, "%s: waitpid: %s", pc->name, strerror(errno));
	}
	if (pc->flags & CLONE_PIDFD)
		tether_pidfd_close(pidfd);
	T_ASSERT(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == expect,
		 "%s: status %#x, expected exit code %d", pc->name, (unsigned)status, expect);
	return 0;
}

static bool skipped(const struct pcase *pc)
{
	return t_native_without(pc->flags);
}

/* With exactly `spare` free pids (0: the pid space is full): works, or fails with EAGAIN and leaves nothing. */
static void with_spare_pids(struct pcase *pc, int spare, int code)
{
	char what[160];
	int r;

	snprintf(what, sizeof(what), "%s with %d free pid(s)", pc->name, spare);
	settle(what);
	fill();
	if (spare)
		filler_do('K', spare);
	failed_stage = TETHER_SPAWN_STAGE_NONE;
	r = run_case(pc, code);
	if (r == 0) {
		T_ASSERT(spare > 0, "%s: created a child", what);
		if (pc->min_spare < 0)
			pc->min_spare = spare;
	} else {
		T_ASSERT(r == -EAGAIN, "%s: %s, expected EAGAIN%s", what, strerror(-r),
			 !pc->spawn ? "" : failed_stage == TETHER_SPAWN_STAGE_PARENT ? " (spawn stage: parent)"
					  : failed_stage == TETHER_SPAWN_STAGE_CHILD ? " (spawn stage: child)"
										      : " (spawn stage: exec)");
		T_ASSERT(pc->min_spare < 0, "%s: EAGAIN, but it worked with %d", what, pc->min_spare);
	}
	check_clean(what);
	if (spare == 0) {
		/* No pid for a warden either: none may exist yet. */
		T_ASSERT(t_find_warden() == 0, "%s: a warden started without a free pid", what);
		t_info("%s: EAGAIN, nothing left behind", what);
	}
}

static int worker(int from_outer, int to_outer, bool per_ns)
{
	char go;
	int n, ncases = (int)TS_N(cases), skips = 0;
	bool emulated = false;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	/* Our own /proc: pids, /proc/self and the children files as this namespace sees them. */
	T_ASSERT(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS): %s", strerror(errno));
	T_ASSERT(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make mounts private: %s", strerror(errno));
	T_ASSERT(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0, "mount proc: %s",
		 strerror(errno));
	T_ASSERT(getpid() == 1, "not the first process of a new pid namespace");
	(void)tether_features(); /* probed once, before any pid is short */
	if (per_ns) {
		T_ASSERT(write_pid_max(LIMIT) == 0, "writing this namespace's pid_max: %s", strerror(errno));
		T_ASSERT(read_pid_max() == LIMIT, "this namespace's pid_max reads %ld after writing %d", read_pid_max(),
			 LIMIT);
	}
	/* The host checks (per namespace) or sets (VM) the global value meanwhile. */
	T_ASSERT(write(to_outer, "R", 1) == 1 && read(from_outer, &go, 1) == 1 && go == 'G', "handshake");

	for (int i = 0; i < ncases; i++) {
		emulated |= t_emulated(cases[i].flags);
		if (skipped(&cases[i])) {
			t_info("%s: skipped (native backend, the kernel has no such flags)", cases[i].name);
			skips++;
		}
	}
	base_fds = t_count_fds();
	filler_start();
	T_ASSERT(t_find_warden() == 0, "a warden before any autokill child");

	fill();
	n = filler.count;
	t_info("%d placeholder processes fill the pid space (pid_max %d, %s)", n, LIMIT,
	       per_ns ? "this namespace's" : "global, in the test VM");
	T_ASSERT(!per_ns || n > 300 - 16, "only %d processes filled a pid space of %d", n, LIMIT);
	check_clean("the full pid space");

	for (int spare = 0; spare <= MAX_SPARE; spare++)
		for (int i = 0; i < ncases; i++)
			if (!skipped(&cases[i]))
				with_spare_pids(&cases[i], spare, 10 + 2 * i);
	for (int i = 0; i < ncases; i++)
		if (!skipped(&cases[i]))
			t_info("%s: works with %d free pid(s) or more", cases[i].name, cases[i].min_spare);

	/* Pids free again: every case works and reports its exit status. */
	settle("before freeing the pids");
	filler_stop();
	for (int i = 0; i < ncases; i++) {
		if (skipped(&cases[i]))
			continue;
		int r = run_case(&cases[i], 40 + 2 * i);
		T_ASSERT(r == 0, "%s after the pids were freed: %s", cases[i].name, strerror(-r));
		check_clean(cases[i].name);
	}
	t_info("with free pids again: all %d case(s) work and report their exit status", ncases - skips);
	t_info("a full pid space gives EAGAIN and leaves nothing behind (%s backend for the flags)",
	       emulated ? "emulate" : "native");
	return 0;
}

/* The middle process's exit codes, besides the worker's own 0, 1 and 77. */
enum { MID_NO_PIDNS = 4, MID_HANDSHAKE = 5, MID_HOST_CHANGED = 6, MID_SIGNAL = 100 };

/*
 * Between the host and the namespace: it makes the namespace (its children
 * are in it; our own stay where they are), checks the host's pid_max once
 * the namespace has written its own, or lowers the global one in the VM,
 * waits for the worker and restores. Exits with _exit() only: its children
 * would be in a namespace that is gone.
 */
static _Noreturn void middle(long host, bool per_ns)
{
	int to_w[2], from_w[2], status;
	char ready;
	pid_t w;

	if (pipe2(to_w, O_CLOEXEC) < 0 || pipe2(from_w, O_CLOEXEC) < 0)
		_exit(MID_HANDSHAKE);
	if (unshare(CLONE_NEWPID) < 0)
		_exit(MID_NO_PIDNS);
	w = fork();
	if (w == 0) {
		close(to_w[1]);
		close(from_w[0]);
		exit(worker(to_w[0], from_w[1], per_ns));
	}
	if (w < 0)
		_exit(MID_HANDSHAKE);
	close(to_w[0]);
	close(from_w[1]);
	if (read(from_w[0], &ready, 1) == 1) {
		if (per_ns && read_pid_max() != host) {
			write_pid_max(host);
			t_kill(w, SIGKILL);
			_exit(MID_HOST_CHANGED);
		}
		if ((!per_ns && write_pid_max(LIMIT) < 0) || write(to_w[1], "G", 1) != 1) {
			t_kill(w, SIGKILL);
			_exit(MID_HANDSHAKE);
		}
	}
	while (waitpid(w, &status, 0) < 0 && errno == EINTR)
		;
	if (!per_ns)
		write_pid_max(host);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : MID_SIGNAL + WTERMSIG(status));
}

int main(int argc, char **argv)
{
	int status, code;
	long host;
	bool per_ns;
	pid_t mid;

	if (argc > 3 && strcmp(argv[1], "child") == 0 && strcmp(argv[2], "pidns-exit") == 0)
		_exit(atoi(argv[3]) + prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	ts_child_dispatch(argc, argv);
	if (geteuid() != 0)
		t_skip("needs root: a pid namespace and its pid_max");

	host = read_pid_max();
	T_ASSERT(host > 0, "reading %s: %s", PID_MAX_PATH, strerror(errno));
	per_ns = pid_max_per_namespace(host);
	T_ASSERT(read_pid_max() == host, "the probe changed the host's pid_max (now %ld)", read_pid_max());
	if (!per_ns && !in_test_vm())
		t_skip("pid_max is global on this kernel (per pid namespace since 6.14): filling a pid space would "
		       "fill the host's; done only in the test VM");
	if (!per_ns) {
		/* Restored by the middle process; by us too should it die first. */
		restore_owner = getpid();
		restore_value = host;
		atexit(restore_pid_max);
	}

	fflush(stdout);
	mid = fork();
	T_ASSERT(mid >= 0, "fork: %s", strerror(errno));
	if (mid == 0)
		middle(host, per_ns);
	T_ASSERT(waitpid(mid, &status, 0) == mid, "waitpid: %s", strerror(errno));
	code = WIFEXITED(status) ? WEXITSTATUS(status) : MID_SIGNAL + WTERMSIG(status);
	if (!per_ns && read_pid_max() != host) {
		restore_pid_max();
		t_info("the global pid_max was still %d: restored by the test", LIMIT);
	}
	T_ASSERT(read_pid_max() == host, "the host's pid_max is %ld, was %ld", read_pid_max(), host);
	switch (code) {
	case 0:
		break;
	case T_EXIT_FAIL:
	case T_EXIT_SKIP:
		exit(code); /* the worker said why */
	case MID_NO_PIDNS:
		t_skip("no pid namespace for us (unshare(CLONE_NEWPID): EPERM)");
	case MID_HOST_CHANGED:
		t_fail("writing pid_max in the namespace changed the host's; restored");
	case MID_HANDSHAKE:
		t_fail("setting up the namespace failed");
	default:
		t_fail("the namespace's first process %s %d", code >= MID_SIGNAL ? "died of signal" : "exited with",
		       code >= MID_SIGNAL ? code - MID_SIGNAL : code);
	}
	t_pass("full pid space: clean EAGAIN, nothing left behind, working again once pids are free "
	       "(host pid_max %ld %s)",
	       host, per_ns ? "untouched" : "lowered and restored, in the test VM");
}

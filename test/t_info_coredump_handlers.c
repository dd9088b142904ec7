/* SPDX-License-Identifier: MIT */
/*
 * Coredump information with a core handler the kernel records on the
 * pidfd: a pipe helper given the crashing process's pidfd
 * (core_pattern "|h_coredump_pipe DIR %p %F") and the coredump socket
 * ("@SOCKET", served by h_coredump_socket). For each handler, children
 * crash the ways the kernel's selftests make them (tools/testing/
 * selftests/coredump/): a NULL dereference (SIGSEGV, SEGV_MAPERR), abort()
 * (SIGABRT, SI_TKILL), kill(SIGSEGV) from another process (SI_USER),
 * RLIMIT_CORE 0 (which refuses nothing to a pipe or socket), RLIMIT_CORE 1
 * (a pipe refuses it: the kernel's recursion guard) and a non-dumpable
 * process (no dump at all). What tether reports is checked through
 * tether_pidfd_get_info(), tether_child_wait()'s exit info and
 * `tether run --report=json` / `--report`:
 *   - kernels with coredump_code (7.1+): PIDFD_INFO_COREDUMP with
 *     PIDFD_COREDUMPED, COREDUMP_SIGNAL and COREDUMP_CODE, exact values;
 *   - kernels with coredump info but no code (6.16-7.0): mask and signal
 *     right, the code reported as unavailable (null);
 *   - kernels without coredump info: only what the wait status says;
 *   - a refused dump: no PIDFD_COREDUMPED, no signal, no code (a live
 *     non-dumpable process reads PIDFD_COREDUMP_SKIP).
 * Never an invented value, on either backend.
 *
 * core_pattern is global to the machine: the test changes it only inside
 * the test VM (TETHER_TEST_VM=1, set by the VM's /init, test/runner.c, as
 * root) and restores it at exit. The runner runs one test at a time, so no
 * other test sees the handler. Elsewhere it skips.
 */
#include <libgen.h>
#include <sys/resource.h>

#include "cli_common.h"

#define CORE_PATTERN "/proc/sys/kernel/core_pattern"

enum how { HOW_NULL, HOW_ABORT, HOW_KILL, HOW_RLIMIT0, HOW_RLIMIT1, HOW_NODUMP };

static const struct crash_case {
	enum how how;
	const char *name;
	int sig;
	int code; /* the si_code the kernel records with the dump */
} cases[] = {
	{ HOW_NULL, "null", SIGSEGV, SEGV_MAPERR },
	{ HOW_ABORT, "abort", SIGABRT, SI_TKILL },
	{ HOW_KILL, "kill", SIGSEGV, SI_USER },
	{ HOW_RLIMIT0, "rlimit0", SIGSEGV, SEGV_MAPERR },
	{ HOW_RLIMIT1, "rlimit1", SIGSEGV, SEGV_MAPERR },
	{ HOW_NODUMP, "nodump", SIGSEGV, SEGV_MAPERR },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

enum handler { H_PIPE, H_SOCKET };
static const char *const handler_name[] = { "pipe", "socket" };

static char saved_pattern[512];
static bool pattern_saved;
static pid_t main_pid;
static char logdir[256];
static unsigned int feat;

/* ---- the crashing side ---- */

/* Limits and dumpability of the case; default dispositions (a sanitizer's
 * handlers would otherwise turn the crash into an exit). */
static void crash_setup(enum how how)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	if (how == HOW_RLIMIT0)
		rl.rlim_cur = rl.rlim_max = 0;
	else if (how == HOW_RLIMIT1)
		rl.rlim_cur = rl.rlim_max = 1;
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		_exit(100);
	if (prctl(PR_SET_DUMPABLE, how == HOW_NODUMP ? 0 : 1, 0, 0, 0) < 0)
		_exit(101);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
}

static __attribute__((noreturn, no_sanitize("undefined", "address"))) void crash_now(enum how how)
{
	if (how == HOW_ABORT)
		abort();
	if (how == HOW_KILL)
		for (;;)
			pause(); /* until another process's kill() */
	/* volatile: the compiler must neither see the NULL nor turn it into a trap */
	int *volatile p = NULL;
	*(volatile int *)p = 1;
	_exit(102);
}

/* "self crash HOW": the program tether_spawn() and tether(1) run. */
static void crash_dispatch(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "crash") != 0)
		return;
	for (size_t i = 0; i < NCASES; i++) {
		if (strcmp(argv[2], cases[i].name) != 0)
			continue;
		crash_setup(cases[i].how);
		if (cases[i].how == HOW_KILL) {
			/* Another process sends the signal: a child of ours. */
			pid_t k = fork();
			if (k == 0)
				_exit(t_safe_kill(getppid(), SIGSEGV) == 0 ? 0 : 1);
			if (k < 0)
				_exit(103);
		}
		crash_now(cases[i].how);
	}
	_exit(104);
}

/* ---- core_pattern ---- */

static int write_pattern(const char *p)
{
	int fd = open(CORE_PATTERN, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, p, strlen(p));
	n = n < 0 ? -errno : n;
	close(fd);
	return n < 0 ? (int)n : 0;
}

static void restore_pattern(void)
{
	if (pattern_saved && getpid() == main_pid) {
		int r = write_pattern(saved_pattern[0] ? saved_pattern : "core");
		if (r < 0)
			printf("FAIL: restoring core_pattern '%s': %s\n", saved_pattern, strerror(-r));
		pattern_saved = false;
	}
}

static void save_pattern(void)
{
	int fd = open(CORE_PATTERN, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	T_ASSERT(fd >= 0, "open %s: %s", CORE_PATTERN, strerror(errno));
	n = read(fd, saved_pattern, sizeof(saved_pattern) - 1);
	close(fd);
	T_ASSERT(n >= 0, "read %s: %s", CORE_PATTERN, strerror(errno));
	saved_pattern[n] = '\0';
	saved_pattern[strcspn(saved_pattern, "\n")] = '\0';
	pattern_saved = true;
	atexit(restore_pattern);
}

/* The coredump socket (6.16+) is known by its validation: a relative "@"
 * path is refused with EINVAL, where older kernels take it as a file name. */
static bool kernel_has_coredump_socket(void)
{
	int r = write_pattern("@tether-probe");

	if (r == 0) {
		T_ASSERT(write_pattern(saved_pattern) == 0, "restoring core_pattern");
		return false;
	}
	T_ASSERT(r == -EINVAL, "probing the coredump socket: %s", strerror(-r));
	return true;
}

/* ---- the handlers ---- */

static char helper_dir[256];

static void find_helpers(void)
{
	char exe[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	T_ASSERT(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	snprintf(helper_dir, sizeof(helper_dir), "%s", dirname(exe));
}

struct server {
	pid_t pid;
	int in; /* its stdin: closing it ends the server */
};

static void start_handler(enum handler h, struct server *srv)
{
	char pattern[1024], helper[300], sock[300];

	srv->pid = -1;
	srv->in = -1;
	if (h == H_PIPE) {
		snprintf(helper, sizeof(helper), "%s/h_coredump_pipe", helper_dir);
		T_ASSERT(access(helper, X_OK) == 0, "%s: %s", helper, strerror(errno));
		/* %F last: kernels without it expand it to nothing. */
		snprintf(pattern, sizeof(pattern), "|%s %s %%p %%F", helper, logdir);
	} else {
		int to[2], from[2];
		char line[16] = "";
		struct pollfd p;

		snprintf(helper, sizeof(helper), "%s/h_coredump_socket", helper_dir);
		snprintf(sock, sizeof(sock), "%s/core.sock", logdir);
		T_ASSERT(access(helper, X_OK) == 0, "%s: %s", helper, strerror(errno));
		T_ASSERT(pipe2(to, O_CLOEXEC) == 0 && pipe2(from, O_CLOEXEC) == 0, "pipe2");
		srv->pid = fork();
		T_ASSERT(srv->pid >= 0, "fork: %s", strerror(errno));
		if (srv->pid == 0) {
			dup2(to[0], STDIN_FILENO);
			dup2(from[1], STDOUT_FILENO);
			execl(helper, helper, sock, logdir, (char *)NULL);
			_exit(127);
		}
		close(to[0]);
		close(from[1]);
		srv->in = to[1];
		p = (struct pollfd){ .fd = from[0], .events = POLLIN };
		T_ASSERT(poll(&p, 1, 60000) == 1 && read(from[0], line, sizeof(line) - 1) > 0 &&
				 strncmp(line, "ready", 5) == 0,
			 "h_coredump_socket did not get ready");
		close(from[0]);
		snprintf(pattern, sizeof(pattern), "@%s", sock);
	}
	T_ASSERT(write_pattern(pattern) == 0, "core_pattern '%s': %s", pattern, strerror(errno));
	t_info("core_pattern '%s'", pattern);
}

static void stop_handler(struct server *srv)
{
	int st;

	T_ASSERT(write_pattern(saved_pattern) == 0, "restoring core_pattern");
	if (srv->pid > 0) {
		close(srv->in);
		T_ASSERT(waitpid(srv->pid, &st, 0) == srv->pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			 "h_coredump_socket ended with status %#x", st);
	}
}

/* ---- what is expected ---- */

/* What one interface reported about a crash. */
struct seen {
	int status; /* wait status (exit_code) */
	bool coredumped_known; /* the interface can tell coredump_mask */
	bool have_info;
	unsigned int coredump_mask;
	bool have_signal;
	int coredump_signal;
	bool have_code;
	int coredump_code;
};

static bool refused(enum handler h, const struct crash_case *c)
{
	/* fs/coredump.c: a non-dumpable process never reaches the handler;
	 * RLIMIT_CORE is irrelevant to pipes and sockets except 1, which a
	 * pipe takes as "recursive crash of a helper" and refuses. */
	return c->how == HOW_NODUMP || (c->how == HOW_RLIMIT1 && h == H_PIPE);
}

/* raw: the kernel's record as the handler read it (handler_view()). */
static void judge(const char *what, enum handler h, const struct crash_case *c, const struct seen *s,
		  unsigned long long raw)
{
	const bool kinfo = feat & TETHER_FEATURE_COREDUMP_INFO;
	const bool kcode = feat & TETHER_FEATURE_COREDUMP_CODE;

	t_info("%s: status %#x; coredump info %s mask %#x, signal %s%d, code %s%d", what, s->status,
	       s->have_info ? "yes" : "no", s->coredump_mask, s->have_signal ? "" : "(none) ", s->coredump_signal,
	       s->have_code ? "" : "(none) ", s->coredump_code);
	T_ASSERT(WIFSIGNALED(s->status) && WTERMSIG(s->status) == c->sig, "%s: status %#x, not signal %d", what,
		 s->status, c->sig);
	T_ASSERT(!(s->have_signal || s->have_code) || s->have_info || !s->coredumped_known,
		 "%s: coredump signal/code without coredump info", what);

	if (refused(h, c)) {
		T_ASSERT(!WCOREDUMP(s->status), "%s: refused dump, yet the wait status says core dumped", what);
		T_ASSERT(!(s->coredump_mask & TETHER_PIDFD_COREDUMPED), "%s: refused dump reported as COREDUMPED",
			 what);
		T_ASSERT(!s->have_signal && !s->have_code, "%s: refused dump with a coredump signal or code", what);
		if (c->how == HOW_NODUMP)
			T_ASSERT(!(s->coredump_mask & (TETHER_PIDFD_COREDUMP_USER | TETHER_PIDFD_COREDUMP_ROOT)),
				 "%s: a non-dumpable process reported as dumpable (%#x)", what, s->coredump_mask);
		return;
	}

	T_ASSERT(WCOREDUMP(s->status), "%s: the handler took the core, but the wait status has no WCOREDUMP",
		 what);
	if (kinfo) {
		/* The kernel recorded the dump (pidfs_coredump()). */
		if (s->coredumped_known)
			T_ASSERT(s->have_info && (s->coredump_mask & TETHER_PIDFD_COREDUMPED),
				 "%s: kernel with coredump info did not report PIDFD_COREDUMPED", what);
		if (kcode || (raw & TETHER_PIDFD_INFO_COREDUMP_SIGNAL))
			T_ASSERT(s->have_signal, "%s: the kernel recorded the signal (mask %#llx), tether gave none",
				 what, raw);
		if (s->have_signal)
			T_ASSERT(s->coredump_signal == c->sig, "%s: coredump_signal %d, expected %d", what,
				 s->coredump_signal, c->sig);
		if (kcode || (raw & TETHER_PIDFD_INFO_COREDUMP_CODE)) {
			T_ASSERT(s->have_code, "%s: the kernel recorded the code (mask %#llx), tether gave none", what,
				 raw);
			T_ASSERT(s->coredump_code == c->code, "%s: coredump_code %d, expected %d", what,
				 s->coredump_code, c->code);
		} else {
			T_ASSERT(!s->have_code, "%s: coredump_code %d claimed on a kernel that has none", what,
				 s->coredump_code);
		}
		return;
	}
	/* No coredump info in the kernel: only the wait status may speak. */
	T_ASSERT(!s->have_code, "%s: coredump_code %d invented", what, s->coredump_code);
	if (s->coredumped_known && s->have_info)
		T_ASSERT(s->coredump_mask == TETHER_PIDFD_COREDUMPED, "%s: coredump_mask %#x beyond the wait status",
			 what, s->coredump_mask);
	if (s->have_signal)
		T_ASSERT(s->coredump_signal == WTERMSIG(s->status), "%s: coredump_signal %d beyond the wait status",
			 what, s->coredump_signal);
}

/*
 * What the handler itself read off the crashing process's pidfd with the raw
 * ioctl (h_coredump_*.c): the kernel's own record, checked here and
 * returned as its PIDFD_INFO_* mask (0 when it recorded nothing or the dump
 * was refused), for judge() to hold tether's report against.
 */
static unsigned long long handler_view(const char *what, enum handler h, const struct crash_case *c, pid_t pid)
{
	char path[300], line[512] = "";
	long long end = t_now_ms() + 60000;
	unsigned long long mask = 0, bytes = 0;
	unsigned int cmask = 0, csig = 0;
	int fd = -1, have_pidfd = 0, ioc = 0, code = 0;
	ssize_t n;

	if (refused(h, c))
		return 0;
	snprintf(path, sizeof(path), "%s/%s-%d", logdir, handler_name[h], (int)pid);
	while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && t_now_ms() < end)
		usleep(5000);
	T_ASSERT(fd >= 0, "%s: the %s handler left no record %s", what, handler_name[h], path);
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	unlink(path);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	t_info("%s: %s handler saw: %s", what, handler_name[h], line);
	T_ASSERT(sscanf(line, "pidfd=%d ioctl=%d mask=%llx coredump_mask=%x coredump_signal=%u coredump_code=%d bytes=%llu",
			&have_pidfd, &ioc, &mask, &cmask, &csig, &code, &bytes) == 7,
		 "%s: unreadable handler record '%s'", what, line);
	T_ASSERT(bytes > 0, "%s: the handler got an empty core", what);
	if (!(feat & TETHER_FEATURE_COREDUMP_INFO))
		return 0; /* a pidfd (%F reached 6.1 and 6.12 too), but no coredump record */
	/* 6.16+: %F and SO_PEERPIDFD give the crashing process's pidfd, with
	 * the dump recorded before the handler runs. */
	T_ASSERT(have_pidfd && ioc == 0, "%s: the handler had no usable pidfd (ioctl %d)", what, ioc);
	T_ASSERT((mask & TETHER_PIDFD_INFO_COREDUMP) && (cmask & TETHER_PIDFD_COREDUMPED),
		 "%s: the handler's pidfd does not say COREDUMPED", what);
	if (feat & TETHER_FEATURE_COREDUMP_CODE)
		T_ASSERT((mask & TETHER_PIDFD_INFO_COREDUMP_CODE) && csig == (unsigned)c->sig && code == c->code,
			 "%s: the handler's pidfd says signal %u code %d", what, csig, code);
	if (mask & TETHER_PIDFD_INFO_COREDUMP_SIGNAL)
		T_ASSERT(csig == (unsigned)c->sig, "%s: the handler's pidfd says signal %u", what, csig);
	return mask;
}

/* ---- the three interfaces ---- */

static void seen_from_pidfd_info(struct seen *s, const struct tether_pidfd_info *pi)
{
	memset(s, 0, sizeof(*s));
	s->status = pi->exit_code;
	s->coredumped_known = true;
	s->have_info = pi->mask & TETHER_PIDFD_INFO_COREDUMP;
	s->coredump_mask = s->have_info ? pi->coredump_mask : 0;
	s->have_signal = pi->mask & TETHER_PIDFD_INFO_COREDUMP_SIGNAL;
	s->coredump_signal = s->have_signal ? (int)pi->coredump_signal : 0;
	s->have_code = pi->mask & TETHER_PIDFD_INFO_COREDUMP_CODE;
	s->coredump_code = s->have_code ? (int)pi->coredump_code : 0;
}

/* tether_clone3(AUTOREAP|PIDFD) + tether_pidfd_get_info() after the reap. */
static void via_pidfd_info(enum handler h, const struct crash_case *c)
{
	const uint64_t flags = CLONE_AUTOREAP | CLONE_PIDFD;
	struct tether_pidfd_info pi;
	struct t_gate gate;
	struct seen s;
	char what[96], ready;
	int rp[2], pidfd = -1, r;
	pid_t pid;

	snprintf(what, sizeof(what), "%s/%s/pidfd_get_info", handler_name[h], c->name);
	T_ASSERT(pipe2(rp, O_CLOEXEC) == 0, "pipe2");
	t_gate_open(&gate);
	pid = t_clone(flags, 0, &pidfd);
	if (pid == 0) {
		close(rp[0]);
		crash_setup(c->how);
		if (write(rp[1], "r", 1) != 1)
			_exit(105);
		if (c->how != HOW_KILL)
			t_gate_wait(&gate);
		crash_now(c->how);
	}
	T_ASSERT(pid > 0, "%s: tether_clone3: %s", what, strerror(errno));
	close(rp[1]);
	T_ASSERT(read(rp[0], &ready, 1) == 1, "%s: the child never got ready", what);
	close(rp[0]);

	/* Alive and set up: what the kernel says of its dumpability. */
	memset(&pi, 0, sizeof(pi));
	pi.mask = TETHER_PIDFD_INFO_COREDUMP;
	r = tether_pidfd_get_info(pidfd, &pi, sizeof(pi));
	T_ASSERT(r == 0 || r == -ENOTTY, "%s: live tether_pidfd_get_info: %s", what, strerror(-r));
	if (r == 0 && (pi.mask & TETHER_PIDFD_INFO_COREDUMP)) {
		t_info("%s: alive: coredump_mask %#x", what, pi.coredump_mask);
		T_ASSERT(pi.coredump_mask == (c->how == HOW_NODUMP ? TETHER_PIDFD_COREDUMP_SKIP
								   : TETHER_PIDFD_COREDUMP_USER),
			 "%s: a live %sdumpable process has coredump_mask %#x", what,
			 c->how == HOW_NODUMP ? "non-" : "", pi.coredump_mask);
		T_ASSERT(!(pi.mask & (TETHER_PIDFD_INFO_COREDUMP_SIGNAL | TETHER_PIDFD_INFO_COREDUMP_CODE)),
			 "%s: a live process with a coredump signal or code", what);
	} else {
		T_ASSERT(!(feat & TETHER_FEATURE_COREDUMP_INFO), "%s: no PIDFD_INFO_COREDUMP for a live process",
			 what);
	}

	if (c->how == HOW_KILL)
		T_ASSERT(t_safe_kill(pid, SIGSEGV) == 0, "%s: kill: %s", what, strerror(errno));
	else
		t_gate_release(&gate);
	close(gate.rd);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 60000), "%s: pidfd never polled readable", what);
	T_ASSERT(t_wait_pid_reaped(pid, 30000), "%s: child %d not reaped", what, (int)pid);

	memset(&pi, 0, sizeof(pi));
	pi.mask = TETHER_PIDFD_INFO_EXIT | TETHER_PIDFD_INFO_COREDUMP;
	r = tether_pidfd_get_info(pidfd, &pi, sizeof(pi));
	if (r == -ENOTTY || r == -ESRCH || (r == 0 && !(pi.mask & TETHER_PIDFD_INFO_EXIT))) {
		T_ASSERT(!t_emulated(flags), "%s: the emulation returned no exit info: %s", what,
			 r ? strerror(-r) : "no PIDFD_INFO_EXIT");
		t_info("%s: the kernel keeps no exit info after the reap", what);
	} else {
		T_ASSERT(r == 0, "%s: tether_pidfd_get_info: %s", what, strerror(-r));
		seen_from_pidfd_info(&s, &pi);
		judge(what, h, c, &s, handler_view(what, h, c, pid));
	}
	tether_pidfd_close(pidfd);
}

/* tether_spawn() of "self crash HOW" + tether_child_wait(). */
static void via_child_wait(enum handler h, const struct crash_case *c, uint64_t flags)
{
	struct tether_spawn_attr *attr = ts_attr_flags(flags);
	struct tether_child *child;
	struct tether_exit_info ei;
	struct seen s;
	char what[96];
	pid_t pid;
	int r;

	snprintf(what, sizeof(what), "%s/%s/child_wait%s", handler_name[h], c->name, flags ? "+autoreap" : "");
	r = tether_spawn(&child, TS_SELF, NULL, attr, (char *[]){ (char *)TS_SELF, (char *)"crash", (char *)c->name, NULL },
			 NULL);
	tether_spawn_attr_destroy(attr);
	T_ASSERT(r == 0, "%s: tether_spawn: %s", what, strerror(-r));
	pid = tether_child_pid(child);
	r = tether_child_wait(child, 60000, &ei);
	T_ASSERT(r == 0, "%s: tether_child_wait: %s", what, strerror(-r));
	memset(&s, 0, sizeof(s));
	s.status = ei.status;
	s.coredumped_known = true;
	s.have_info = ei.have_coredump_info;
	s.coredump_mask = ei.coredump_mask;
	s.have_signal = ei.have_coredump_signal;
	s.coredump_signal = ei.coredump_signal;
	s.have_code = ei.have_coredump_code;
	s.coredump_code = ei.coredump_code;
	T_ASSERT(ei.signaled && ei.signal == WTERMSIG(ei.status) && ei.core_dumped == (bool)WCOREDUMP(ei.status),
		 "%s: exit info fields disagree with the status %#x", what, ei.status);
	judge(what, h, c, &s, handler_view(what, h, c, pid));
	tether_child_release(child);
}

/* The value of "key": in a JSON line, as text up to ',' or '}'. */
static bool json_value(const char *json, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return false;
	p += strlen(pat);
	n = strcspn(p, ",}");
	if (n >= len)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* tether run --report=json (and --report for people) of "self crash HOW". */
static void via_cli(enum handler h, const struct crash_case *c, bool autoreap)
{
	const char *ar = autoreap ? "--autoreap" : "--";
	char what[96], v[64], name[64], want[160];
	struct seen s;
	int st;

	snprintf(what, sizeof(what), "%s/%s/cli%s", handler_name[h], c->name, autoreap ? "+autoreap" : "");
	st = tc_run("run", "--report=json", ar, TS_SELF, "crash", c->name, NULL);
	T_ASSERT(st == 128 + c->sig, "%s: tether exited %d (stderr: %s)", what, st, tc_err);
	t_info("%s: %.*s", what, (int)strcspn(tc_err, "\n"), tc_err);
	memset(&s, 0, sizeof(s));
	T_ASSERT(json_value(tc_err, "signal", v, sizeof(v)) && atoi(v) == c->sig, "%s: json signal", what);
	T_ASSERT(json_value(tc_err, "core_dumped", v, sizeof(v)), "%s: json core_dumped", what);
	s.status = c->sig | (strcmp(v, "true") == 0 ? 0x80 : 0);
	T_ASSERT(json_value(tc_err, "coredump_signal", v, sizeof(v)), "%s: json coredump_signal", what);
	s.have_signal = strcmp(v, "null") != 0;
	s.coredump_signal = atoi(v);
	T_ASSERT(json_value(tc_err, "coredump_code", v, sizeof(v)), "%s: json coredump_code", what);
	s.have_code = strcmp(v, "null") != 0;
	s.coredump_code = atoi(v);
	T_ASSERT(json_value(tc_err, "coredump_code_name", name, sizeof(name)), "%s: json coredump_code_name", what);
	if (s.have_code) {
		snprintf(want, sizeof(want), "\"%s\"", c->code == SEGV_MAPERR ? "SEGV_MAPERR"
						     : c->code == SI_TKILL  ? "SI_TKILL"
									    : "SI_USER");
		T_ASSERT(s.coredump_code != c->code || strcmp(name, want) == 0, "%s: code name %s, expected %s",
			 what, name, want);
	} else {
		T_ASSERT(strcmp(name, "null") == 0, "%s: a code name (%s) without a code", what, name);
	}
	T_ASSERT(json_value(tc_err, "pid", v, sizeof(v)) && atoi(v) > 0, "%s: json pid", what);
	judge(what, h, c, &s, handler_view(what, h, c, atoi(v)));

	/* For people: the same facts, once per kind of outcome. */
	if (c->how != HOW_NULL && c->how != HOW_NODUMP)
		return;
	st = tc_run("run", "--report", ar, TS_SELF, "crash", c->name, NULL);
	T_ASSERT(st == 128 + c->sig, "%s: tether --report exited %d", what, st);
	t_info("%s text: %.*s", what, (int)strcspn(tc_err, "\n"), tc_err);
	T_ASSERT(strstr(tc_err, "was killed by signal 11 (SIGSEGV)"), "%s: text report: %s", what, tc_err);
	if (refused(h, c)) {
		T_ASSERT(!strstr(tc_err, "core dumped"), "%s: text report of a refused dump: %s", what, tc_err);
	} else {
		T_ASSERT(strstr(tc_err, ", core dumped"), "%s: text report: %s", what, tc_err);
		if (s.have_code)
			T_ASSERT(strstr(tc_err, "code 1 (SEGV_MAPERR)"), "%s: text report: %s", what, tc_err);
		else
			T_ASSERT(!strstr(tc_err, "code "), "%s: text report claims a code: %s", what, tc_err);
	}
}

static void run_handler(enum handler h)
{
	struct server srv;
	const bool autoreap = !t_native_without(CLONE_AUTOREAP);

	start_handler(h, &srv);
	for (size_t i = 0; i < NCASES; i++) {
		const struct crash_case *c = &cases[i];
		if (autoreap)
			via_pidfd_info(h, c);
		via_child_wait(h, c, 0);
		if (autoreap)
			via_child_wait(h, c, CLONE_AUTOREAP);
		via_cli(h, c, false);
		if (autoreap)
			via_cli(h, c, true);
	}
	stop_handler(&srv);
}

int main(int argc, char **argv)
{
	const char *vm = getenv("TETHER_TEST_VM");
	const long long t0 = t_now_ms();
	bool sock;

	crash_dispatch(argc, argv);
	tc_dispatch(argc, argv);
	main_pid = getpid();
	if (!vm || strcmp(vm, "1") != 0 || geteuid() != 0)
		t_skip("installs a core handler in the machine-wide core_pattern: runs only as root in the test VM "
		       "(TETHER_TEST_VM=1, set by the VM's /init)");
	feat = tether_features();
	t_info("backend %s; kernel coredump-info %s, coredump-code %s, exit-info %s%s", t_backend_word(CLONE_AUTOREAP),
	       feat & TETHER_FEATURE_COREDUMP_INFO ? "yes" : "no", feat & TETHER_FEATURE_COREDUMP_CODE ? "yes" : "no",
	       feat & TETHER_FEATURE_EXIT_INFO ? "yes" : "no",
	       t_native_without(CLONE_AUTOREAP) ? "; no autoreap: tether_pidfd_get_info() part left out" : "");
	find_helpers();
	snprintf(logdir, sizeof(logdir), "%s", ts_tmpdir());
	T_ASSERT(chmod(logdir, 0755) == 0, "chmod %s", logdir);
	save_pattern();
	sock = kernel_has_coredump_socket();

	run_handler(H_PIPE);
	if (sock)
		run_handler(H_SOCKET);
	else
		t_info("the kernel has no coredump socket (it takes '@tether-probe' as a file name): pipe only");
	restore_pattern();
	t_pass("coredump info through a %%F pipe helper%s, by every interface (%s backend; %lld s)",
	       sock ? " and the coredump socket" : "", t_backend_word(CLONE_AUTOREAP), (t_now_ms() - t0) / 1000);
}

/* SPDX-License-Identifier: MIT */
/*
 * tether's benchmark. Not a test: nothing here passes or fails; it measures
 * and prints. bench/run.sh runs every part and evaluates the targets.
 *
 *   bench [--csv FILE] [--noop PATH] [--rss SIZE] PART [ARGS]
 *
 *   spawn [ROUNDS [K]]   spawn + wait latency (p50, p99) and throughput of
 *                        posix_spawn, fork+exec, vfork+exec and tether_spawn
 *                        with every valid lifecycle flag combination, native
 *                        and emulated: ROUNDS interleaved rounds, each running
 *                        every method K times, the order rotating per round
 *   rss SIZE...          the same with a parent of SIZE (64M, 1G, 8G...) of
 *                        touched anonymous 4 KiB pages, sizes in one process
 *   clone3 [ROUNDS [K]]  fork-like create + exit: tether_clone3 with
 *                        CLONE_AUTOREAP vs raw clone3(exit_signal=0)+waitid
 *   reap N...            N concurrent emulated autoreap children released at
 *                        once: time until all are reaped, exit->reap latency
 *   autokill [ITERS]     handle release / creator SIGKILL -> child's death
 *   memory [N]           library memory, fds and threads per tracked child
 *   idle [N [SECONDS]]   CPU used while N autoreap+autokill children idle
 *   loop ID COUNT        run one method COUNT times (for strace, perf; with
 *                        --rss SIZE in a parent of that size)
 *   list                 the method IDs
 *
 * Started as PID 1 (the init of a VM) it mounts /proc, runs a reduced
 * spawn, clone3 and autokill, prints CSV lines prefixed "@@BENCH-CSV " and
 * powers the machine off.
 *
 * Every spawned program is bench-noop (noop.c, next to this binary): a
 * static program without C library, so that exec costs the same, and as
 * little as possible, for every method. Latencies are CLOCK_MONOTONIC
 * around the whole spawn + wait (+ release of the handle); throughput is
 * spawns per second of one method's K back-to-back spawns in a round, and
 * the ratio to the reference method is the median of the per-round ratios:
 * both ran in the same round, seconds apart, so drift of the machine
 * cancels out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <tether.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define AR CLONE_AUTOREAP
#define NNP CLONE_NNP
#define AK CLONE_PIDFD_AUTOKILL
#define NSEC 1000000000ull
#define MSEC 1000000ull

extern char **environ;

static const char *noop_path;
static char *noop_argv[] = { "bench-noop", NULL };
static char *pause_argv[] = { "bench-noop", "pause", NULL };
static char *empty_env[] = { NULL };

static FILE *csv_out;
static const char *csv_prefix = "";
static const char *part = "";
static bool in_vm;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static int64_t tv_ns(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench: %s: ", part);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (in_vm) {
		sync();
		reboot(RB_POWER_OFF);
	}
	exit(1);
}

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_kill(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* waitid() without glibc's wrapper: P_PIDFD and __WALL pass untouched. */
static int waitid_raw(int idtype, int id, siginfo_t *si, int options)
{
	return (int)syscall(SYS_waitid, idtype, id, si, options, NULL);
}

/* Wait for events on one fd (events 0: only POLLHUP/POLLERR). */
static void poll_one(int fd, short events, int timeout_ms, const char *what)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		die("%s: %s", what, n == 0 ? "timed out" : strerror(errno));
}

static void raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need; /* root only; otherwise setrlimit says so */
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("RLIMIT_NOFILE %llu: %s", (unsigned long long)need, strerror(errno));
}

static const char *flags_name(uint64_t f)
{
	static const char *names[8] = {
		"none", "autoreap", "nnp", "autoreap+nnp",
		"autokill", "autoreap+autokill", "nnp+autokill", "autoreap+nnp+autokill",
	};
	unsigned i = (f & AR ? 1u : 0u) | (f & NNP ? 2u : 0u) | (f & AK ? 4u : 0u);

	return names[i];
}

static unsigned int features_for(uint64_t f)
{
	return (f & AR ? TETHER_FEATURE_AUTOREAP : 0u) | (f & NNP ? TETHER_FEATURE_NNP : 0u) |
	       (f & AK ? TETHER_FEATURE_AUTOKILL : 0u);
}

static bool native_has(uint64_t f)
{
	unsigned int need = features_for(f);

	return (tether_features() & need) == need;
}

/* ------------------------------------------------------------------ */
/* Samples and output                                                  */

struct samples {
	uint64_t *v;
	size_t n, cap;
};

static void sadd(struct samples *s, uint64_t x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile (q in 0..1), NAN without samples. */
static double spct(struct samples *s, double q)
{
	size_t k;

	if (s->n == 0)
		return NAN;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	k = (size_t)(q * (double)s->n);
	if ((double)k < q * (double)s->n)
		k++;
	if (k < 1)
		k = 1;
	if (k > s->n)
		k = s->n;
	return (double)s->v[k - 1];
}

static double dmedian(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void csv_row(const char *method, const char *backend, const char *param, const char *metric,
		    const char *value, const char *unit)
{
	if (!csv_out)
		return;
	fprintf(csv_out, "%s%s,%s,%s,%s,%s,%s,%s\n", csv_prefix, part, method, backend, param, metric,
		value, unit);
	fflush(csv_out);
}

static void csv_num(const char *method, const char *backend, const char *param, const char *metric,
		    double v, const char *unit)
{
	char buf[64];

	if (isnan(v))
		snprintf(buf, sizeof(buf), "n/a");
	else
		snprintf(buf, sizeof(buf), "%.6g", v);
	csv_row(method, backend, param, metric, buf, unit);
}

/* ns as µs with one decimal, or "n/a". */
static const char *us(char *buf, double ns)
{
	if (isnan(ns))
		return strcpy(buf, "n/a");
	if (ns >= 100e6)
		snprintf(buf, 24, "%.0f", ns / 1e3);
	else
		snprintf(buf, 24, "%.1f", ns / 1e3);
	return buf;
}

static const char *num(char *buf, double v, const char *fmt)
{
	if (isnan(v))
		return strcpy(buf, "n/a");
	snprintf(buf, 24, fmt, v);
	return buf;
}

/* ------------------------------------------------------------------ */
/* /proc                                                               */

/* Read a small file whole; -1 if it cannot be read. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* "Key:   value" of /proc/PID/status (or a task's), -1 if missing. */
static long status_field(const char *status_path, const char *key)
{
	char buf[4096], *p;
	size_t kl = strlen(key);

	if (read_file(status_path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

static long proc_status(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return status_field(path, key);
}

/* Fields of a /proc stat line after the command: [0] is field 3 (state). */
static int stat_fields(const char *path, char *comm, size_t comm_size, unsigned long long *f, int nf)
{
	char buf[2048], *open_paren, *close_paren, *p;
	int i;

	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren)
		return -1;
	if (comm) {
		size_t l = (size_t)(close_paren - open_paren - 1);
		if (l >= comm_size)
			l = comm_size - 1;
		memcpy(comm, open_paren + 1, l);
		comm[l] = 0;
	}
	p = close_paren + 2;
	for (i = 0; i < nf && *p; i++) {
		f[i] = i == 0 ? (unsigned long long)(unsigned char)*p : strtoull(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	return i;
}

/* Children of parent (by /proc/N/stat), optionally only those named comm. */
static size_t children_of(pid_t parent, const char *comm, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t k = 0;

	if (!d)
		die("/proc: %s", strerror(errno));
	while ((e = readdir(d)) && k < max) {
		char path[300], name[64];
		unsigned long long f[2];

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (stat_fields(path, name, sizeof(name), f, 2) < 2)
			continue;
		if ((pid_t)f[1] == parent && (!comm || strcmp(name, comm) == 0))
			out[k++] = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return k;
}

static pid_t our_warden(void)
{
	pid_t w[4];

	return children_of(getpid(), "tether-warden", w, 4) >= 1 ? w[0] : -1;
}

static long count_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - (pid == getpid()); /* not the directory's own fd */
}

/* CPU use of a process: ticks (utime+stime), run time and context switches of its tasks. */
struct cpu {
	unsigned long long ticks;  /* whole process, /proc/PID/stat */
	unsigned long long run_ns; /* tasks other than skip_tid, schedstat */
	unsigned long long ctxsw;  /* same tasks, voluntary + involuntary */
	int tasks;
};

static struct cpu proc_cpu(pid_t pid, pid_t skip_tid)
{
	struct cpu c = { 0 };
	char path[300];
	unsigned long long f[13];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (stat_fields(path, NULL, 0, f, 13) == 13)
		c.ticks = f[11] + f[12]; /* fields 14 and 15 */
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return c;
	while ((e = readdir(d))) {
		char buf[256];
		long v, nv;

		if (e->d_name[0] == '.' || atoi(e->d_name) == skip_tid)
			continue;
		c.tasks++;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		if (read_file(path, buf, sizeof(buf)) > 0)
			c.run_ns += strtoull(buf, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
		v = status_field(path, "voluntary_ctxt_switches");
		nv = status_field(path, "nonvoluntary_ctxt_switches");
		c.ctxsw += (unsigned long long)(v > 0 ? v : 0) + (unsigned long long)(nv > 0 ? nv : 0);
	}
	closedir(d);
	return c;
}

/* Wait (bounded) until this process has only its main thread: the reaper ended. */
static void wait_single_threaded(void)
{
	for (int i = 0; i < 1000 && proc_status(getpid(), "Threads") > 1; i++)
		sleep_ms(1);
}

/* ------------------------------------------------------------------ */
/* Methods: one way of creating a process, measured create -> gone     */

enum kind {
	K_POSIX_SPAWN,
	K_FORK_EXEC,
	K_VFORK_EXEC,
	K_TETHER_SPAWN,
	K_RAW_CLONE3,
	K_TETHER_CLONE3,
};

struct method {
	char id[80];     /* for `bench loop` */
	char label[80];  /* for people */
	const char *backend; /* "emulate", "native" or "-" */
	enum kind kind;
	uint64_t flags;
	enum tether_backend be;
	bool warm;       /* a long-lived child of the same flags exists meanwhile */
	bool available;
	char na[80];     /* why not */
	struct tether_spawn_attr *attr;
	struct samples lat;
	double *tput;    /* per round: operations per second */
	size_t ntput;
	uint64_t busy_ns;
	size_t count;
	struct tether_child *anchor;
	int anchor_fd;
};

static __attribute__((noinline)) pid_t vfork_exec(const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = vfork();

	if (pid == 0) {
		execve(path, argv, envp);
		_exit(127);
	}
	return pid;
}

static void waitpid_ok(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("child ended with status %#x", st);
}

static void tether_wait_release(struct tether_child *c, bool expect_ok)
{
	struct tether_exit_info info;
	int r = tether_child_wait(c, -1, &info);

	if (r < 0)
		die("tether_child_wait: %s", strerror(-r));
	if (expect_ok && (!info.exited || info.exit_code != 0))
		die("child ended with status %#x", info.status);
	tether_child_release(c);
}

/* An autoreap pidfd: wait until the child has ended and is reaped, then drop it. */
static void autoreap_wait_close(int pidfd, bool expect_ok)
{
	struct tether_pidfd_info info = { .mask = TETHER_PIDFD_INFO_EXIT };
	int r;

	poll_one(pidfd, POLLIN, 30000, "autoreap child did not end");
	r = tether_pidfd_get_info(pidfd, &info, sizeof(info));
	if (r < 0 || !(info.mask & TETHER_PIDFD_INFO_EXIT))
		die("tether_pidfd_get_info: %s", r < 0 ? strerror(-r) : "no exit info");
	if (expect_ok && info.exit_code != 0)
		die("child ended with status %#x", info.exit_code);
	tether_pidfd_close(pidfd);
}

static void op_once(struct method *m)
{
	pid_t pid;
	int r;

	switch (m->kind) {
	case K_POSIX_SPAWN:
		r = posix_spawn(&pid, noop_path, NULL, NULL, noop_argv, empty_env);
		if (r)
			die("posix_spawn: %s", strerror(r));
		waitpid_ok(pid);
		break;
	case K_FORK_EXEC:
		pid = fork();
		if (pid == 0) {
			execve(noop_path, noop_argv, empty_env);
			_exit(127);
		}
		if (pid < 0)
			die("fork: %s", strerror(errno));
		waitpid_ok(pid);
		break;
	case K_VFORK_EXEC:
		pid = vfork_exec(noop_path, noop_argv, empty_env);
		if (pid < 0)
			die("vfork: %s", strerror(errno));
		waitpid_ok(pid);
		break;
	case K_TETHER_SPAWN: {
		struct tether_child *c;
		r = tether_spawn(&c, noop_path, NULL, m->attr, noop_argv, empty_env);
		if (r < 0)
			die("tether_spawn %s: %s", m->id, strerror(-r));
		tether_wait_release(c, true);
		break;
	}
	case K_RAW_CLONE3: {
		int fd = -1;
		struct clone_args a = { .flags = CLONE_PIDFD, .pidfd = (uintptr_t)&fd, .exit_signal = 0 };
		siginfo_t si = { 0 };
		long p = syscall(SYS_clone3, &a, sizeof(a));
		if (p == 0)
			_exit(0);
		if (p < 0)
			die("clone3: %s", strerror(errno));
		while (waitid_raw(P_PIDFD, fd, &si, WEXITED | __WALL) < 0)
			if (errno != EINTR)
				die("waitid: %s", strerror(errno));
		if (si.si_code != CLD_EXITED || si.si_status != 0)
			die("clone3 child: code %d status %d", si.si_code, si.si_status);
		close(fd);
		break;
	}
	case K_TETHER_CLONE3: {
		int fd = -1;
		struct clone_args a = { .flags = CLONE_PIDFD | m->flags, .pidfd = (uintptr_t)&fd, .exit_signal = 0 };
		pid_t p = tether_clone3(&a, sizeof(a));
		if (p == 0)
			_exit(0);
		if (p < 0)
			die("tether_clone3 %s: %s", m->id, strerror(errno));
		if (m->flags & AR) {
			autoreap_wait_close(fd, true);
		} else {
			siginfo_t si = { 0 };
			while (waitid_raw(P_PIDFD, fd, &si, WEXITED | __WALL) < 0)
				if (errno != EINTR)
					die("waitid: %s", strerror(errno));
			tether_pidfd_close(fd);
		}
		break;
	}
	}
}

/*
 * "Warm": the reaper thread and (for autokill) the warden already run,
 * because another child of the same kind lives. Without one, sequential
 * spawn + wait starts both anew for every child.
 */
static void anchor_start(struct method *m)
{
	int r;

	if (!m->warm)
		return;
	if (m->kind == K_TETHER_SPAWN) {
		r = tether_spawn(&m->anchor, noop_path, NULL, m->attr, pause_argv, empty_env);
		if (r < 0)
			die("anchor: tether_spawn: %s", strerror(-r));
	} else {
		struct clone_args a = { .flags = CLONE_PIDFD | m->flags, .pidfd = (uintptr_t)&m->anchor_fd };
		pid_t p = tether_clone3(&a, sizeof(a));
		if (p == 0) {
			/* Exec'd, so that it shares no page with us: a fork-like
			 * anchor would make every later fork copy more. */
			execve(noop_path, pause_argv, empty_env);
			for (;;)
				pause();
		}
		if (p < 0)
			die("anchor: tether_clone3: %s", strerror(errno));
	}
}

static void anchor_stop(struct method *m)
{
	if (!m->warm)
		return;
	if (m->kind == K_TETHER_SPAWN) {
		tether_child_kill(m->anchor, SIGKILL);
		tether_wait_release(m->anchor, false);
		m->anchor = NULL;
	} else {
		pidfd_kill(m->anchor_fd, SIGKILL);
		autoreap_wait_close(m->anchor_fd, false);
		m->anchor_fd = -1;
	}
}

static void method_use_backend(const struct method *m)
{
	tether_set_backend(m->be);
}

/* Up to k operations, stopping early once budget_ns have passed (at least one). */
static void batch(struct method *m, size_t k, uint64_t budget_ns, bool record)
{
	uint64_t start, t0, t1, elapsed;
	size_t done = 0;

	method_use_backend(m);
	anchor_start(m);
	start = now_ns();
	while (done < k) {
		t0 = now_ns();
		op_once(m);
		t1 = now_ns();
		if (record)
			sadd(&m->lat, t1 - t0);
		done++;
		if (t1 - start >= budget_ns)
			break;
	}
	elapsed = now_ns() - start;
	anchor_stop(m);
	if (record) {
		m->busy_ns += elapsed;
		m->count += done;
		m->tput = realloc(m->tput, (m->ntput + 1) * sizeof(*m->tput));
		if (!m->tput)
			die("out of memory");
		m->tput[m->ntput++] = (double)done * 1e9 / (double)elapsed;
	}
}

/* Interleaved rounds: every method K times per round, the order rotating. */
static void run_rounds(struct method *ms, size_t n, size_t rounds, size_t k, uint64_t budget_ns)
{
	struct method *run[64];
	size_t nr = 0;

	for (size_t i = 0; i < n && nr < 64; i++)
		if (ms[i].available)
			run[nr++] = &ms[i];
	for (size_t i = 0; i < nr; i++)
		batch(run[i], 2, budget_ns, false); /* warm-up: page cache, allocator, code */
	for (size_t r = 0; r < rounds; r++)
		for (size_t j = 0; j < nr; j++)
			batch(run[(j + r) % nr], k, budget_ns, true);
}

/* Median over rounds of m's throughput divided by ref's in the same round. */
static double tput_ratio(const struct method *m, const struct method *ref)
{
	size_t n = m->ntput < ref->ntput ? m->ntput : ref->ntput;
	double *v, med;

	if (!m->available || !ref->available || n == 0)
		return NAN;
	v = malloc(n * sizeof(*v));
	if (!v)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = m->tput[i] / ref->tput[i];
	med = dmedian(v, n);
	free(v);
	return med;
}

static struct method *method_add(struct method *ms, size_t *n, enum kind kind, uint64_t flags,
				 enum tether_backend be, bool warm)
{
	struct method *m = &ms[(*n)++];
	static const char *const kind_name[] = {
		[K_POSIX_SPAWN] = "posix_spawn", [K_FORK_EXEC] = "fork+exec", [K_VFORK_EXEC] = "vfork+exec",
		[K_TETHER_SPAWN] = "tether_spawn", [K_RAW_CLONE3] = "clone3 exit_signal=0+waitid",
		[K_TETHER_CLONE3] = "tether_clone3",
	};
	bool tether = kind == K_TETHER_SPAWN || kind == K_TETHER_CLONE3;
	bool lifecycle = flags != 0;

	*m = (struct method){ .kind = kind, .flags = flags, .be = be, .warm = warm, .available = true,
			      .anchor_fd = -1 };
	m->backend = !tether || !lifecycle ? "-" : be == TETHER_BACKEND_NATIVE ? "native" : "emulate";
	if (tether)
		snprintf(m->label, sizeof(m->label), "%s %s%s", kind_name[kind], flags_name(flags),
			 warm ? " (warm)" : "");
	else
		snprintf(m->label, sizeof(m->label), "%s", kind_name[kind]);
	if (tether)
		snprintf(m->id, sizeof(m->id), "%s/%s/%s%s",
			 kind == K_TETHER_SPAWN ? "spawn" : "clone3", flags_name(flags),
			 lifecycle ? m->backend : "kernel", warm ? "/warm" : "");
	else
		snprintf(m->id, sizeof(m->id), "%s",
			 kind == K_POSIX_SPAWN ? "posix_spawn" : kind == K_FORK_EXEC ? "fork+exec" :
			 kind == K_VFORK_EXEC ? "vfork+exec" : "clone3/raw");
	if (kind == K_TETHER_SPAWN) {
		if (tether_spawn_attr_init(&m->attr) < 0 || tether_spawn_attr_set_flags(m->attr, flags) < 0)
			die("tether_spawn_attr");
	}
	if (tether && lifecycle && be == TETHER_BACKEND_NATIVE && !native_has(flags)) {
		struct utsname u;

		m->available = false;
		snprintf(m->na, sizeof(m->na), "kernel %.40s lacks the flags", uname(&u) == 0 ? u.release : "?");
	}
	return m;
}

/* ------------------------------------------------------------------ */
/* Lifecycle flag combinations                                         */

static const uint64_t all_combos[8] = { 0, AR, NNP, AR | NNP, AK, AK | NNP, AR | AK, AR | NNP | AK };

struct combo_probe {
	uint64_t flags;
	int emulate_err; /* 0 valid, else the errno tether_spawn gave */
	int native_err;  /* 0, errno, or -1 when the kernel lacks the flags */
	const char *rule;
};

static int probe_spawn(uint64_t flags, enum tether_backend be)
{
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	int r;

	tether_set_backend(be);
	if (tether_spawn_attr_init(&attr) < 0)
		die("attr");
	r = tether_spawn_attr_set_flags(attr, flags);
	if (r == 0)
		r = tether_spawn(&c, noop_path, NULL, attr, noop_argv, empty_env);
	tether_spawn_attr_destroy(attr);
	if (r == 0)
		tether_wait_release(c, true);
	return -r;
}

static void probe_combos(struct combo_probe *p)
{
	for (int i = 0; i < 8; i++) {
		uint64_t f = all_combos[i];
		p[i].flags = f;
		p[i].emulate_err = probe_spawn(f, TETHER_BACKEND_EMULATE);
		p[i].native_err = !f || native_has(f) ? probe_spawn(f, TETHER_BACKEND_NATIVE) : -1;
		if ((f & AK) && !(f & AR))
			p[i].rule = "R5: AUTOKILL needs AUTOREAP (and CLONE_PIDFD, implied)";
		else if ((f & AK) && !(f & NNP))
			p[i].rule = geteuid() == 0 ? "R6: needs NNP or CAP_SYS_ADMIN (have it)"
						   : "R6: needs NNP or CAP_SYS_ADMIN";
		else
			p[i].rule = "valid";
	}
	tether_set_backend(TETHER_BACKEND_AUTO);
}

static void print_combos(const struct combo_probe *p)
{
	printf("\nLifecycle flag combinations (tether_spawn, as root):\n\n");
	printf("| flags | rule | emulate | native |\n|---|---|---|---|\n");
	for (int i = 0; i < 8; i++) {
		char e[40], n[40];
		snprintf(e, sizeof(e), "%s", p[i].emulate_err ? strerror(p[i].emulate_err) : "ok");
		if (p[i].native_err < 0)
			snprintf(n, sizeof(n), "n/a (kernel lacks flags)");
		else
			snprintf(n, sizeof(n), "%s", p[i].native_err ? strerror(p[i].native_err) : "ok");
		printf("| %s | %s | %s | %s |\n", flags_name(p[i].flags), p[i].rule, e, n);
		csv_row(flags_name(p[i].flags), "emulate", "", "valid", p[i].emulate_err ? "0" : "1", "bool");
		csv_row(flags_name(p[i].flags), "native", "", "valid",
			p[i].native_err < 0 ? "n/a" : p[i].native_err ? "0" : "1", "bool");
	}
}

/* ------------------------------------------------------------------ */
/* spawn and rss                                                       */

/*
 * Every method of the spawn part: the reference first. Lifecycle
 * combinations that the kernel's rules reject (probe) are left out.
 */
static size_t spawn_methods(struct method *ms, const struct combo_probe *probe, bool warm)
{
	size_t n = 0;

	method_add(ms, &n, K_POSIX_SPAWN, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_FORK_EXEC, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_VFORK_EXEC, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_SPAWN, 0, TETHER_BACKEND_AUTO, false);
	for (int i = 1; i < 8; i++) {
		uint64_t f = all_combos[i];
		if (probe && probe[i].emulate_err)
			continue;
		method_add(ms, &n, K_TETHER_SPAWN, f, TETHER_BACKEND_EMULATE, false);
		method_add(ms, &n, K_TETHER_SPAWN, f, TETHER_BACKEND_NATIVE, false);
	}
	if (warm)
		for (int i = 1; i < 8; i++) {
			uint64_t f = all_combos[i];
			if ((probe && probe[i].emulate_err) || !(f & AR))
				continue;
			method_add(ms, &n, K_TETHER_SPAWN, f, TETHER_BACKEND_EMULATE, true);
		}
	return n;
}

static void report_methods(struct method *ms, size_t n, const char *param, const char *ref_name)
{
	char a[24], b[24], c[24], d[24];

	printf("\n| method | backend | p50 µs | p99 µs | per s | × %s | n |\n", ref_name);
	printf("|---|---|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < n; i++) {
		struct method *m = &ms[i];
		double p50 = spct(&m->lat, 0.50), p99 = spct(&m->lat, 0.99);
		double tp = m->count ? (double)m->count * 1e9 / (double)m->busy_ns : NAN;
		double ratio = tput_ratio(m, &ms[0]);

		if (!m->available) {
			printf("| %s | %s | n/a | n/a | n/a | n/a | %s |\n", m->label, m->backend, m->na);
			csv_row(m->label, m->backend, param, "latency_p50", "n/a", "us");
			csv_row(m->label, m->backend, param, "latency_p99", "n/a", "us");
			csv_row(m->label, m->backend, param, "throughput", "n/a", "1/s");
			csv_row(m->label, m->backend, param, "throughput_ratio", "n/a", "x");
			continue;
		}
		printf("| %s | %s | %s | %s | %s | %s | %zu |\n", m->label, m->backend, us(a, p50), us(b, p99),
		       num(c, tp, "%.0f"), num(d, ratio, "%.3f"), m->lat.n);
		csv_num(m->label, m->backend, param, "latency_p50", p50 / 1e3, "us");
		csv_num(m->label, m->backend, param, "latency_p99", p99 / 1e3, "us");
		csv_num(m->label, m->backend, param, "throughput", tp, "1/s");
		csv_num(m->label, m->backend, param, "throughput_ratio", ratio, "x");
		csv_num(m->label, m->backend, param, "samples", (double)m->lat.n, "count");
	}
}

/* Native vs emulated, where both ran (the VM): ratios only. */
static void report_native_vs_emulated(struct method *ms, size_t n, const char *param)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		struct method *nat = &ms[i], *emu = NULL;
		char a[24], b[24], c[24];

		if (strcmp(nat->backend, "native") || !nat->available || nat->warm)
			continue;
		for (size_t j = 0; j < n; j++)
			if (ms[j].kind == nat->kind && ms[j].flags == nat->flags && !ms[j].warm &&
			    strcmp(ms[j].backend, "emulate") == 0)
				emu = &ms[j];
		if (!emu || !emu->available)
			continue;
		if (!any)
			printf("\nNative ÷ emulated (same run):\n\n| method | p50 | p99 | throughput |\n|---|---:|---:|---:|\n");
		any = true;
		{
			double r50 = spct(&nat->lat, .5) / spct(&emu->lat, .5);
			double r99 = spct(&nat->lat, .99) / spct(&emu->lat, .99);
			double rt = tput_ratio(nat, emu);
			printf("| %s | %s | %s | %s |\n", nat->label, num(a, r50, "%.3f"), num(b, r99, "%.3f"),
			       num(c, rt, "%.3f"));
			csv_num(nat->label, "native/emulate", param, "latency_p50_ratio", r50, "x");
			csv_num(nat->label, "native/emulate", param, "latency_p99_ratio", r99, "x");
			csv_num(nat->label, "native/emulate", param, "throughput_ratio", rt, "x");
		}
	}
}

static void part_spawn(size_t rounds, size_t k, bool warm)
{
	struct combo_probe probe[8];
	struct method ms[64];
	size_t n;
	uint64_t t0 = now_ns();

	part = "spawn";
	probe_combos(probe);
	print_combos(probe);
	n = spawn_methods(ms, probe, warm);
	run_rounds(ms, n, rounds, k, 5 * NSEC);
	printf("\nspawn + wait of bench-noop: %zu rounds × %zu per method, interleaved (%.1f s)\n", rounds, k,
	       (double)(now_ns() - t0) / 1e9);
	report_methods(ms, n, "", "posix_spawn");
	report_native_vs_emulated(ms, n, "");
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	if (*end || v == 0)
		die("bad size '%s'", s);
	return v;
}

static const char *size_name(char *buf, uint64_t v)
{
	if (v >= (1ull << 30) && v % (1ull << 30) == 0)
		snprintf(buf, 24, "%lluGiB", (unsigned long long)(v >> 30));
	else
		snprintf(buf, 24, "%lluMiB", (unsigned long long)(v >> 20));
	return buf;
}

/*
 * The parent's size: one anonymous mapping, 4 KiB pages (no THP), every
 * page written once, grown from one size to the next in this process.
 */
static void part_rss(int nsizes, char **sizes)
{
	struct combo_probe probe[8];
	uint64_t size[8], max = 0, touched = 0;
	struct method ms[8][64];
	size_t n = 0;
	long rss_kib[8];
	double ref_ratio;
	char *mem;

	part = "rss";
	if (nsizes > 8)
		die("at most 8 sizes");
	for (int i = 0; i < nsizes; i++) {
		size[i] = parse_size(sizes[i]);
		if (i && size[i] <= size[i - 1])
			die("sizes must grow");
		max = size[i];
	}
	probe_combos(probe);
	mem = mmap(NULL, max, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap %llu: %s", (unsigned long long)max, strerror(errno));
	if (madvise(mem, max, MADV_NOHUGEPAGE) < 0)
		die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	for (int s = 0; s < nsizes; s++) {
		char name[24];
		uint64_t t0 = now_ns();
		/* Fewer spawns where a fork costs a page table copy of gigabytes. */
		size_t rounds = size[s] >= (4ull << 30) ? 15 : 40, k = 10;
		uint64_t budget = size[s] >= (4ull << 30) ? 20 * MSEC : 60 * MSEC;

		for (; touched < size[s]; touched += 4096)
			mem[touched] = 1;
		rss_kib[s] = proc_status(getpid(), "VmRSS");
		n = spawn_methods(ms[s], probe, true);
		run_rounds(ms[s], n, rounds, k, budget);
		fprintf(stderr, "bench: rss %s: VmRSS %ld MiB, %.1f s\n", size_name(name, size[s]),
			rss_kib[s] >> 10, (double)(now_ns() - t0) / 1e9);
		csv_num("process", "-", name, "vmrss", (double)rss_kib[s] / 1024, "MiB");
		printf("\nParent of %s (VmRSS %ld MiB): %zu rounds × up to %zu per method, interleaved\n", name,
		       rss_kib[s] >> 10, rounds, k);
		report_methods(ms[s], n, name, "posix_spawn");
	}

	ref_ratio = spct(&ms[nsizes - 1][0].lat, .5) / spct(&ms[0][0].lat, .5);
	printf("\nspawn + wait p50 (p99) in µs vs the parent's RSS (touched 4 KiB pages):\n\n| method | backend |");
	for (int s = 0; s < nsizes; s++) {
		char name[24];
		printf(" %s (VmRSS %ld MiB) |", size_name(name, size[s]), rss_kib[s] >> 10);
	}
	printf(" %s ÷ %s | same, ÷ posix_spawn's |\n|---|---|", sizes[nsizes - 1], sizes[0]);
	for (int s = 0; s <= nsizes + 1; s++)
		printf("---:|");
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		char a[24], b[24], c[24], first[24], last[24], param[64];
		double r, rn;

		printf("| %s | %s |", ms[0][i].label, ms[0][i].backend);
		for (int s = 0; s < nsizes; s++)
			printf(" %s (%s) |", us(a, spct(&ms[s][i].lat, .5)), us(b, spct(&ms[s][i].lat, .99)));
		r = spct(&ms[nsizes - 1][i].lat, .5) / spct(&ms[0][i].lat, .5);
		/* The sizes ran one after the other: the machine may have drifted in
		 * between. posix_spawn (vfork-style, flat) in the same size is the
		 * yardstick of that drift. */
		rn = r / ref_ratio;
		printf(" %s | %s |\n", num(c, r, "%.2f"), num(a, rn, "%.2f"));
		snprintf(param, sizeof(param), "%s/%s", size_name(last, size[nsizes - 1]), size_name(first, size[0]));
		csv_num(ms[0][i].label, ms[0][i].backend, param, "latency_p50_ratio", r, "x");
		csv_num(ms[0][i].label, ms[0][i].backend, param, "latency_p50_ratio_vs_posix_spawn", rn, "x");
	}
	munmap(mem, max);
}

/* ------------------------------------------------------------------ */
/* clone3                                                              */

static size_t clone3_methods(struct method *ms)
{
	size_t n = 0;

	method_add(ms, &n, K_RAW_CLONE3, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_CLONE3, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR, TETHER_BACKEND_EMULATE, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR, TETHER_BACKEND_NATIVE, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR, TETHER_BACKEND_EMULATE, true);
	method_add(ms, &n, K_TETHER_CLONE3, AR | NNP | AK, TETHER_BACKEND_EMULATE, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR | NNP | AK, TETHER_BACKEND_NATIVE, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR | NNP | AK, TETHER_BACKEND_EMULATE, true);
	return n;
}

static void part_clone3(size_t rounds, size_t k)
{
	struct method ms[16];
	size_t n;
	uint64_t t0 = now_ns();

	part = "clone3";
	n = clone3_methods(ms);
	run_rounds(ms, n, rounds, k, 5 * NSEC);
	printf("\nfork-like create + exit + reap (no exec): %zu rounds × %zu, interleaved (%.1f s)\n", rounds, k,
	       (double)(now_ns() - t0) / 1e9);
	report_methods(ms, n, "", "raw clone3");
	report_native_vs_emulated(ms, n, "");
}

/* ------------------------------------------------------------------ */
/* reap                                                                */

/*
 * N children exit at once; when is each reaped?
 *
 * Without hooks in the library, the reap itself is observable through the
 * kernel: a pidfd polls EPOLLIN when its process exits (a zombie) and
 * EPOLLIN|EPOLLHUP once the process is released, which is the reap, and the
 * kernel wakes the pidfd's pollers at both moments. A watcher process (our
 * own, forked before the children, so that it holds none of their fds and
 * has a descriptor table of its own) opens one pidfd per child with
 * pidfd_open() and waits on all of them in one edge-triggered epoll: the
 * first event is the exit, the one with EPOLLHUP the reap. Each child
 * writes CLOCK_MONOTONIC into a shared page right before _exit().
 * Per child: exit -> reap = HUP seen - exit written. Events are stamped when
 * epoll_wait() returns, so every figure is an upper bound; the watcher runs
 * SCHED_FIFO (where allowed) so that it is not one of N runnable tasks
 * sharing two CPUs. "zombie -> reap" reads 0 when both events were already
 * there at one epoll_wait().
 *
 * The children are fork-like tether_clone3(CLONE_AUTOREAP) children, each
 * blocked in read() on one pipe whose write end this process closes to
 * release them all at once. The caller's pidfd is closed at once
 * (tether_pidfd_close(): fire and forget; the library keeps its own). Each
 * child first closes every inherited descriptor except the pipe, so that its
 * exit costs the same whatever this process holds.
 *
 * Baseline, same children and watcher: raw clone3(exit_signal=0) children
 * reaped by a thread of ours doing what the emulation does and nothing
 * else: epoll_wait() on their pidfds, waitid(P_PIDFD) for each. (A thread
 * in waitid(P_ALL) is no baseline: the kernel walks the list of children
 * for every reap, O(N) each.)
 *
 * The reaper's CPU time per child comes from getrusage(): the process's
 * (which keeps the time of threads that have ended) minus the main
 * thread's, which sleeps in waitpid() meanwhile.
 */
struct reap_stats {
	bool watcher_not_rt;
	struct samples cpu_per_child; /* ns of reaper CPU per child, per repetition */
	struct samples exit_to_reap, zombie_to_reap;
	struct samples all_exited, all_reaped; /* per repetition, from the release */
};

struct reap_shared {
	unsigned int ready;   /* children blocked (about to block) in read() */
	unsigned int watcher_rt; /* the watcher runs SCHED_FIFO */
	uint64_t t[];         /* [0,n): exit; [n,2n): zombie seen; [2n,3n): reap seen; [3n,4n): pid */
};

struct raw_reaper {
	size_t n;
	const int *fds;
};

/* The least this design can do: epoll on the pidfds, waitid(P_PIDFD) each. */
static void *raw_reaper(void *p)
{
	struct raw_reaper *a = p;
	struct epoll_event evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	siginfo_t si;

	for (size_t i = 0; i < a->n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.fd = a->fds[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, a->fds[i], &ev) < 0)
			die("raw reaper: epoll_ctl: %s", strerror(errno));
	}
	for (size_t k = 0; k < a->n;) {
		int m = epoll_wait(ep, evs, 64, -1);
		for (int j = 0; j < m; j++)
			if (waitid_raw(P_PIDFD, evs[j].data.fd, &si, WEXITED | __WALL) == 0)
				k++;
	}
	close(ep);
	return NULL;
}

static _Noreturn void reap_child(int rd, uint64_t *slot, unsigned int *ready)
{
	char c;

	if (rd > 0)
		syscall(SYS_close_range, 0, rd - 1, 0);
	syscall(SYS_close_range, rd + 1, ~0U, 0);
	__atomic_fetch_add(ready, 1, __ATOMIC_SEQ_CST);
	while (read(rd, &c, 1) < 0 && errno == EINTR)
		;
	*slot = now_ns();
	_exit(0);
}

static _Noreturn void reap_watcher(struct reap_shared *sh, size_t n, int go, int ack)
{
	uint64_t *t_zombie = sh->t + n, *t_reap = sh->t + 2 * n, *pid = sh->t + 3 * n;
	struct epoll_event evs[1024];
	size_t reaped = 0;
	char c;
	int ep;

	if (read(go, &c, 1) != 1)
		_exit(2);
	/* Real-time, so that its stamps follow the events and not the run queue
	 * of N runnable children; the reapers measured keep normal priority. */
	sh->watcher_rt = sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 10 }) == 0;
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (size_t i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = i };
		int fd = pidfd_open((pid_t)pid[i]);

		if (fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			fprintf(stderr, "bench: watcher: child %zu: %s\n", i, strerror(errno));
			_exit(3);
		}
	}
	(void)!write(ack, "w", 1);
	while (reaped < n) {
		int k = epoll_wait(ep, evs, 1024, 60000);
		uint64_t t = now_ns();

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, "bench: watcher: %zu of %zu not reaped after 60 s\n", n - reaped, n);
			_exit(4);
		}
		for (int j = 0; j < k; j++) {
			size_t i = (size_t)evs[j].data.u64;
			if (!t_zombie[i])
				t_zombie[i] = t;
			if ((evs[j].events & EPOLLHUP) && !t_reap[i]) {
				t_reap[i] = t;
				reaped++;
			}
		}
	}
	_exit(0);
}

static void reap_once(size_t n, bool emulated, struct reap_stats *st)
{
	size_t shared_size = sizeof(struct reap_shared) + 4 * n * sizeof(uint64_t);
	struct reap_shared *sh = mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t *t_exit, *t_zombie, *t_reap, *pid, t_release, last_exit = 0, last_reap = 0;
	int *own = calloc(n, sizeof(*own)), rel[2], go[2], ack[2], wst;
	struct raw_reaper ra = { .n = n, .fds = own };
	struct rusage self0, self1, main0, main1;
	pthread_t reaper;
	pid_t watcher;
	char c;

	if (sh == MAP_FAILED || !own)
		die("out of memory");
	t_exit = sh->t;
	t_zombie = sh->t + n;
	t_reap = sh->t + 2 * n;
	pid = sh->t + 3 * n;
	if (pipe2(rel, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(ack, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	watcher = fork();
	if (watcher < 0)
		die("fork: %s", strerror(errno));
	if (watcher == 0) {
		close(rel[0]);
		close(rel[1]);
		close(go[1]);
		close(ack[0]);
		reap_watcher(sh, n, go[0], ack[1]);
	}
	close(go[0]);
	close(ack[1]);

	tether_set_backend(TETHER_BACKEND_EMULATE);
	for (size_t i = 0; i < n; i++) {
		int fd = -1;
		struct clone_args a = { .flags = CLONE_PIDFD | (emulated ? AR : 0), .pidfd = (uintptr_t)&fd };
		pid_t p = emulated ? tether_clone3(&a, sizeof(a)) : (pid_t)syscall(SYS_clone3, &a, sizeof(a));

		if (p == 0)
			reap_child(rel[0], &t_exit[i], &sh->ready);
		if (p < 0)
			die("%s child %zu: %s", emulated ? "tether_clone3" : "clone3", i, strerror(errno));
		pid[i] = (uint64_t)p;
		if (emulated) {
			tether_pidfd_close(fd);
			own[i] = -1;
		} else {
			own[i] = fd;
		}
	}
	if (!emulated && (errno = pthread_create(&reaper, NULL, raw_reaper, &ra)) != 0)
		die("pthread_create: %s", strerror(errno));
	if (write(go[1], "g", 1) != 1 || read(ack[0], &c, 1) != 1)
		die("the watcher failed");
	for (int i = 0; __atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < n; i++) {
		if (i > 30000)
			die("children did not start");
		sleep_ms(1);
	}
	sleep_ms(20); /* every child in read() */

	getrusage(RUSAGE_SELF, &self0);
	getrusage(RUSAGE_THREAD, &main0);
	t_release = now_ns();
	close(rel[1]);
	while (waitpid(watcher, &wst, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!emulated)
		pthread_join(reaper, NULL);
	getrusage(RUSAGE_THREAD, &main1);
	getrusage(RUSAGE_SELF, &self1);
	if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
		die("the watcher failed (status %#x)", wst);
	for (size_t i = 0; i < n; i++) {
		if (!t_exit[i])
			die("child %zu recorded no exit time", i);
		sadd(&st->exit_to_reap, t_reap[i] - t_exit[i]);
		sadd(&st->zombie_to_reap, t_reap[i] - t_zombie[i]);
		if (t_exit[i] > last_exit)
			last_exit = t_exit[i];
		if (t_reap[i] > last_reap)
			last_reap = t_reap[i];
	}
	if (!sh->watcher_rt)
		st->watcher_not_rt = true;
	sadd(&st->cpu_per_child, (uint64_t)((tv_ns(&self1.ru_utime) + tv_ns(&self1.ru_stime) - tv_ns(&self0.ru_utime) -
					     tv_ns(&self0.ru_stime) - (tv_ns(&main1.ru_utime) + tv_ns(&main1.ru_stime) -
					     tv_ns(&main0.ru_utime) - tv_ns(&main0.ru_stime))) / (int64_t)n));
	sadd(&st->all_exited, last_exit - t_release);
	sadd(&st->all_reaped, last_reap - t_release);

	if (!emulated)
		for (size_t i = 0; i < n; i++)
			close(own[i]);
	wait_single_threaded();
	close(rel[0]);
	close(go[1]);
	close(ack[0]);
	munmap(sh, shared_size);
	free(own);
}

static void part_reap(int nn, char **ns, size_t reps)
{
	part = "reap";
	printf("\nN children released at once (%zu repetitions each, interleaved): times in µs, upper bounds;\n"
	       "reaper CPU/child: CPU time of the reaping thread per child\n\n", reps);
	printf("| children | reaper | all exited (median) | all reaped (median) | exit→reap p50 | exit→reap p99 | zombie→reap p50 | zombie→reap p99 | reaper CPU/child |\n");
	printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < nn; i++) {
		size_t n = (size_t)parse_size(ns[i]);
		struct reap_stats st[2] = { 0 };
		char param[32];

		raise_nofile(n + 256);
		for (size_t r = 0; r < reps; r++)
			for (int e = 0; e < 2; e++) {
				bool emulated = (e + r) % 2 == 0;
				reap_once(n, emulated, &st[emulated]);
			}
		snprintf(param, sizeof(param), "N=%zu", n);
		if (st[0].watcher_not_rt || st[1].watcher_not_rt)
			fprintf(stderr, "bench: reap: the watcher could not run SCHED_FIFO: its stamps lag more\n");
		for (int e = 1; e >= 0; e--) {
			const char *name = e ? "tether emulated reaper" : "baseline: epoll + waitid(P_PIDFD) thread";
			const char *be = e ? "emulate" : "-";
			char a[24], b[24], c[24], d[24], f[24], g[24], h[24];
			struct reap_stats *s = &st[e];

			printf("| %zu | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, name,
			       us(a, spct(&s->all_exited, .5)), us(b, spct(&s->all_reaped, .5)),
			       us(c, spct(&s->exit_to_reap, .5)), us(d, spct(&s->exit_to_reap, .99)),
			       us(f, spct(&s->zombie_to_reap, .5)), us(g, spct(&s->zombie_to_reap, .99)),
			       us(h, spct(&s->cpu_per_child, .5)));
			csv_num(name, be, param, "reaper_cpu_per_child", spct(&s->cpu_per_child, .5) / 1e3, "us");
			csv_num(name, be, param, "all_exited", spct(&s->all_exited, .5) / 1e3, "us");
			csv_num(name, be, param, "all_reaped", spct(&s->all_reaped, .5) / 1e3, "us");
			csv_num(name, be, param, "exit_to_reap_p50", spct(&s->exit_to_reap, .5) / 1e3, "us");
			csv_num(name, be, param, "exit_to_reap_p99", spct(&s->exit_to_reap, .99) / 1e3, "us");
			csv_num(name, be, param, "zombie_to_reap_p50", spct(&s->zombie_to_reap, .5) / 1e3, "us");
			csv_num(name, be, param, "zombie_to_reap_p99", spct(&s->zombie_to_reap, .99) / 1e3, "us");
		}
	}
}

/* ------------------------------------------------------------------ */
/* autokill                                                            */

/*
 * The child's death is seen through a pidfd of our own (pidfd_open(),
 * another file than the handle's), which polls readable when it exits.
 * The clock starts right before the release (or the SIGKILL).
 */
enum ak_variant { AK_RELEASE, AK_RELEASE_AMID, AK_PIDFD_CLOSE, AK_CREATOR_KILL, AK_NVARIANTS };

static const char *const ak_name[AK_NVARIANTS] = {
	[AK_RELEASE] = "tether_child_release -> death",
	[AK_RELEASE_AMID] = "tether_child_release -> death (100 other autokill children)",
	[AK_PIDFD_CLOSE] = "tether_pidfd_close -> death (tether_clone3 child)",
	[AK_CREATOR_KILL] = "creator SIGKILL -> death",
};

/* After the death: wait for the reap too (a HUP on our pidfd), so that nothing piles up. */
static void wait_reaped(int fd)
{
	poll_one(fd, 0, 30000, "autokilled child not reaped");
	close(fd);
}

static uint64_t ak_release_once(bool clone3)
{
	const uint64_t flags = AR | NNP | AK;
	struct tether_child *c = NULL;
	struct tether_spawn_attr *attr;
	int pidfd = -1, fd;
	uint64_t t0, t1;
	pid_t pid;

	if (clone3) {
		struct clone_args a = { .flags = CLONE_PIDFD | flags, .pidfd = (uintptr_t)&pidfd };
		pid = tether_clone3(&a, sizeof(a));
		if (pid == 0)
			for (;;)
				pause();
		if (pid < 0)
			die("tether_clone3: %s", strerror(errno));
	} else {
		int r;
		if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, flags) < 0)
			die("attr");
		r = tether_spawn(&c, noop_path, NULL, attr, pause_argv, empty_env);
		tether_spawn_attr_destroy(attr);
		if (r < 0)
			die("tether_spawn: %s", strerror(-r));
		pid = tether_child_pid(c);
	}
	fd = pidfd_open(pid);
	if (fd < 0)
		die("pidfd_open: %s", strerror(errno));
	t0 = now_ns();
	if (clone3)
		tether_pidfd_close(pidfd);
	else
		tether_child_release(c);
	poll_one(fd, POLLIN, 10000, "autokill child still alive 10 s after the release");
	t1 = now_ns();
	wait_reaped(fd);
	return t1 - t0;
}

/* A creator process spawns an autokill child and is killed with SIGKILL. */
static uint64_t ak_creator_once(enum tether_backend be)
{
	int rp[2], gfd, cfd;
	pid_t creator, grandchild = 0, wardens[8];
	size_t nw;
	uint64_t t0, t1;
	siginfo_t si;

	if (pipe2(rp, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	creator = fork();
	if (creator < 0)
		die("fork: %s", strerror(errno));
	if (creator == 0) {
		struct tether_spawn_attr *attr;
		struct tether_child *c;
		pid_t gp;
		int r;

		close(rp[0]);
		tether_set_backend(be);
		r = tether_spawn_attr_init(&attr);
		if (r == 0)
			r = tether_spawn_attr_set_flags(attr, AR | NNP | AK);
		if (r == 0)
			r = tether_spawn(&c, noop_path, NULL, attr, pause_argv, empty_env);
		gp = r < 0 ? r : tether_child_pid(c);
		(void)!write(rp[1], &gp, sizeof(gp));
		for (;;)
			pause();
	}
	close(rp[1]);
	if (read(rp[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild) || grandchild <= 0)
		die("creator: tether_spawn: %s", strerror(grandchild < 0 ? -grandchild : EIO));
	close(rp[0]);
	gfd = pidfd_open(grandchild);
	cfd = pidfd_open(creator);
	if (gfd < 0 || cfd < 0)
		die("pidfd_open: %s", strerror(errno));
	nw = children_of(creator, "tether-warden", wardens, 8);

	t0 = now_ns();
	pidfd_kill(cfd, SIGKILL);
	poll_one(gfd, POLLIN, 10000, "autokill child still alive 10 s after its creator's SIGKILL");
	t1 = now_ns();

	/* Reparented to us (a subreaper): the creator, then what it left. */
	while (waitid_raw(P_PIDFD, cfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	while (waitid_raw(P_PIDFD, gfd, &si, WEXITED | __WALL) < 0 && errno == EINTR)
		;
	for (size_t i = 0; i < nw; i++)
		while (waitid_raw(P_PID, wardens[i], &si, WEXITED | __WALL) < 0 && errno == EINTR)
			;
	close(gfd);
	close(cfd);
	return t1 - t0;
}

static void part_autokill(size_t iters)
{
	enum tether_backend bes[2] = { TETHER_BACKEND_EMULATE, TETHER_BACKEND_NATIVE };
	bool have_native = native_has(AR | NNP | AK);
	int nb = have_native ? 2 : 1;
	struct samples s[2][AK_NVARIANTS] = { 0 };
	struct tether_child *others[2][100];
	struct tether_spawn_attr *attr;

	part = "autokill";
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, AR | NNP | AK) < 0)
		die("attr");
	for (int v = 0; v < AK_NVARIANTS; v++) {
		if (v == AK_RELEASE_AMID)
			for (int b = 0; b < nb; b++) {
				tether_set_backend(bes[b]);
				for (int o = 0; o < 100; o++)
					if (tether_spawn(&others[b][o], noop_path, NULL, attr, pause_argv, empty_env) < 0)
						die("tether_spawn");
			}
		/* The backends alternate, each going first every other time. */
		for (size_t i = 0; i < iters; i++)
			for (int j = 0; j < nb; j++) {
				int b = (int)((j + i) % (size_t)nb);

				tether_set_backend(bes[b]);
				switch (v) {
				case AK_RELEASE:
				case AK_RELEASE_AMID:
					sadd(&s[b][v], ak_release_once(false));
					break;
				case AK_PIDFD_CLOSE:
					sadd(&s[b][v], ak_release_once(true));
					break;
				case AK_CREATOR_KILL:
					sadd(&s[b][v], ak_creator_once(bes[b]));
					break;
				}
			}
		if (v == AK_RELEASE_AMID)
			for (int b = 0; b < nb; b++)
				for (int o = 0; o < 100; o++) {
					tether_child_kill(others[b][o], SIGKILL);
					tether_wait_release(others[b][o], false);
				}
	}
	tether_spawn_attr_destroy(attr);

	printf("\nAutokill: time until the child is dead (its own pidfd polls readable), %zu each, in µs\n\n", iters);
	printf("| event | backend | p50 | p99 | max |\n|---|---|---:|---:|---:|\n");
	for (int v = 0; v < AK_NVARIANTS; v++)
		for (int b = 0; b < 2; b++) {
			char a[24], c[24], d[24];
			const char *be = b ? "native" : "emulate";

			if (b == 1 && !have_native) {
				printf("| %s | native | n/a | n/a | n/a |\n", ak_name[v]);
				csv_row(ak_name[v], be, "", "latency_p50", "n/a", "us");
				csv_row(ak_name[v], be, "", "latency_p99", "n/a", "us");
				continue;
			}
			printf("| %s | %s | %s | %s | %s |\n", ak_name[v], be, us(a, spct(&s[b][v], .5)),
			       us(c, spct(&s[b][v], .99)), us(d, spct(&s[b][v], 1)));
			csv_num(ak_name[v], be, "", "latency_p50", spct(&s[b][v], .5) / 1e3, "us");
			csv_num(ak_name[v], be, "", "latency_p99", spct(&s[b][v], .99) / 1e3, "us");
			csv_num(ak_name[v], be, "", "latency_max", spct(&s[b][v], 1) / 1e3, "us");
		}
	if (have_native) {
		printf("\nNative ÷ emulated:\n\n| event | p50 | p99 |\n|---|---:|---:|\n");
		for (int v = 0; v < AK_NVARIANTS; v++) {
			char a[24], b[24];
			double r50 = spct(&s[1][v], .5) / spct(&s[0][v], .5);
			double r99 = spct(&s[1][v], .99) / spct(&s[0][v], .99);
			printf("| %s | %s | %s |\n", ak_name[v], num(a, r50, "%.3f"), num(b, r99, "%.3f"));
			csv_num(ak_name[v], "native/emulate", "", "latency_p50_ratio", r50, "x");
			csv_num(ak_name[v], "native/emulate", "", "latency_p99_ratio", r99, "x");
		}
	}
}

/* ------------------------------------------------------------------ */
/* memory and idle                                                     */

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

struct tracked {
	struct tether_child *child; /* spawn */
	int pidfd;                  /* clone3 */
};

static void track_start(struct tracked *t, bool spawn, uint64_t flags, struct tether_spawn_attr *attr)
{
	if (spawn) {
		int r = tether_spawn(&t->child, noop_path, NULL, attr, pause_argv, empty_env);
		if (r < 0)
			die("tether_spawn: %s", strerror(-r));
	} else {
		struct clone_args a = { .flags = CLONE_PIDFD | flags, .pidfd = (uintptr_t)&t->pidfd };
		pid_t p = tether_clone3(&a, sizeof(a));
		if (p == 0)
			for (;;)
				pause();
		if (p < 0)
			die("tether_clone3: %s", strerror(errno));
	}
}

static void track_stop(struct tracked *t, bool spawn)
{
	if (spawn) {
		tether_child_kill(t->child, SIGKILL);
		tether_wait_release(t->child, false);
	} else {
		pidfd_kill(t->pidfd, SIGKILL);
		autoreap_wait_close(t->pidfd, false);
	}
}

/*
 * Memory per tracked child: the heap in use (mallinfo2: every arena, and
 * mmapped blocks) before and after N more children exist, with one child
 * already there so that what exists once (the reaper's stack, the warden)
 * is not counted. The handle (struct tether_child) is the library's
 * allocation too, and is counted.
 */
static void part_memory(size_t n)
{
	static const struct { bool spawn; uint64_t flags; const char *name; } variants[] = {
		{ true, AR | NNP | AK, "tether_spawn autoreap+nnp+autokill" },
		{ true, AR, "tether_spawn autoreap" },
		{ false, AR | NNP | AK, "tether_clone3 autoreap+nnp+autokill" },
		{ false, AR, "tether_clone3 autoreap" },
	};
	struct tracked *t = calloc(n + 1, sizeof(*t));

	part = "memory";
	if (!t)
		die("out of memory");
	raise_nofile(4 * n + 256);
	tether_set_backend(TETHER_BACKEND_EMULATE);
	printf("\nWhat the library holds per tracked emulated child (%zu children, all alive)\n\n", n);
	printf("| children | heap B/child | fds/child (ours) | threads before → after | warden fds/child | warden RSS B/child | warden RSS KiB |\n");
	printf("|---|---:|---:|---|---:|---:|---:|\n");
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		struct tether_spawn_attr *attr;
		size_t heap0, heap1;
		long fds0, fds1, thr0, thr1, wfd0 = -1, wfd1 = -1, wrss0 = -1, wrss1 = -1;
		pid_t w;
		double heap_pc, fds_pc, wfd_pc = NAN, wrss_pc = NAN;
		char a[24], b[24], c[24], d[24], e[24];

		if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, variants[v].flags) < 0)
			die("attr");
		track_start(&t[n], variants[v].spawn, variants[v].flags, attr);
		sleep_ms(50);
		heap0 = heap_in_use();
		fds0 = count_fds(getpid());
		thr0 = proc_status(getpid(), "Threads");
		w = our_warden();
		if (w > 0) {
			wfd0 = count_fds(w);
			wrss0 = proc_status(w, "VmRSS");
		}
		for (size_t i = 0; i < n; i++)
			track_start(&t[i], variants[v].spawn, variants[v].flags, attr);
		sleep_ms(100);
		heap1 = heap_in_use();
		fds1 = count_fds(getpid());
		thr1 = proc_status(getpid(), "Threads");
		if (w > 0) {
			wfd1 = count_fds(w);
			wrss1 = proc_status(w, "VmRSS");
			wfd_pc = (double)(wfd1 - wfd0) / (double)n;
			wrss_pc = (double)(wrss1 - wrss0) * 1024 / (double)n;
		}
		heap_pc = ((double)heap1 - (double)heap0) / (double)n;
		fds_pc = (double)(fds1 - fds0) / (double)n;
		printf("| %s | %s | %s | %ld → %ld | %s | %s | %s |\n", variants[v].name, num(a, heap_pc, "%.0f"),
		       num(b, fds_pc, "%.2f"), thr0, thr1, num(c, wfd_pc, "%.2f"), num(d, wrss_pc, "%.0f"),
		       num(e, w > 0 ? (double)wrss1 : NAN, "%.0f"));
		csv_num(variants[v].name, "emulate", "", "heap_per_child", heap_pc, "B");
		csv_num(variants[v].name, "emulate", "", "fds_per_child", fds_pc, "count");
		csv_num(variants[v].name, "emulate", "", "threads_before", (double)thr0, "count");
		csv_num(variants[v].name, "emulate", "", "threads_after", (double)thr1, "count");
		csv_num(variants[v].name, "emulate", "", "warden_fds_per_child", wfd_pc, "count");
		csv_num(variants[v].name, "emulate", "", "warden_rss_per_child", wrss_pc, "B");
		csv_num(variants[v].name, "emulate", "", "warden_rss", w > 0 ? (double)wrss1 : NAN, "KiB");
		for (size_t i = 0; i <= n; i++)
			track_stop(&t[i], variants[v].spawn);
		tether_spawn_attr_destroy(attr);
		wait_single_threaded();
	}
	free(t);
}

/*
 * Idle: N emulated autoreap+autokill children alive and asleep. What does
 * the library spend meanwhile? This process's CPU ticks (all threads), the
 * run time and context switches of its threads other than the main one
 * (which sleeps in nanosleep), and the same for the warden.
 */
static void part_idle(size_t n, unsigned int secs)
{
	struct tracked *t = calloc(n, sizeof(*t));
	struct tether_spawn_attr *attr;
	struct cpu s0, s1, w0 = { 0 }, w1 = { 0 };
	pid_t w;
	long thr;
	long hz = sysconf(_SC_CLK_TCK);

	part = "idle";
	if (!t)
		die("out of memory");
	tether_set_backend(TETHER_BACKEND_EMULATE);
	if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, AR | NNP | AK) < 0)
		die("attr");
	for (size_t i = 0; i < n; i++)
		track_start(&t[i], true, 0, attr);
	sleep_ms(200);
	w = our_warden();
	thr = proc_status(getpid(), "Threads");
	s0 = proc_cpu(getpid(), getpid());
	if (w > 0)
		w0 = proc_cpu(w, -1);
	sleep_ms(secs * 1000);
	s1 = proc_cpu(getpid(), getpid());
	if (w > 0)
		w1 = proc_cpu(w, -1);

	printf("\nIdle: %zu emulated autoreap+nnp+autokill children alive for %u s (CLK_TCK %ld)\n\n", n, secs, hz);
	printf("| process | threads | CPU ticks | run time µs (not main thread) | context switches (not main thread) |\n");
	printf("|---|---:|---:|---:|---:|\n");
	printf("| this process (reaper thread) | %ld | %llu | %.1f | %llu |\n", thr, s1.ticks - s0.ticks,
	       (double)(s1.run_ns - s0.run_ns) / 1e3, s1.ctxsw - s0.ctxsw);
	csv_num("caller process", "emulate", "", "cpu_ticks", (double)(s1.ticks - s0.ticks), "ticks");
	csv_num("caller process", "emulate", "", "library_threads_run", (double)(s1.run_ns - s0.run_ns) / 1e3, "us");
	csv_num("caller process", "emulate", "", "library_threads_ctxsw", (double)(s1.ctxsw - s0.ctxsw), "count");
	csv_num("caller process", "emulate", "", "threads", (double)thr, "count");
	if (w > 0) {
		printf("| tether-warden | %d | %llu | %.1f | %llu |\n", w1.tasks, w1.ticks - w0.ticks,
		       (double)(w1.run_ns - w0.run_ns) / 1e3, w1.ctxsw - w0.ctxsw);
		csv_num("tether-warden", "emulate", "", "cpu_ticks", (double)(w1.ticks - w0.ticks), "ticks");
		csv_num("tether-warden", "emulate", "", "run", (double)(w1.run_ns - w0.run_ns) / 1e3, "us");
		csv_num("tether-warden", "emulate", "", "ctxsw", (double)(w1.ctxsw - w0.ctxsw), "count");
	} else {
		printf("| tether-warden | - | not found | | |\n");
	}
	for (size_t i = 0; i < n; i++)
		track_stop(&t[i], true);
	tether_spawn_attr_destroy(attr);
	free(t);
}

/* ------------------------------------------------------------------ */
/* loop, list, the VM                                                  */

static size_t all_methods(struct method *ms)
{
	size_t n = spawn_methods(ms, NULL, true);

	return n + clone3_methods(ms + n);
}

static void part_loop(const char *id, size_t count)
{
	struct method ms[96];
	size_t n = all_methods(ms);
	uint64_t t0;

	part = "loop";
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ms[i].id, id))
			continue;
		if (!ms[i].available)
			die("%s: %s", id, ms[i].na);
		t0 = now_ns();
		batch(&ms[i], count, UINT64_MAX, true);
		printf("%s: %zu in %.3f s, p50 %.1f µs\n", id, count, (double)(now_ns() - t0) / 1e9,
		       spct(&ms[i].lat, .5) / 1e3);
		return;
	}
	die("no method '%s' (bench list)", id);
}

static void part_list(void)
{
	struct method ms[96];
	size_t n = all_methods(ms);

	for (size_t i = 0; i < n; i++)
		printf("%-44s %s%s\n", ms[i].id, ms[i].label, ms[i].available ? "" : " (not available here)");
}

static void vm_mount(const char *src, const char *dir, const char *type, unsigned long flags)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, NULL) < 0 && errno != EBUSY)
		fprintf(stderr, "bench: mount %s: %s\n", dir, strerror(errno));
}

/* As the init of a VM: a reduced run, CSV lines on the console, power off. */
static int vm_main(void)
{
	struct utsname u;

	in_vm = true;
	vm_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID);
	vm_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
	vm_mount("tmpfs", "/tmp", "tmpfs", MS_NODEV);
	setvbuf(stdout, NULL, _IOLBF, 0);
	noop_path = "/bench-noop";
	csv_out = stdout;
	csv_prefix = "@@BENCH-CSV ";
	uname(&u);
	printf("@@BENCH-KERNEL %s\n", u.release);
	printf("@@BENCH-FEATURES %#x\n", tether_features());
	part_spawn(20, 5, false);
	part_clone3(20, 5);
	part_autokill(100);
	printf("@@BENCH-DONE\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}

/* ------------------------------------------------------------------ */

static _Noreturn void usage(void)
{
	fprintf(stderr,
		"usage: bench [--csv FILE] [--noop PATH] [--rss SIZE] PART [ARGS]\n"
		"  spawn [ROUNDS [K]] | rss SIZE... | clone3 [ROUNDS [K]] | reap N... [--reps R]\n"
		"  autokill [ITERS] | memory [N] | idle [N [SECONDS]] | loop ID COUNT | list\n");
	exit(2);
}

static size_t arg_or(int argc, char **argv, int i, size_t def)
{
	return i < argc ? (size_t)parse_size(argv[i]) : def;
}

int main(int argc, char **argv)
{
	static char noop_buf[PATH_MAX + 16];
	const char *csv_path = NULL, *rss_arg = NULL;
	int i = 1;

	if (getpid() == 1)
		return vm_main();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
			csv_path = argv[++i];
		else if (strcmp(argv[i], "--noop") == 0 && i + 1 < argc)
			noop_path = argv[++i];
		else if (strcmp(argv[i], "--rss") == 0 && i + 1 < argc)
			rss_arg = argv[++i];
		else
			usage();
	}
	if (i >= argc)
		usage();
	if (!noop_path) {
		ssize_t l = readlink("/proc/self/exe", noop_buf, PATH_MAX);
		char *slash;
		if (l < 0)
			die("/proc/self/exe: %s", strerror(errno));
		noop_buf[l] = 0;
		slash = strrchr(noop_buf, '/');
		strcpy(slash ? slash + 1 : noop_buf, "bench-noop");
		noop_path = noop_buf;
	}
	if (access(noop_path, X_OK) < 0)
		die("%s: %s", noop_path, strerror(errno));
	if (csv_path) {
		csv_out = fopen(csv_path, "a");
		if (!csv_out)
			die("%s: %s", csv_path, strerror(errno));
	}

	if (rss_arg) {
		/* A parent of this size for any part (loop under strace or perf). */
		uint64_t size = parse_size(rss_arg);
		char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED || madvise(mem, size, MADV_NOHUGEPAGE) < 0)
			die("--rss %s: %s", rss_arg, strerror(errno));
		for (uint64_t off = 0; off < size; off += 4096)
			mem[off] = 1;
	}

	const char *cmd = argv[i++];
	if (strcmp(cmd, "spawn") == 0) {
		part_spawn(arg_or(argc, argv, i, 40), arg_or(argc, argv, i + 1, 20), true);
	} else if (strcmp(cmd, "rss") == 0) {
		if (i >= argc)
			usage();
		part_rss(argc - i, argv + i);
	} else if (strcmp(cmd, "clone3") == 0) {
		part_clone3(arg_or(argc, argv, i, 40), arg_or(argc, argv, i + 1, 20));
	} else if (strcmp(cmd, "reap") == 0) {
		size_t reps = 3;
		int n = argc - i;
		if (n >= 2 && strcmp(argv[argc - 2], "--reps") == 0) {
			reps = (size_t)parse_size(argv[argc - 1]);
			n -= 2;
		}
		if (n < 1)
			usage();
		part_reap(n, argv + i, reps);
	} else if (strcmp(cmd, "autokill") == 0) {
		part_autokill(arg_or(argc, argv, i, 300));
	} else if (strcmp(cmd, "memory") == 0) {
		part_memory(arg_or(argc, argv, i, 1000));
	} else if (strcmp(cmd, "idle") == 0) {
		part_idle(arg_or(argc, argv, i, 100), (unsigned int)arg_or(argc, argv, i + 1, 2));
	} else if (strcmp(cmd, "loop") == 0 && i + 1 < argc) {
		part_loop(argv[i], (size_t)parse_size(argv[i + 1]));
	} else if (strcmp(cmd, "list") == 0) {
		part_list();
	} else {
		usage();
	}
	if (csv_out)
		fclose(csv_out);
	return 0;
}

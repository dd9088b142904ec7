/* SPDX-License-Identifier: MIT */
/* The benchmark's shared helpers (common.h). */
#include <stddef.h>

#include "common.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

int64_t tv_ns(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void die(const char *fmt, ...)
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

int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int pidfd_kill(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* waitid() without glibc's wrapper: P_PIDFD and __WALL pass untouched. */
int waitid_raw(int idtype, int id, siginfo_t *si, int options)
{
	return (int)syscall(SYS_waitid, idtype, id, si, options, NULL);
}

/* Wait for events on one fd (events 0: only POLLHUP/POLLERR). */
void poll_one(int fd, short events, int timeout_ms, const char *what)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		die("%s: %s", what, n == 0 ? "timed out" : strerror(errno));
}

void raise_nofile(rlim_t need)
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

const char *flags_name(uint64_t f)
{
	static const char *names[8] = {
		"none", "autoreap", "nnp", "autoreap+nnp",
		"autokill", "autoreap+autokill", "nnp+autokill", "autoreap+nnp+autokill",
	};
	unsigned i = (f & AR ? 1u : 0u) | (f & NNP ? 2u : 0u) | (f & AK ? 4u : 0u);

	return names[i];
}

unsigned int features_for(uint64_t f)
{
	return (f & AR ? TETHER_FEATURE_AUTOREAP : 0u) | (f & NNP ? TETHER_FEATURE_NNP : 0u) |
	       (f & AK ? TETHER_FEATURE_AUTOKILL : 0u);
}

bool native_has(uint64_t f)
{
	unsigned int need = features_for(f);

	return (tether_features() & need) == need;
}

/* ------------------------------------------------------------------ */
/* Samples and output                                                  */

void sadd(struct samples *s, uint64_t x)
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
double spct(struct samples *s, double q)
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

double dmedian(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void csv_row(const char *method, const char *backend, const char *param, const char *metric,
		    const char *value, const char *unit)
{
	if (!csv_out)
		return;
	fprintf(csv_out, "%s%s,%s,%s,%s,%s,%s,%s\n", csv_prefix, part, method, backend, param, metric,
		value, unit);
	fflush(csv_out);
}

void csv_num(const char *method, const char *backend, const char *param, const char *metric,
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
const char *us(char *buf, double ns)
{
	if (isnan(ns))
		return strcpy(buf, "n/a");
	if (ns >= 100e6)
		snprintf(buf, 24, "%.0f", ns / 1e3);
	else
		snprintf(buf, 24, "%.1f", ns / 1e3);
	return buf;
}

const char *num(char *buf, double v, const char *fmt)
{
	if (isnan(v))
		return strcpy(buf, "n/a");
	snprintf(buf, 24, fmt, v);
	return buf;
}

/* ------------------------------------------------------------------ */
/* /proc                                                               */

/* Read a small file whole; -1 if it cannot be read. */
ssize_t read_file(const char *path, char *buf, size_t size)
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
long status_field(const char *status_path, const char *key)
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

long proc_status(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return status_field(path, key);
}

/* Fields of a /proc stat line after the command: [0] is field 3 (state). */
int stat_fields(const char *path, char *comm, size_t comm_size, unsigned long long *f, int nf)
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
size_t children_of(pid_t parent, const char *comm, pid_t *out, size_t max)
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



long count_fds(pid_t pid)
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

struct cpu proc_cpu(pid_t pid, pid_t skip_tid)
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
void wait_single_threaded(void)
{
	for (int i = 0; i < 1000 && proc_status(getpid(), "Threads") > 1; i++)
		sleep_ms(1);
}

void tether_wait_release(struct tether_child *c, bool expect_ok)
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
void autoreap_wait_close(int pidfd, bool expect_ok)
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

uint64_t parse_size(const char *s)
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

const char *size_name(char *buf, uint64_t v)
{
	if (v >= (1ull << 30) && v % (1ull << 30) == 0)
		snprintf(buf, 24, "%lluGiB", (unsigned long long)(v >> 30));
	else
		snprintf(buf, 24, "%lluMiB", (unsigned long long)(v >> 20));
	return buf;
}

size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* The fields of /proc/meminfo that a live process moves (KiB; -1: missing). */
struct meminfo meminfo_read(void)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "MemAvailable", offsetof(struct meminfo, avail) },
		{ "MemFree", offsetof(struct meminfo, free) },
		{ "Slab", offsetof(struct meminfo, slab) },
		{ "SUnreclaim", offsetof(struct meminfo, sunreclaim) },
		{ "KernelStack", offsetof(struct meminfo, kstack) },
		{ "PageTables", offsetof(struct meminfo, pagetables) },
		{ "Shmem", offsetof(struct meminfo, shmem) },
	};
	struct meminfo m;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		*(long *)((char *)&m + keys[i].off) = status_field("/proc/meminfo", keys[i].key);
	return m;
}

void track_start(struct tracked *t, enum track_kind kind, uint64_t flags, struct tether_spawn_attr *attr)
{
	int r;

	switch (kind) {
	case TRACK_SPAWN:
		r = tether_spawn(&t->child, noop_path, NULL, attr, pause_argv, empty_env);
		if (r < 0)
			die("tether_spawn: %s", strerror(-r));
		break;
	case TRACK_CLONE3: {
		struct clone_args a = { .flags = CLONE_PIDFD | flags, .pidfd = (uintptr_t)&t->pidfd };
		pid_t p = tether_clone3(&a, sizeof(a));
		if (p == 0)
			for (;;)
				pause();
		if (p < 0)
			die("tether_clone3: %s", strerror(errno));
		break;
	}
	case TRACK_POSIX_SPAWN:
		r = posix_spawn(&t->pid, noop_path, NULL, NULL, pause_argv, empty_env);
		if (r)
			die("posix_spawn: %s", strerror(r));
		break;
	}
}

void track_stop(struct tracked *t, enum track_kind kind)
{
	int st;

	switch (kind) {
	case TRACK_SPAWN:
		tether_child_kill(t->child, SIGKILL);
		tether_wait_release(t->child, false);
		break;
	case TRACK_CLONE3:
		pidfd_kill(t->pidfd, SIGKILL);
		autoreap_wait_close(t->pidfd, false);
		break;
	case TRACK_POSIX_SPAWN:
		if (t->pid > 1) /* our own child, not yet waited for: the pid is still its */
			kill(t->pid, SIGKILL);
		while (waitpid(t->pid, &st, 0) < 0 && errno == EINTR)
			;
		break;
	}
}

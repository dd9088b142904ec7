/* SPDX-License-Identifier: MIT */
/*
 * Shared by the t_spawn_* and t_cli_* tests. The test VMs have an empty /bin,
 * so a test spawns itself (/proc/self/exe) with "child MODE ARGS..." and
 * ts_child_dispatch() at the top of main() plays the part asked for.
 */
#ifndef TETHER_TEST_SPAWN_COMMON_H
#define TETHER_TEST_SPAWN_COMMON_H

#include <dirent.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "harness.h"

#define TS_SELF "/proc/self/exe"
#define TS_MAX_ARGS 32
#define TS_N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the child's side ---- */

/* Open descriptors, as "0 1 2 ...", not counting the one used to list them. */
static inline void ts_fd_list(char *buf, size_t len)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int nums[1024], n = 0;
	size_t off = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((e = readdir(d)) && n < 1024) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		nums[n++] = atoi(e->d_name);
	}
	closedir(d);
	for (int i = 1; i < n; i++) /* insertion sort: the list is short */
		for (int j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
			int t = nums[j];
			nums[j] = nums[j - 1];
			nums[j - 1] = t;
		}
	for (int i = 0; i < n && off + 12 < len; i++)
		off += (size_t)snprintf(buf + off, len - off, i ? " %d" : "%d", nums[i]);
}

/* A field of /proc/self/status as text ("SigBlk" gives a hex mask). */
static inline void ts_status_text(const char *field, char *out, size_t len)
{
	char line[512];
	size_t flen = strlen(field);
	FILE *f = fopen("/proc/self/status", "re");

	snprintf(out, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			char *v = line + flen + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
			break;
		}
	fclose(f);
}

/*
 * "child MODE ARGS": the modes a spawned copy of the test can play.
 *   exit N        exit with N
 *   raise SIG     kill itself with SIG (core dumps as RLIMIT_CORE allows)
 *   sleep         sleep until killed
 *   pid-sleep     print its pid, then sleep until killed
 *   nnp           exit with PR_GET_NO_NEW_PRIVS (0 or 1)
 *   fds           print its open descriptors
 *   report        print what the attributes change, one key=value a line
 *   argv          print argv[3...] and $TS_VAR, one a line
 */
static inline void ts_child_dispatch(int argc, char **argv)
{
	const char *mode;

	if (argc < 3 || strcmp(argv[1], "child") != 0)
		return;
	mode = argv[2];
	if (strcmp(mode, "exit") == 0 && argc > 3)
		_exit(atoi(argv[3]));
	if (strcmp(mode, "raise") == 0 && argc > 3) {
		signal(atoi(argv[3]), SIG_DFL);
		raise(atoi(argv[3]));
		_exit(99);
	}
	if (strcmp(mode, "sleep") == 0 || strcmp(mode, "pid-sleep") == 0) {
		if (mode[0] == 'p') {
			printf("%d\n", (int)getpid());
			fflush(stdout);
		}
		for (;;)
			pause();
	}
	if (strcmp(mode, "nnp") == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	if (strcmp(mode, "fds") == 0) {
		char buf[4096];
		ts_fd_list(buf, sizeof(buf));
		printf("%s\n", buf);
		exit(0);
	}
	if (strcmp(mode, "argv") == 0) {
		for (int i = 3; i < argc; i++)
			printf("%s\n", argv[i]);
		printf("TS_VAR=%s\n", getenv("TS_VAR") ? getenv("TS_VAR") : "(unset)");
		exit(0);
	}
	if (strcmp(mode, "report") == 0) {
		char cwd[4096], buf[256];
		mode_t m = umask(0);
		FILE *f;

		printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
		printf("umask=%03o\n", (unsigned)m);
		printf("pid=%d\nsid=%d\npgid=%d\n", (int)getpid(), (int)getsid(0), (int)getpgid(0));
		ts_status_text("SigBlk", buf, sizeof(buf));
		printf("sigblk=%s\n", buf);
		ts_status_text("SigIgn", buf, sizeof(buf));
		printf("sigign=%s\n", buf);
		ts_status_text("SigCgt", buf, sizeof(buf));
		printf("sigcgt=%s\n", buf);
		printf("nnp=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		f = fopen("/proc/self/cgroup", "re");
		while (f && fgets(buf, sizeof(buf), f))
			if (strncmp(buf, "0::", 3) == 0)
				printf("cgroup=%s", buf + 3);
		if (f)
			fclose(f);
		exit(0);
	}
	fprintf(stderr, "unknown child mode '%s'\n", mode);
	_exit(98);
}

/* ---- the parent's side ---- */

/* argv for "/proc/self/exe child MODE ARGS...", NULL-terminated, in a per-thread buffer. */
static inline char **ts_argv_v(const char *mode, va_list ap)
{
	static __thread char *v[TS_MAX_ARGS + 4]; /* per thread: tests spawn from several */
	int n = 0;
	const char *s;

	v[n++] = (char *)TS_SELF;
	v[n++] = (char *)"child";
	v[n++] = (char *)mode;
	while ((s = va_arg(ap, const char *)) && n < TS_MAX_ARGS)
		v[n++] = (char *)s;
	v[n] = NULL;
	return v;
}

static inline char **ts_argv(const char *mode, ...)
{
	va_list ap;
	char **v;

	va_start(ap, mode);
	v = ts_argv_v(mode, ap);
	va_end(ap);
	return v;
}

/* Spawn "self child MODE ARGS... (NULL)"; returns what tether_spawn() returned. */
static inline int ts_spawn_self(struct tether_child **c, const struct tether_file_actions *fa,
				const struct tether_spawn_attr *attr, const char *mode, ...)
{
	va_list ap;
	char **v;

	int r;

	va_start(ap, mode);
	v = ts_argv_v(mode, ap);
	va_end(ap);
	r = tether_spawn(c, TS_SELF, fa, attr, v, NULL);
	if (r < 0) /* said here, as many callers assert only that it worked */
		t_info("tether_spawn(\"%s\"): %s", mode, strerror(-r));
	return r;
}

/* Attributes with just these lifecycle flags (0: none). */
static inline struct tether_spawn_attr *ts_attr_flags(uint64_t flags)
{
	struct tether_spawn_attr *a;
	T_ASSERT(tether_spawn_attr_init(&a) == 0, "tether_spawn_attr_init");
	T_ASSERT(tether_spawn_attr_set_flags(a, flags) == 0, "tether_spawn_attr_set_flags");
	return a;
}

/* Wait (bounded) and return the exit info; fails the test on error. */
static inline struct tether_exit_info ts_wait(struct tether_child *c, const char *what)
{
	struct tether_exit_info info;
	int r = tether_child_wait(c, 20000, &info);
	T_ASSERT(r == 0, "%s: tether_child_wait: %s", what, strerror(-r));
	return info;
}

/* Read everything from fd until EOF (bounded by len); returns the length. */
static inline size_t ts_read_all(int fd, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off + 1 < len && ((n = read(fd, buf + off, len - 1 - off)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			off += (size_t)n;
	buf[off] = '\0';
	return off;
}

/* A "key=value" line of a report, or NULL. Returns a static buffer. */
static inline const char *ts_report_value(const char *report, const char *key)
{
	static char val[512];
	size_t klen = strlen(key);

	for (const char *p = report; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, "\n");
			if (n >= sizeof(val))
				n = sizeof(val) - 1;
			memcpy(val, p + klen + 1, n);
			val[n] = '\0';
			return val;
		}
	return NULL;
}

/*
 * File actions whose first action sends the child's stdout to a pipe (the
 * pipe's write end is closed by ts_run_capture()): a caller adds its own
 * actions after it, which may then close anything.
 */
static int ts_cap_pipe[2] = { -1, -1 };

static inline struct tether_file_actions *ts_capture_actions(void)
{
	struct tether_file_actions *fa;

	T_ASSERT(pipe2(ts_cap_pipe, O_CLOEXEC) == 0, "pipe2");
	T_ASSERT(tether_file_actions_init(&fa) == 0, "tether_file_actions_init");
	T_ASSERT(tether_file_actions_add_dup2(fa, ts_cap_pipe[1], 1) == 0, "add_dup2");
	return fa;
}

/*
 * Spawn "self child MODE ARGS..." with fa (from ts_capture_actions(), or NULL
 * for just the capture) and attr, wait for it, and return what it printed.
 * The status goes to *info. Returns 0 or what tether_spawn() returned.
 */
static inline int ts_run_capture(struct tether_file_actions *fa_in, const struct tether_spawn_attr *attr,
				 char *out, size_t len, struct tether_exit_info *info, const char *mode, ...)
{
	struct tether_file_actions *fa = fa_in ? fa_in : ts_capture_actions();
	struct tether_child *c;
	int r;
	va_list ap;
	char **v;

	va_start(ap, mode);
	v = ts_argv_v(mode, ap);
	va_end(ap);
	r = tether_spawn(&c, TS_SELF, fa, attr, v, NULL);
	close(ts_cap_pipe[1]);
	if (fa != fa_in)
		tether_file_actions_destroy(fa);
	if (r == 0)
		ts_read_all(ts_cap_pipe[0], out, len);
	close(ts_cap_pipe[0]);
	ts_cap_pipe[0] = ts_cap_pipe[1] = -1;
	if (r < 0)
		return r;
	*info = ts_wait(c, mode);
	tether_child_release(c);
	return 0;
}

/* Children of this process other than tether's monitors, or of ppid (0: self). */
static inline int ts_count_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], buf[512], *p;
		int fd;
		ssize_t len;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
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
		p = strrchr(buf, ')');
		if (!p || strncmp(buf + strcspn(buf, "(") + 1, "tether-monitor", 14) == 0)
			continue;
		/* ") S ppid ..." */
		if (atoi(p + 4) == (int)getpid())
			n++;
	}
	closedir(d);
	return n;
}

/* No child of ours is left (bounded wait for one the kernel is still reaping). */
static inline void ts_assert_no_children(const char *what)
{
	long long end = t_now_ms() + 5000;
	int n;

	while ((n = ts_count_children()) > 0 && t_now_ms() < end)
		usleep(2000);
	T_ASSERT(n == 0, "%s: %d child process(es) left behind", what, n);
}

/* A temporary directory, removed (with its files, one level) at exit. */
static char ts_tmpdir_path[256];

static inline void ts_tmpdir_cleanup(void)
{
	DIR *d;
	struct dirent *e;
	char path[sizeof(ts_tmpdir_path) + 260];

	if (!ts_tmpdir_path[0])
		return;
	d = opendir(ts_tmpdir_path);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		snprintf(path, sizeof(path), "%s/%s", ts_tmpdir_path, e->d_name);
		if (unlink(path) < 0)
			rmdir(path);
	}
	if (d)
		closedir(d);
	rmdir(ts_tmpdir_path);
}

static inline const char *ts_tmpdir(void)
{
	if (!ts_tmpdir_path[0]) {
		snprintf(ts_tmpdir_path, sizeof(ts_tmpdir_path), "/tmp/tether-test-XXXXXX");
		T_ASSERT(mkdtemp(ts_tmpdir_path), "mkdtemp: %s", strerror(errno));
		atexit(ts_tmpdir_cleanup);
	}
	return ts_tmpdir_path;
}

/* Write a file of mode with content. */
static inline void ts_write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	T_ASSERT(fd >= 0, "create %s: %s", path, strerror(errno));
	T_ASSERT(write(fd, content, strlen(content)) == (ssize_t)strlen(content), "write %s", path);
	T_ASSERT(fchmod(fd, mode) == 0, "chmod %s", path);
	close(fd);
}

#endif

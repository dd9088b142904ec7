/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/capability.h>

#include "harness.h"

void t_require_flags(uint64_t flags)
{
	if (t_native_without(flags)) {
		int pidfd = -1;
		pid_t pid = t_clone(flags, 0, &pidfd);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			t_fail("native backend: kernel without the flags created a child");
		if (errno != EINVAL)
			t_fail("native backend: kernel without the flags failed with %s, not EINVAL",
			       strerror(errno));
		t_skip("kernel has no native %s and the native backend is forced (it fails with EINVAL, as the kernel does)",
		       flags & CLONE_PIDFD_AUTOKILL ? "CLONE_PIDFD_AUTOKILL"
		       : flags & CLONE_NNP	  ? "CLONE_NNP"
						  : "CLONE_AUTOREAP");
	}
}

pid_t t_clone(uint64_t flags, int exit_signal, int *pidfd)
{
	struct clone_args args = {
		.flags = flags,
		.pidfd = (uintptr_t)pidfd,
		.exit_signal = (uint64_t)exit_signal,
	};
	return tether_clone3(&args, sizeof(args));
}

pid_t t_clone_fn(uint64_t flags, int exit_signal, int *pidfd, int (*fn)(void *), void *arg)
{
	pid_t pid = t_clone(flags, exit_signal, pidfd);
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

bool t_pidfd_wait_readable(int pidfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	long long end = t_now_ms() + timeout_ms;

	for (;;) {
		long long left = end - t_now_ms();
		int r = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (r > 0)
			return pfd.revents & POLLIN;
		if (r == 0)
			return false;
		if (errno != EINTR)
			return false;
	}
}

int t_pidfd_exit_status(int pidfd)
{
	struct tether_pidfd_info info = { .mask = TETHER_PIDFD_INFO_EXIT };
	int r = tether_pidfd_get_info(pidfd, &info, sizeof(info));

	if (r < 0)
		return r;
	if (!(info.mask & TETHER_PIDFD_INFO_EXIT))
		return -ENODATA;
	return info.exit_code;
}

static int proc_read(pid_t pid, const char *file, char *buf, size_t len)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

char t_proc_state(pid_t pid)
{
	char buf[1024], *p;

	if (proc_read(pid, "stat", buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

bool t_wait_pid_gone(pid_t pid, int timeout_ms)
{
	long long end = t_now_ms() + timeout_ms;
	int pidfd = t_pidfd_open(pid);

	/* ESRCH: reaped; EINVAL: its pid is still there (a group or session it
	 * led, or its release under way: __unhash_process()) but no process with
	 * it is, so it is gone as well. */
	if (pidfd < 0)
		return errno == ESRCH || errno == EINVAL;
	/* The pidfd polls readable once the process has exited (zombie or reaped). */
	bool gone = t_pidfd_wait_readable(pidfd, (int)(end - t_now_ms()));
	close(pidfd);
	return gone;
}

bool t_status_text(pid_t pid, const char *field, char *out, size_t out_len)
{
	char buf[4096], *p;
	size_t len = strlen(field);

	if (proc_read(pid, "status", buf, sizeof(buf)) < 0)
		return false;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, field, len) == 0 && p[len] == ':') {
			p += len + 1;
			p += strspn(p, " \t");
			snprintf(out, out_len, "%.*s", (int)strcspn(p, "\n"), p);
			return true;
		}
	return false;
}

long t_status_field(pid_t pid, const char *field)
{
	char v[64];

	return t_status_text(pid, field, v, sizeof(v)) ? strtol(v, NULL, 0) : -1;
}

void t_gate_open(struct t_gate *g)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		t_fail("pipe2: %s", strerror(errno));
	g->rd = fds[0];
	g->wr = fds[1];
}

void t_gate_wait(struct t_gate *g)
{
	char c;
	close(g->wr);
	while (read(g->rd, &c, 1) < 0 && errno == EINTR)
		;
}

void t_gate_release(struct t_gate *g)
{
	if (g->wr >= 0)
		close(g->wr);
	g->wr = -1;
}

int t_in_subprocess(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		fflush(stdout);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) < 0)
		t_fail("waitpid: %s", strerror(errno));
	return status;
}

void t_drop_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		t_fail("dropping privileges: %s", strerror(errno));
	/* setresuid() from root clears the capability sets; make sure. */
	if (syscall(SYS_capget, &hdr, data) < 0 || data[0].effective || data[1].effective)
		t_fail("capabilities left after dropping privileges");
}

static bool t_proc_file_starts(pid_t pid, const char *file, const char *name)
{
	char path[64], buf[64] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && strncmp(buf, name, strlen(name)) == 0;
}

/* By argv[0] (set by its exec) or by the name it gives itself (a monitor, which shares its creator's command line). */
static bool t_comm_is(pid_t pid, const char *name)
{
	return t_proc_file_starts(pid, "cmdline", name) || t_proc_file_starts(pid, "comm", name);
}

static void t_assert_no_child_left(const char *what)
{
	siginfo_t si = {};
	/* __WALL sees children without an exit signal too. */
	int r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL);
	if (r == 0 && si.si_pid != 0) {
		/* tether's monitors are children too */
		if (t_comm_is(si.si_pid, "tether-monitor"))
			return;
	}
	if (r == 0 && si.si_pid != 0)
		t_fail("%s: a child (pid %d) was created by a rejected call", what, si.si_pid);
}

bool t_expect_rejected(uint64_t flags, int exit_signal, int err, const char *what)
{
	int pidfd = -1;
	pid_t pid = t_clone(flags, exit_signal, &pidfd);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		t_fail("%s: accepted (pid %d), expected %s", what, pid, strerror(err));
	if (t_native_without(flags)) {
		T_ASSERT(errno == EINVAL, "%s: kernel without the flags gave %s, not EINVAL", what,
			 strerror(errno));
		t_info("%s: EINVAL (kernel does not know the flags)", what);
		return false;
	}
	if (errno != err)
		t_fail("%s: failed with %s, expected %s", what, strerror(errno), strerror(err));
	t_assert_no_child_left(what);
	t_info("%s: %s, as the kernel rules say (%s backend)", what, strerror(err), t_backend_word(flags));
	return true;
}

bool t_expect_accepted(uint64_t flags, int exit_signal, const char *what)
{
	int pidfd = -1;
	pid_t pid = t_clone(flags, exit_signal, &pidfd);

	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		if (t_native_without(flags) && errno == EINVAL) {
			t_info("%s: EINVAL (kernel does not know the flags)", what);
			return false;
		}
		t_fail("%s: control call failed: %s", what, strerror(errno));
	}
	if (!(flags & CLONE_AUTOREAP)) {
		siginfo_t si;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL) < 0)
			t_fail("%s: waitid: %s", what, strerror(errno));
	} else if (flags & CLONE_PIDFD) {
		T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "%s: child did not exit", what);
	}
	if (flags & CLONE_PIDFD)
		tether_pidfd_close(pidfd);
	t_info("%s: accepted (control)", what);
	return true;
}

bool t_wait_pid_reaped(pid_t pid, int timeout_ms)
{
	long long end = t_now_ms() + timeout_ms;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	/* A test may poll here: it waits on the library's reaper, which is not ours to hook. */
	while (access(path, F_OK) == 0) {
		if (t_now_ms() > end)
			return false;
		usleep(1000);
	}
	return true;
}

volatile sig_atomic_t t_sigchld_count;

static void t_on_sigchld(int sig)
{
	(void)sig;
	t_sigchld_count++;
}

void t_count_sigchld(void)
{
	struct sigaction sa = { .sa_handler = t_on_sigchld, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	t_sigchld_count = 0;
}

pid_t t_clone_gated(uint64_t flags, int exit_signal, int *pidfd, struct t_gate *g, int code)
{
	pid_t pid = t_clone(flags, exit_signal, pidfd);
	if (pid == 0) {
		t_gate_wait(g);
		_exit(code);
	}
	return pid;
}

bool t_stays_alive(int pidfd, int settle_ms)
{
	return !t_pidfd_wait_readable(pidfd, settle_ms);
}

pid_t t_autokill_sleeper(uint64_t extra_flags, int *pidfd, int *watch)
{
	pid_t pid = t_clone(T_AUTOKILL_FLAGS | extra_flags, 0, pidfd);
	if (pid == 0) {
		for (;;)
			pause();
	}
	if (pid < 0)
		t_fail("creating the autokill child: %s", strerror(errno));
	*watch = t_pidfd_open(pid);
	if (*watch < 0)
		t_fail("pidfd_open: %s", strerror(errno));
	return pid;
}

bool t_dies(int watch, int timeout_ms)
{
	return t_pidfd_wait_readable(watch, timeout_ms);
}

void t_require_emulation(uint64_t flags)
{
	if (!t_emulated(flags))
		t_skip("pins what the emulation does; the %s backend serves these flags",
		       t_backend_word(flags));
}

/* Children of every thread of this process, from /proc/self/task/<tid>/children. */
static int t_read_children(pid_t *out, int max, bool live_only, const char *name)
{
	char path[300], buf[16384];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	int n = 0;

	if (!dir)
		return 0;
	while ((d = readdir(dir)) && n < max) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", d->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		for (char *p = buf, *end; n < max; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (live_only && t_proc_state((pid_t)pid) == 'Z')
				continue;
			if (name && !t_comm_is((pid_t)pid, name))
				continue;
			out[n++] = (pid_t)pid;
		}
	}
	closedir(dir);
	return n;
}

int t_find_monitors(pid_t *out, int max)
{
	return t_read_children(out, max, true, "tether-monitor");
}

int t_kill(pid_t pid, int sig)
{
	if (pid <= 1)
		t_fail("t_kill(%d, %d) refused: not a single process of the test's", (int)pid, sig);
	return kill(pid, sig);
}

static pid_t t_own_pgroups[64];
static int t_n_own_pgroups;

void t_own_pgroup(pid_t pgid)
{
	if (pgid <= 1 || t_n_own_pgroups == (int)(sizeof(t_own_pgroups) / sizeof(t_own_pgroups[0])))
		t_fail("t_own_pgroup(%d) refused", (int)pgid);
	t_own_pgroups[t_n_own_pgroups++] = pgid;
}

int t_killpg(pid_t pgid, int sig)
{
	for (int i = 0; pgid > 1 && i < t_n_own_pgroups; i++)
		if (t_own_pgroups[i] == pgid)
			return killpg(pgid, sig);
	t_fail("t_killpg(%d, %d) refused: not a process group the test created", (int)pgid, sig);
}

int t_live_children(pid_t *out, int max)
{
	return t_read_children(out, max, true, NULL);
}

static int t_copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), out;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	close(in);
	return close(out) < 0 || n < 0 ? -1 : 0;
}

static char t_setid_dir[64];
static pid_t t_setid_owner;

static void t_setid_cleanup(void)
{
	if (getpid() != t_setid_owner)
		return;
	umount2(t_setid_dir, MNT_DETACH);
	rmdir(t_setid_dir);
}

const char *t_setid_copy_of_self(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	char *dir = t_setid_dir;
	static char path[128];

	if (!dir[0]) {
		snprintf(dir, sizeof(t_setid_dir), "/tmp/tether-setid-XXXXXX");
		T_ASSERT(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS): %s", strerror(errno));
		T_ASSERT(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make mounts private");
		T_ASSERT(mkdtemp(dir), "mkdtemp");
		T_ASSERT(mount("tether-setid", dir, "tmpfs", 0, "mode=0755") == 0, "mount tmpfs: %s", strerror(errno));
		t_setid_owner = getpid();
		atexit(t_setid_cleanup);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	T_ASSERT(t_copy_file("/proc/self/exe", path) == 0, "copy of self: %s", strerror(errno));
	T_ASSERT(chown(path, uid, gid) == 0 && chmod(path, mode) == 0, "chown/chmod: %s", strerror(errno));
	return path;
}

int t_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n - 3; /* ".", ".." and the DIR's own fd */
}

int t_count_fds_of(pid_t pid)
{
	char path[64];
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* "." and ".." */
}

void t_settle_threads(void)
{
	for (long long end = t_now_ms() + 10000; t_status_field(getpid(), "Threads") > 1 && t_now_ms() < end;)
		usleep(2000);
}

bool t_wait_thread_gone(pid_t tid, int timeout_ms)
{
	char path[64];
	long long end = t_now_ms() + timeout_ms;

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)getpid(), (int)tid);
	while (access(path, F_OK) == 0) {
		if (t_now_ms() > end)
			return false;
		usleep(1000);
	}
	return true;
}

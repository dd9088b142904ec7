/* SPDX-License-Identifier: MIT */
/*
 * Attributes: setsid, process group (new and existing), signal mask (the
 * caller's by default, not the all-blocked mask of the spawn), default
 * dispositions for a set, umask; and no handler of the caller's ever runs in
 * the child: a signal that reaches the child before its exec finds the
 * default disposition.
 */
#include <pthread.h>

#include "spawn_common.h"

static struct tether_spawn_attr *attr_new(void)
{
	struct tether_spawn_attr *a;
	T_ASSERT(tether_spawn_attr_init(&a) == 0, "tether_spawn_attr_init");
	return a;
}

static const char *report(const struct tether_spawn_attr *attr, char *out, size_t len)
{
	struct tether_exit_info info;
	int r = ts_run_capture(NULL, attr, out, len, &info, "report", NULL);

	T_ASSERT(r == 0, "spawn report: %s", strerror(-r));
	T_ASSERT(info.exited && info.exit_code == 0, "report child failed (status %#x)", info.status);
	return out;
}

static unsigned long long mask_of(const char *out, const char *key)
{
	const char *v = ts_report_value(out, key);
	T_ASSERT(v, "no %s in the report", key);
	return strtoull(v, NULL, 16);
}

#define BIT(sig) (1ULL << ((sig) - 1))

static volatile sig_atomic_t handler_ran;
static void on_usr1(int sig)
{
	(void)sig;
	handler_ran = 1; /* in the child this would write the parent's memory (CLONE_VM) */
}

static char fifo[512];

/* Another thread: signal the child while it is blocked in a file action, then let it go on. */
static void *signal_child_then_release(void *arg)
{
	long long end = t_now_ms() + 10000;
	int n;

	(void)arg;
	while ((n = ts_count_children()) == 0 && t_now_ms() < end)
		usleep(1000);
	/* Find it: the one child of ours. */
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], buf[512], *p;
		int fd;
		ssize_t len;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		p = strrchr(buf, ')');
		if (p && atoi(p + 4) == (int)getpid() && !strstr(buf, "tether-monitor"))
			t_kill(atoi(e->d_name), SIGUSR1);
	}
	if (d)
		closedir(d);
	usleep(50000); /* let the signal land (it stays pending: everything is blocked there) */
	int fd = open(fifo, O_WRONLY | O_CLOEXEC); /* the child's open() of the FIFO returns */
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct tether_spawn_attr *a;
	struct tether_child *c;
	struct tether_exit_info info;
	char out[4096];
	sigset_t set, old;
	pid_t leader;
	int r;

	ts_child_dispatch(argc, argv);

	/* defaults: same session and group, the caller's mask and umask */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	umask(022);
	report(NULL, out, sizeof(out));
	T_ASSERT(atoi(ts_report_value(out, "sid")) == getsid(0), "default: new session");
	T_ASSERT(atoi(ts_report_value(out, "pgid")) == getpgid(0), "default: new process group");
	T_ASSERT(mask_of(out, "sigblk") == BIT(SIGUSR2), "default mask %llx, expected the caller's %llx",
		 mask_of(out, "sigblk"), BIT(SIGUSR2));
	T_ASSERT(strcmp(ts_report_value(out, "umask"), "022") == 0, "default umask %s", ts_report_value(out, "umask"));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	t_info("defaults: the caller's session, group, signal mask and umask");

	/* setsid */
	a = attr_new();
	T_ASSERT(tether_spawn_attr_set_setsid(a, true) == 0, "set_setsid");
	report(a, out, sizeof(out));
	T_ASSERT(atoi(ts_report_value(out, "sid")) == atoi(ts_report_value(out, "pid")), "setsid: not a session leader");
	T_ASSERT(tether_spawn_attr_set_pgroup(a, 0) == 0, "set_pgroup");
	char *v[] = { (char *)TS_SELF, (char *)"child", (char *)"exit", (char *)"0", NULL };
	T_ASSERT(tether_spawn(&c, TS_SELF, NULL, a, v, NULL) == -EINVAL, "setsid with a process group: not EINVAL");
	tether_spawn_attr_destroy(a);
	t_info("setsid: the child leads a new session; with a process group: EINVAL");

	/* process group: a new one, then joining it */
	a = attr_new();
	T_ASSERT(tether_spawn_attr_set_pgroup(a, 0) == 0, "set_pgroup(0)");
	T_ASSERT(ts_spawn_self(&c, NULL, a, "sleep", NULL) == 0, "spawn group leader");
	leader = tether_child_pid(c);
	report(a, out, sizeof(out));
	T_ASSERT(atoi(ts_report_value(out, "pgid")) == atoi(ts_report_value(out, "pid")), "pgroup 0: own group");
	T_ASSERT(tether_spawn_attr_set_pgroup(a, leader) == 0, "set_pgroup(leader)");
	report(a, out, sizeof(out));
	T_ASSERT(atoi(ts_report_value(out, "pgid")) == leader, "pgroup %d: joined %s", leader, ts_report_value(out, "pgid"));
	T_ASSERT(tether_spawn_attr_set_pgroup(a, -2) == -EINVAL, "set_pgroup(-2)");
	tether_child_kill(c, SIGKILL);
	ts_wait(c, "leader");
	tether_child_release(c);
	tether_spawn_attr_destroy(a);
	t_info("process group: new (0) and existing (%d)", leader);

	/* signal mask */
	a = attr_new();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	T_ASSERT(tether_spawn_attr_set_sigmask(a, &set) == 0, "set_sigmask");
	report(a, out, sizeof(out));
	T_ASSERT(mask_of(out, "sigblk") == (BIT(SIGUSR1) | BIT(SIGTERM)), "sigmask: %llx", mask_of(out, "sigblk"));
	T_ASSERT(tether_spawn_attr_set_sigmask(a, NULL) == 0, "set_sigmask(NULL)");
	report(a, out, sizeof(out));
	T_ASSERT(mask_of(out, "sigblk") == 0, "sigmask unset: %llx", mask_of(out, "sigblk"));
	tether_spawn_attr_destroy(a);
	t_info("signal mask: as given; unset, the caller's");

	/* ignored signals stay ignored, unless in the sigdefault set; caught ones are default.
	 * Relative to what this test inherited ignored (a shell's background job ignores some). */
	report(NULL, out, sizeof(out));
	unsigned long long inherited = mask_of(out, "sigign") & ~(BIT(SIGUSR1) | BIT(SIGHUP));
	signal(SIGUSR1, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR2, on_usr1);
	report(NULL, out, sizeof(out));
	T_ASSERT(mask_of(out, "sigign") == (inherited | BIT(SIGUSR1) | BIT(SIGHUP)), "ignored: %llx",
		 mask_of(out, "sigign"));
	T_ASSERT(!(mask_of(out, "sigcgt") & BIT(SIGUSR2)), "SIGUSR2 caught in the program: %llx", mask_of(out, "sigcgt"));
	a = attr_new();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	T_ASSERT(tether_spawn_attr_set_sigdefault(a, &set) == 0, "set_sigdefault");
	report(a, out, sizeof(out));
	T_ASSERT(mask_of(out, "sigign") == (inherited | BIT(SIGHUP)), "sigdefault SIGUSR1: ignored %llx",
		 mask_of(out, "sigign"));
	tether_spawn_attr_destroy(a);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	t_info("ignored signals inherited, sigdefault resets them");

	/* umask */
	a = attr_new();
	T_ASSERT(tether_spawn_attr_set_umask(a, 027) == 0, "set_umask");
	T_ASSERT(tether_spawn_attr_set_umask(a, 01000) == -EINVAL, "set_umask(01000)");
	report(a, out, sizeof(out));
	T_ASSERT(strcmp(ts_report_value(out, "umask"), "027") == 0, "umask %s", ts_report_value(out, "umask"));
	tether_spawn_attr_destroy(a);
	t_info("umask 027");

	/* No handler in the child: SIGUSR1 (caught here) reaches the child while it is blocked
	 * in a file action; the child must die by it, the handler must not run. */
	{
		struct tether_file_actions *fa;
		pthread_t th;
		struct sigaction sa = { .sa_handler = on_usr1 };

		snprintf(fifo, sizeof(fifo), "%s/fifo", ts_tmpdir());
		T_ASSERT(mkfifo(fifo, 0600) == 0, "mkfifo");
		sigaction(SIGUSR1, &sa, NULL);
		T_ASSERT(tether_file_actions_init(&fa) == 0, "fa");
		T_ASSERT(tether_file_actions_add_open(fa, 5, fifo, O_RDONLY, 0) == 0, "add_open");
		T_ASSERT(pthread_create(&th, NULL, signal_child_then_release, NULL) == 0, "thread");
		r = ts_spawn_self(&c, fa, NULL, "exit", "0", NULL);
		pthread_join(th, NULL);
		tether_file_actions_destroy(fa);
		T_ASSERT(r == 0, "spawn: %s", strerror(-r));
		info = ts_wait(c, "fifo");
		tether_child_release(c);
		T_ASSERT(!handler_ran, "the caller's SIGUSR1 handler ran in the child");
		T_ASSERT(info.signaled && info.signal == SIGUSR1, "child: status %#x, expected death by SIGUSR1", info.status);
		signal(SIGUSR1, SIG_DFL);
		t_info("a signal before exec found SIG_DFL: the caller's handler never ran in the child");
	}

	/* argument checks */
	T_ASSERT(tether_spawn_attr_init(NULL) == -EINVAL, "init(NULL)");
	T_ASSERT(tether_spawn_attr_set_cgroup(NULL, 3) == -EINVAL, "set_cgroup(NULL)");
	tether_spawn_attr_destroy(NULL);
	ts_assert_no_children("end");
	t_pass("setsid, process groups, signal mask and defaults, umask; no handler runs in the child");
}

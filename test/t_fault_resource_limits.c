/* SPDX-License-Identifier: MIT */
/*
 * Resource exhaustion while creating lifecycle children: no fds left
 * (EMFILE), no processes left (EAGAIN from RLIMIT_NPROC), no memory for the
 * library's thread (RLIMIT_AS). Each must be a clean error: no child left
 * behind, no fd leaked, and the library works again once the limit is lifted.
 */
#include <dirent.h>
#include <sys/resource.h>

#include "harness.h"

#define ALL_FLAGS (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL | CLONE_PIDFD)

/* Whether a lifecycle child can be made and cleaned up now. */
static bool works(void)
{
	int pidfd = -1;
	pid_t pid = t_clone(ALL_FLAGS, 0, &pidfd);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return false;
	bool ok = t_pidfd_wait_readable(pidfd, 10000);
	tether_pidfd_close(pidfd);
	return ok;
}

/* Live children, the library's monitors included (they end with their children). */
static int live_children(void)
{
	pid_t live[16];
	return t_live_children(live, 16);
}

static void no_child_left(const char *what)
{
	siginfo_t si = { 0 };
	/* Nothing alive: no child, no monitor. */
	for (long long end = t_now_ms() + 10000; live_children() > 0;) {
		T_ASSERT(t_now_ms() < end, "%s: a child was left alive", what);
		usleep(1000);
	}
	T_ASSERT(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0,
		 "%s: a waitable child was left", what);
}

/* Wait until the library has nothing left running: no child, no monitor, no reaper thread. */
static void settle(void)
{
	for (long long end = t_now_ms() + 10000;
	     live_children() > 0 || t_status_field(getpid(), "Threads") != 1; usleep(1000))
		T_ASSERT(t_now_ms() < end, "the library did not settle");
}

static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");
	return preload && strstr(preload, "vgpreload");
}

static void check_emfile(void)
{
	struct rlimit old, low;
	int before, pidfd = -1;

	/* valgrind keeps RLIMIT_NOFILE to itself: setrlimit() lowers its own
	 * count and never reaches the kernel (/proc/self/limits stays as it
	 * was), and it refuses new descriptors itself. The step is about the
	 * kernel's EMFILE at each of the library's steps, so it runs only where
	 * the kernel sees the limit (plain, ASan, every VM). */
	if (under_valgrind()) {
		t_info("EMFILE: not checked under valgrind (it emulates RLIMIT_NOFILE; the kernel never sees the limit)");
		return;
	}
	settle();
	before = t_count_fds();
	/* The limit is on descriptor numbers: a new one is the lowest free
	 * number, refused at or above the soft limit. So "no spare" is the
	 * lowest free number, not the count (inherited descriptors can leave
	 * gaps below the highest). */
	int first_free = fcntl(0, F_DUPFD_CLOEXEC, 0);
	T_ASSERT(first_free >= 0, "F_DUPFD: %s", strerror(errno));
	close(first_free);

	getrlimit(RLIMIT_NOFILE, &old);
	for (int spare = 0; spare < 16; spare++) {
		low = (struct rlimit){ (rlim_t)(first_free + spare), old.rlim_max };
		setrlimit(RLIMIT_NOFILE, &low);
		pid_t pid = t_clone(ALL_FLAGS, 0, &pidfd);
		if (pid == 0)
			_exit(0);
		int err = pid < 0 ? errno : 0;
		setrlimit(RLIMIT_NOFILE, &old);
		if (pid > 0) {
			T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "child with %d spare fds did not exit", spare);
			tether_pidfd_close(pidfd);
			t_info("EMFILE: with %d spare fds the call succeeds", spare);
			break;
		}
		T_ASSERT(err == EMFILE || err == ENFILE, "with %d spare fds: %s, expected EMFILE", spare, strerror(err));
		no_child_left("EMFILE");
		settle();
		T_ASSERT(t_count_fds() == before, "EMFILE with %d spare fds leaked %d fd(s)", spare, t_count_fds() - before);
		t_info("EMFILE with %d spare fds: clean error, nothing leaked", spare);
	}
	T_ASSERT(works(), "not working after EMFILE");
}

static int nproc_case(void *arg)
{
	(void)arg;
	t_drop_privileges();
	struct rlimit none = { 0, 0 };
	if (setrlimit(RLIMIT_NPROC, &none) < 0)
		return 10;
	int pidfd = -1;
	pid_t pid = t_clone(ALL_FLAGS, 0, &pidfd);
	if (pid == 0)
		_exit(0);
	if (pid >= 0)
		return 11;
	return errno == EAGAIN ? 0 : 12;
}

static int as_case(void *arg)
{
	(void)arg;
	settle();
	int before = t_count_fds();
	/* Room for what exists, none for a new thread's stack or a new mapping. */
	struct rlimit low;
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (!f || fscanf(f, "%lu", &pages) != 1)
		return 20;
	fclose(f);
	low.rlim_cur = low.rlim_max = pages * (unsigned long)sysconf(_SC_PAGESIZE) + 4096;
	if (setrlimit(RLIMIT_AS, &low) < 0)
		return 21;
	int pidfd = -1;
	pid_t pid = t_clone(ALL_FLAGS, 0, &pidfd);
	if (pid == 0)
		_exit(0);
	if (pid > 0) /* enough after all: fine, as long as it works */
		return t_pidfd_wait_readable(pidfd, 10000) ? 1 : 22;
	if (errno != ENOMEM && errno != EAGAIN)
		return 23;
	settle();
	for (long long end = t_now_ms() + 10000; live_children() > 0; usleep(1000))
		if (t_now_ms() > end)
			return 24;
	return t_count_fds() == before ? 2 : 25;
}

static void check_as(void)
{
#ifdef __SANITIZE_ADDRESS__
	t_info("RLIMIT_AS: not checked under AddressSanitizer (its own shadow memory needs the address space)");
	return;
#endif
	/* valgrind maps the address space itself and, out of it, ends the
	 * process with exit status 1, which would read as "the call fit". */
	if (under_valgrind()) {
		t_info("RLIMIT_AS: not checked under valgrind (it manages the address space itself)");
		return;
	}
	int st = t_in_subprocess(as_case, NULL);
	T_ASSERT(WIFEXITED(st) && (WEXITSTATUS(st) == 1 || WEXITSTATUS(st) == 2), "RLIMIT_AS: step %d",
		 WEXITSTATUS(st));
	t_info("RLIMIT_AS at the current size: %s", WEXITSTATUS(st) == 2 ? "clean ENOMEM/EAGAIN, nothing leaked"
									 : "the call still fit");
}

int main(void)
{
	t_require_flags(ALL_FLAGS);
	(void)works(); /* probe features and start once, so counts below are stable */
	check_emfile();
	no_child_left("after EMFILE");

	if (geteuid() == 0) {
		int st = t_in_subprocess(nproc_case, NULL);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "RLIMIT_NPROC: step %d", WEXITSTATUS(st));
		t_info("RLIMIT_NPROC=0 (unprivileged): EAGAIN");
	}
	check_as();
	T_ASSERT(works(), "not working after the limits were lifted");
	t_pass("resource exhaustion gives clean errors and leaves nothing behind (%s backend)",
	       t_backend_word(ALL_FLAGS));
}

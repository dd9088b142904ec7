/* SPDX-License-Identifier: MIT */
/*
 * Exit and coredump information of autoreap children that crash: a NULL
 * dereference (SIGSEGV, si_code SEGV_MAPERR) and abort() (SIGABRT, SI_TKILL).
 * After the reap, PIDFD_INFO_EXIT says WIFSIGNALED with the signal; whatever
 * PIDFD_INFO_COREDUMP* bits are in mask must be filled consistently, and the
 * emulation never invents a coredump_code it cannot know.
 *
 * What kernels record depends on core_pattern: they note a dump on the pidfd
 * only when they hand it to a socket or to a pipe helper given the pidfd (%F).
 * For a plain core file, 6.19 and later report no PIDFD_INFO_COREDUMP after
 * the reap, and 6.16-6.18 report it with an empty coredump_mask; both pass.
 */
#include <dirent.h>
#include <sys/resource.h>

#include "harness.h"

#define FLAGS (CLONE_AUTOREAP | CLONE_PIDFD)

static char core_dir[] = "/tmp/tether-core-XXXXXX";
static bool core_dir_made;
static pid_t main_pid;
static char core_pattern[256];

/* Remove the scratch directory and every core file in it (main process only). */
static void cleanup(void)
{
	DIR *d;
	struct dirent *e;

	if (!core_dir_made || getpid() != main_pid)
		return;
	core_dir_made = false;
	if (chdir("/") < 0)
		return;
	d = opendir(core_dir);
	if (d) {
		int dfd = dirfd(d);
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				unlinkat(dfd, e->d_name, 0);
		closedir(d);
	}
	rmdir(core_dir);
}

/* Names of the files in the scratch directory (core files), for the log. */
static void list_core_files(char *buf, size_t len)
{
	DIR *d = opendir(".");
	struct dirent *e;
	size_t used = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", e->d_name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	closedir(d);
}

static void read_core_pattern(void)
{
	int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, core_pattern, sizeof(core_pattern) - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	core_pattern[n] = '\0';
	core_pattern[strcspn(core_pattern, "\n")] = '\0';
}

static const char *coredump_mask_words(__u32 m, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", m & TETHER_PIDFD_COREDUMPED ? "COREDUMPED " : "",
		 m & TETHER_PIDFD_COREDUMP_SKIP ? "SKIP " : "", m & TETHER_PIDFD_COREDUMP_USER ? "USER " : "",
		 m & TETHER_PIDFD_COREDUMP_ROOT ? "ROOT " : "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, len, "none");
	return buf;
}

enum crash { CRASH_NULL_DEREF, CRASH_ABORT };

/* The NULL store is the point: no sanitizer may turn it into anything else. */
static __attribute__((noreturn, no_sanitize("undefined", "address"))) void crash_now(enum crash how)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		_exit(100);
	/* A sanitizer runtime catches these signals and turns off core dumps:
	 * the crash must be the kernel's, as in any program. */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	setrlimit(RLIMIT_CORE, &unlimited);
	if (how == CRASH_NULL_DEREF) {
		/* volatile: the compiler must neither see the NULL nor turn it into a trap */
		int *volatile p = NULL;
		*(volatile int *)p = 1;
		_exit(101);
	}
	abort();
}

/* What the info of a reaped child that died of sig (si_code code) must say. */
static void judge(int pidfd, int sig, int code, const char *what)
{
	const unsigned int feat = tether_features();
	const bool emulated = t_emulated(FLAGS);
	struct tether_pidfd_info info;
	char words[64], files[256];
	int r;

	memset(&info, 0, sizeof(info));
	info.mask = TETHER_PIDFD_INFO_EXIT | TETHER_PIDFD_INFO_COREDUMP;
	r = tether_pidfd_get_info(pidfd, &info, sizeof(info));
	if (r == -ENOTTY || r == -ESRCH || (r == 0 && !(info.mask & TETHER_PIDFD_INFO_EXIT))) {
		if (!emulated)
			t_skip("kernel keeps no exit info for a reaped child (%s)",
			       r ? strerror(-r) : "no PIDFD_INFO_EXIT in mask");
		t_fail("%s: emulation returned no exit info: %s", what,
		       r ? strerror(-r) : "no PIDFD_INFO_EXIT in mask");
	}
	T_ASSERT(r == 0, "%s: tether_pidfd_get_info: %s", what, strerror(-r));
	list_core_files(files, sizeof(files));
	t_info("%s: mask %#llx exit_code %#x coredump_mask %#x (%s) coredump_signal %u coredump_code %d; files here: %s",
	       what, (unsigned long long)info.mask, info.exit_code, info.coredump_mask,
	       coredump_mask_words(info.coredump_mask, words, sizeof(words)), info.coredump_signal,
	       (int)info.coredump_code, files[0] ? files : "none");

	T_ASSERT(WIFSIGNALED(info.exit_code) && WTERMSIG(info.exit_code) == sig,
		 "%s: exit_code %#x is not WIFSIGNALED with signal %d", what, info.exit_code, sig);
	T_ASSERT(!(info.mask & (TETHER_PIDFD_INFO_COREDUMP_SIGNAL | TETHER_PIDFD_INFO_COREDUMP_CODE)) ||
			 (info.mask & TETHER_PIDFD_INFO_COREDUMP),
		 "%s: COREDUMP_SIGNAL/CODE in mask %#llx without COREDUMP", what,
		 (unsigned long long)info.mask);

	/* Never invent a value: the emulation cannot know si_code on its own. */
	if (emulated && !(feat & TETHER_FEATURE_COREDUMP_INFO))
		T_ASSERT(!(info.mask & TETHER_PIDFD_INFO_COREDUMP_CODE),
			 "%s: emulation on a kernel without coredump info claims COREDUMP_CODE (%d)", what,
			 (int)info.coredump_code);

	if (!(info.mask & TETHER_PIDFD_INFO_COREDUMP)) {
		/*
		 * A kernel records a dump on the pidfd only when it hands the core
		 * to a socket or a %F pipe helper; for a core file it says nothing
		 * after the reap (6.19 and later).
		 */
		t_info("%s: no PIDFD_INFO_COREDUMP in mask (kernel recorded no dump for core_pattern '%s')",
		       what, core_pattern);
		return;
	}

	if (!(info.coredump_mask & (TETHER_PIDFD_COREDUMPED | TETHER_PIDFD_COREDUMP_SKIP))) {
		/*
		 * 6.16-6.18 set PIDFD_INFO_COREDUMP whenever it is asked for and
		 * leave coredump_mask 0 unless the dump went to a socket or %F
		 * pipe helper. Only the kernel's own answer may look like that.
		 */
		T_ASSERT(!(info.mask & TETHER_PIDFD_INFO_COREDUMP_SIGNAL) && info.coredump_mask == 0,
			 "%s: coredump_mask %#x has neither COREDUMPED nor COREDUMP_SKIP", what,
			 info.coredump_mask);
		t_info("%s: kernel sets PIDFD_INFO_COREDUMP with an empty coredump_mask (it did not record this dump)",
		       what);
		return;
	}
	t_info("%s: coredump_mask says %s", what,
	       info.coredump_mask & TETHER_PIDFD_COREDUMPED ? "COREDUMPED" : "COREDUMP_SKIP");

	if (info.mask & TETHER_PIDFD_INFO_COREDUMP_SIGNAL)
		T_ASSERT(info.coredump_signal == (__u32)sig, "%s: coredump_signal %u, expected %d", what,
			 info.coredump_signal, sig);
	if (info.mask & TETHER_PIDFD_INFO_COREDUMP_CODE)
		T_ASSERT((int)info.coredump_code == code, "%s: coredump_code %d, expected %d", what,
			 (int)info.coredump_code, code);
	else if (!emulated && (feat & TETHER_FEATURE_COREDUMP_CODE))
		t_fail("%s: the kernel has coredump-code and recorded the dump, but gave no COREDUMP_CODE", what);
}

static void check(enum crash how, int sig, int code, const char *what)
{
	int pidfd = -1;
	pid_t pid = t_clone(FLAGS, 0, &pidfd);

	if (pid == 0)
		crash_now(how);
	T_ASSERT(pid > 0, "%s: tether_clone3: %s", what, strerror(errno));
	T_ASSERT(t_pidfd_wait_readable(pidfd, 60000), "%s: pidfd never polled readable", what);
	T_ASSERT(t_wait_pid_reaped(pid, 30000), "%s: child %d not reaped", what, (int)pid);
	judge(pidfd, sig, code, what);
	tether_pidfd_close(pidfd);
}

int main(void)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	unsigned int feat;

	t_require_flags(FLAGS);
	main_pid = getpid();
	feat = tether_features();
	read_core_pattern();
	t_info("core_pattern '%s'; backend %s; kernel coredump-info %s, coredump-code %s, exit-info %s",
	       core_pattern, t_backend_word(FLAGS), feat & TETHER_FEATURE_COREDUMP_INFO ? "yes" : "no",
	       feat & TETHER_FEATURE_COREDUMP_CODE ? "yes" : "no",
	       feat & TETHER_FEATURE_EXIT_INFO ? "yes" : "no");

	if (setrlimit(RLIMIT_CORE, &unlimited) < 0) {
		/* An unprivileged caller may only raise the soft limit to the hard one. */
		struct rlimit cur;
		T_ASSERT(getrlimit(RLIMIT_CORE, &cur) == 0, "getrlimit: %s", strerror(errno));
		cur.rlim_cur = cur.rlim_max;
		T_ASSERT(setrlimit(RLIMIT_CORE, &cur) == 0, "setrlimit(RLIMIT_CORE): %s", strerror(errno));
		t_info("RLIMIT_CORE raised to the hard limit only");
	}
	T_ASSERT(mkdtemp(core_dir), "mkdtemp: %s", strerror(errno));
	core_dir_made = true;
	atexit(cleanup);
	T_ASSERT(chdir(core_dir) == 0, "chdir %s: %s", core_dir, strerror(errno));

	check(CRASH_NULL_DEREF, SIGSEGV, SEGV_MAPERR, "NULL dereference");
	check(CRASH_ABORT, SIGABRT, SI_TKILL, "abort()");
	t_pass("exit and coredump info of crashed autoreap children (%s backend)", t_backend_word(FLAGS));
}

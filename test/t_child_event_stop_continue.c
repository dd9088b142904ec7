/* SPDX-License-Identifier: MIT */
/*
 * tether_child_event(): a spawned child's stops and continues reach the
 * caller as they reach a parent (waitid(WSTOPPED | WCONTINUED), kernel/exit.c),
 * each with a SIGCHLD to wake it, on every backend. In emulation the
 * program's parent is its monitor, which must pass each report on (README,
 * "How the emulation works"); natively the caller is the parent.
 *
 * For each flag set (none: the caller is the parent; CLONE_AUTOREAP; the
 * autokill set), the child is put in a process group of its own (an
 * orphaned group would drop SIGTSTP and SIGTTIN) and:
 *  - nothing is pending at first (-EAGAIN);
 *  - SIGSTOP, SIGTSTP, SIGTTIN: a SIGCHLD comes, one STOPPED report with
 *    that signal, then -EAGAIN; SIGCONT: a SIGCHLD, one CONTINUED report;
 *  - a larger struct's tail is zeroed, a smaller one than the first
 *    version and NULLs are -EINVAL;
 *  - a forked copy of the caller is not the one told: -ECHILD;
 *  - a stop not taken before the child is killed is gone with the child
 *    (-EAGAIN), and the wait still sees the SIGKILL.
 */
#include <sys/signalfd.h>

#include "spawn_common.h"

/* The child of the moment: killed at the test's exit, whatever ends it (an
 * AUTOREAP child without AUTOKILL would outlive a failed test). */
static struct tether_child *current;

static void kill_current(void)
{
	if (current)
		tether_child_kill(current, SIGKILL);
}

/* "child bounded-sleep": sleep until killed, 120 s at most (SIGALRM). */
static void child_modes(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "child") == 0 && strcmp(argv[2], "bounded-sleep") == 0) {
		alarm(120);
		for (;;)
			pause();
	}
}

/* Wait (bounded: 10 s) for a SIGCHLD on sfd; drains it. */
static bool sigchld_within(int sfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	struct signalfd_siginfo si;
	bool got = false;

	if (poll(&pfd, 1, timeout_ms) == 1)
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			got = true;
	return got;
}

/* The next report, waiting (bounded) for its SIGCHLD first. */
static void expect_report(struct tether_child *c, int sfd, int type, int sig, const char *what)
{
	struct tether_child_event ev;
	long long deadline = t_now_ms() + 10000;
	bool woke = false;
	int r;

	for (;;) {
		woke |= sigchld_within(sfd, 200);
		memset(&ev, 0x5a, sizeof(ev));
		r = tether_child_event(c, &ev, sizeof(ev));
		if (r != -EAGAIN || t_now_ms() > deadline)
			break;
	}
	T_ASSERT(r == 0, "%s: no report within 10 s: %s", what, strerror(-r));
	T_ASSERT(ev.type == type && ev.signal == sig, "%s: got type %d signal %d, expected type %d signal %d", what,
		 ev.type, ev.signal, type, sig);
	/* Its SIGCHLD may come a moment after the report is there. */
	if (!woke)
		woke = sigchld_within(sfd, 10000);
	T_ASSERT(woke, "%s: the report came without a SIGCHLD to wake the caller", what);
	r = tether_child_event(c, &ev, sizeof(ev));
	T_ASSERT(r == -EAGAIN, "%s: a second report (%d: type %d signal %d)", what, r, ev.type, ev.signal);
}

/* Wait (bounded) until pid's /proc state is, or is not, 'T'. */
static bool state_stopped(pid_t pid, bool stopped)
{
	for (int i = 0; i < 1000; i++) {
		char s = t_proc_state(pid);
		if ((s == 'T') == stopped)
			return true;
		usleep(10000);
	}
	return false;
}

static void run(uint64_t flags, const char *name, int sfd)
{
	struct tether_spawn_attr *attr = ts_attr_flags(flags);
	static const int stops[] = { SIGSTOP, SIGTSTP, SIGTTIN };
	struct tether_child *c;
	struct tether_exit_info info;
	struct tether_child_event ev;
	pid_t pid, fk;
	int r, st;

	T_ASSERT(tether_spawn_attr_set_pgroup(attr, 0) == 0, "set_pgroup");
	r = ts_spawn_self(&c, NULL, attr, "bounded-sleep", NULL);
	T_ASSERT(r == 0, "%s: spawn: %s", name, strerror(-r));
	current = c;
	tether_spawn_attr_destroy(attr);
	pid = tether_child_pid(c);
	t_own_pgroup(pid);

	errno = 4242;
	r = tether_child_event(c, &ev, sizeof(ev));
	T_ASSERT(r == -EAGAIN, "%s: a report before any stop: %d", name, r);
	T_ASSERT(errno == 4242, "%s: errno changed to %d", name, errno);
	for (size_t i = 0; i < TS_N(stops); i++) {
		char what[64];

		snprintf(what, sizeof(what), "%s: %s", name, sigabbrev_np(stops[i]));
		T_ASSERT(tether_child_kill(c, stops[i]) == 0, "%s: kill", what);
		expect_report(c, sfd, TETHER_CHILD_STOPPED, stops[i], what);
		T_ASSERT(t_proc_state(pid) == 'T', "%s: reported stopped, state %c", what, t_proc_state(pid));
		T_ASSERT(tether_child_kill(c, SIGCONT) == 0, "%s: SIGCONT", what);
		strcat(what, " then CONT");
		expect_report(c, sfd, TETHER_CHILD_CONTINUED, SIGCONT, what);
	}
	t_info("%s: SIGSTOP, SIGTSTP, SIGTTIN and SIGCONT each reported once, each with a SIGCHLD", name);

	/* Size rules, on a real report. */
	{
		struct {
			struct tether_child_event ev;
			char tail[8];
		} big;
		T_ASSERT(tether_child_event(NULL, &ev, sizeof(ev)) == -EINVAL, "NULL child");
		T_ASSERT(tether_child_event(c, NULL, sizeof(ev)) == -EINVAL, "NULL event");
		T_ASSERT(tether_child_event(c, &ev, TETHER_CHILD_EVENT_SIZE_VER0 - 1) == -EINVAL, "size too small");
		T_ASSERT(tether_child_kill(c, SIGSTOP) == 0, "SIGSTOP");
		T_ASSERT(state_stopped(pid, true), "%s: not stopped within 10 s", name);
		T_ASSERT(sigchld_within(sfd, 10000), "%s: no SIGCHLD for the stop", name);
		memset(&big, 0x5a, sizeof(big));
		for (int i = 0; i < 100 && (r = tether_child_event(c, &big.ev, sizeof(big))) == -EAGAIN; i++)
			usleep(100000);
		T_ASSERT(r == 0 && big.ev.type == TETHER_CHILD_STOPPED && big.ev.signal == SIGSTOP,
			 "%s: larger struct: %d type %d signal %d", name, r, big.ev.type, big.ev.signal);
		for (size_t i = 0; i < sizeof(big.tail); i++)
			T_ASSERT(big.tail[i] == 0, "%s: tail byte %zu not zeroed", name, i);
	}

	/* A fork of the caller is not the child's parent: it is not told. */
	fk = fork();
	T_ASSERT(fk >= 0, "fork");
	if (fk == 0)
		_exit(tether_child_event(c, &ev, sizeof(ev)) == -ECHILD ? 0 : 1);
	T_ASSERT(waitpid(fk, &st, 0) == fk && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		 "%s: tether_child_event in a fork did not fail with ECHILD", name);

	/* Stopped again, not taken, then killed: the stop goes with it. */
	T_ASSERT(tether_child_kill(c, SIGCONT) == 0, "SIGCONT");
	expect_report(c, sfd, TETHER_CHILD_CONTINUED, SIGCONT, "continue before the kill");
	T_ASSERT(tether_child_kill(c, SIGTSTP) == 0, "SIGTSTP");
	T_ASSERT(state_stopped(pid, true), "%s: not stopped within 10 s", name);
	T_ASSERT(sigchld_within(sfd, 10000), "%s: no SIGCHLD for the stop", name);
	T_ASSERT(tether_child_kill(c, SIGKILL) == 0, "SIGKILL");
	T_ASSERT(t_pidfd_wait_readable(tether_child_pidfd(c), 10000), "%s: not dead within 10 s", name);
	r = tether_child_event(c, &ev, sizeof(ev));
	T_ASSERT(r == -EAGAIN, "%s: after the child's end: %d (type %d signal %d)", name, r, ev.type, ev.signal);
	info = ts_wait(c, name);
	T_ASSERT(info.signaled && info.signal == SIGKILL, "%s: status %#x", name, info.status);
	current = NULL;
	tether_child_release(c);
	sigchld_within(sfd, 0);
	t_info("%s: a stop not taken is gone once the child is; a fork gets ECHILD; sizes checked", name);
}

int main(int argc, char **argv)
{
	static const struct {
		uint64_t flags;
		const char *name;
	} sets[] = {
		{ 0, "no flags (the caller is the parent)" },
		{ CLONE_AUTOREAP, "CLONE_AUTOREAP" },
		{ CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL, "AUTOREAP|NNP|AUTOKILL" },
	};
	sigset_t chld;
	int sfd, ran = 0;

	child_modes(argc, argv);
	ts_child_dispatch(argc, argv);
	atexit(kill_current);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	T_ASSERT(sfd >= 0, "signalfd: %s", strerror(errno));
	for (size_t i = 0; i < TS_N(sets); i++) {
		if (sets[i].flags && t_native_without(sets[i].flags)) {
			t_info("%s: native backend forced on a kernel without the flags: not run", sets[i].name);
			continue;
		}
		t_info("%s (%s backend)", sets[i].name, sets[i].flags ? t_backend_word(sets[i].flags) : "no");
		run(sets[i].flags, sets[i].name, sfd);
		ran++;
	}
	ts_assert_no_children("end");
	t_pass("stops and continues reported once each, with a SIGCHLD, for %d flag set(s)", ran);
}

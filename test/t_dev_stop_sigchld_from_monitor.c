/* SPDX-License-Identifier: MIT */
/*
 * Deviation "a spawned child stops": natively the kernel tells the parent
 * with SIGCHLD, si_code CLD_STOPPED, and not at all when the parent set
 * SA_NOCLDSTOP (kernel/signal.c, do_notify_parent_cldstop()). An emulated
 * spawned CLONE_AUTOREAP child's parent is its monitor, which passes the stop
 * on with a SIGCHLD of its own (si_code SI_USER, sent by the monitor), also to
 * a caller with SA_NOCLDSTOP; the report itself is tether_child_event()'s.
 *
 * The caller sets SA_NOCLDSTOP, stops the child and waits for the report:
 * natively no SIGCHLD came; emulated one did, from the monitor (SI_USER).
 */
#include "spawn_common.h"

static volatile sig_atomic_t sigchlds, last_code;
static struct tether_child *current;

/* A failed check must not leave the stopped sleeper behind (AUTOREAP alone
 * does not kill it when we exit). */
static void kill_current(void)
{
	if (current)
		tether_child_kill(current, SIGKILL);
}

static void on_sigchld(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	sigchlds++;
	last_code = si->si_code;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigchld, .sa_flags = SA_SIGINFO | SA_NOCLDSTOP | SA_RESTART };
	struct tether_spawn_attr *attr;
	struct tether_child_event ev;
	struct tether_child *c;
	long long deadline;
	int r;

	ts_child_dispatch(argc, argv);
	t_require_flags(CLONE_AUTOREAP);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	attr = ts_attr_flags(CLONE_AUTOREAP);
	T_ASSERT(ts_spawn_self(&c, NULL, attr, "sleep", NULL) == 0, "spawn");
	current = c;
	atexit(kill_current);
	tether_spawn_attr_destroy(attr);
	T_ASSERT(tether_child_kill(c, SIGSTOP) == 0, "SIGSTOP");
	deadline = t_now_ms() + 10000;
	while ((r = tether_child_event(c, &ev, sizeof(ev))) == -EAGAIN && t_now_ms() < deadline)
		usleep(5000);
	T_ASSERT(r == 0 && ev.type == TETHER_CHILD_STOPPED, "no stop report within 10 s: %s", strerror(-r));
	usleep(T_SETTLE_MS * 1000); /* a SIGCHLD on its way has arrived by now */
	tether_child_kill(c, SIGKILL);
	ts_wait(c, "stopped sleeper");
	current = NULL;
	tether_child_release(c);
	if (!t_emulated(CLONE_AUTOREAP)) {
		T_ASSERT(sigchlds == 0, "native: %d SIGCHLD despite SA_NOCLDSTOP", (int)sigchlds);
		t_pass("native: SA_NOCLDSTOP: no SIGCHLD for the stop; tether_child_event() reported it");
	}
	T_ASSERT(sigchlds >= 1 && last_code == SI_USER, "emulated: %d SIGCHLD (last si_code %d), expected one from the monitor (SI_USER)",
		 (int)sigchlds, (int)last_code);
	t_pass("emulated: SA_NOCLDSTOP: the monitor's SIGCHLD (SI_USER) came for the stop anyway (deviation pinned)");
}

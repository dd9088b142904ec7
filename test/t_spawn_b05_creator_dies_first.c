/* SPDX-License-Identifier: MIT */
/*
 * B5 for spawned children: the creator dies first (it exits, or is
 * SIGKILLed) while its AUTOREAP (and AUTOREAP|NNP) program runs, under a
 * subreaper (this test). When the program then exits it is reaped at once:
 * it never becomes a zombie of the subreaper, and with the emulation it
 * never becomes the subreaper's child at all (its parent is its monitor).
 *
 * What the subreaper does see with the emulation is the monitor: orphaned
 * with its creator, it is reparented here, the kernel resets its exit
 * signal to SIGCHLD (kernel/exit.c, reparent_leader()), it has exec'd the
 * embedded monitor program (so ps names it after the memfd it came from),
 * and it ends right after its program, as an ordinary
 * child that the subreaper reaps (exit 0). That is what the README
 * documents; this test pins it and prints what it saw. Natively (7.1+) the
 * program itself is reparented here and autoreaped at its exit.
 */
#include "hostile_common.h"

/* A zombie this long is left for the subreaper (not the instant before an autoreap). */
#define ZOMBIE_FOR_GOOD_MS 2000

struct seen {
	int zombie_of_us, child_of_us, monitors, others, monitor_reaped_ok;
	int monitor_exit_signal;
	char monitor_comm[32];
};

/*
 * A monitor by its name: "tether-monitor" while it runs in its creator's
 * memory; once it has exec'd the embedded program from a memfd, the kernel
 * names it after the memfd ("memfd:tether-monitor", cut to 15 bytes), and
 * the program's first call names it "tether-monitor" again. Older kernels
 * (5.10 here) name a process exec'd by descriptor after the descriptor's
 * number ("0": fs/exec.c, the "/dev/fd/N" file name) until that call, a
 * moment that a slow machine can stretch: a child of another name is read
 * again for a while before it counts as something else.
 */
static bool is_monitor_comm(const char *comm)
{
	return strcmp(comm, "tether-monitor") == 0 || strcmp(comm, "memfd:tether-mo") == 0;
}

static void settled_comm(pid_t pid, char *comm, size_t len)
{
	hc_comm(pid, comm, len);
	for (long long end = t_now_ms() + 5000; !is_monitor_comm(comm) && t_now_ms() < end; usleep(5000))
		hc_comm(pid, comm, len);
}

static void trial(uint64_t flags, bool kill_creator, struct seen *s)
{
	int gate[2], info[2], st;
	pid_t creator, prog, kids[64];
	long long end;

	T_ASSERT(pipe2(gate, O_CLOEXEC) == 0 && pipe2(info, O_CLOEXEC) == 0, "pipe");
	creator = fork();
	T_ASSERT(creator >= 0, "fork");
	if (creator == 0) {
		struct tether_file_actions *fa;
		struct tether_spawn_attr *attr = ts_attr_flags(flags);
		struct tether_child *c;

		if (tether_file_actions_init(&fa) < 0 || tether_file_actions_add_dup2(fa, gate[0], 0) < 0 ||
		    tether_spawn(&c, TS_SELF, fa, attr, ts_argv("stdin-exit", "7", NULL), NULL) < 0)
			_exit(1);
		prog = tether_child_pid(c);
		(void)!write(info[1], &prog, sizeof(prog));
		if (kill_creator)
			for (;;)
				pause();
		_exit(0); /* exit with the handle held: the program lives on */
	}
	close(gate[0]);
	close(info[1]);
	T_ASSERT(read(info[0], &prog, sizeof(prog)) == sizeof(prog), "the creator did not spawn");
	close(info[0]);
	if (kill_creator)
		t_kill(creator, SIGKILL);
	T_ASSERT(waitpid(creator, &st, 0) == creator, "reap the creator");

	/* What came to us, the subreaper, before the program ends. */
	usleep(100000);
	for (int i = 0, n = t_live_children(kids, 64); i < n; i++) {
		char comm[32];
		if (kids[i] == prog) {
			s->child_of_us++;
		} else if (settled_comm(kids[i], comm, sizeof(comm)), is_monitor_comm(comm)) {
			s->monitors++;
			snprintf(s->monitor_comm, sizeof(s->monitor_comm), "%s", comm);
			s->monitor_exit_signal = (int)hc_stat_field(kids[i], 38);
		} else {
			s->others++;
			t_info("unexpected child of the subreaper: %d (%s)", (int)kids[i], comm);
		}
	}
	T_ASSERT(t_proc_state(prog) != 0, "the program died with its creator (AUTOREAP without AUTOKILL must live)");

	/* Let the program end; watch it go, as closely as /proc allows. */
	close(gate[1]);
	end = t_now_ms() + 20000;
	long long zombie_since = 0;
	for (;;) {
		char state = t_proc_state(prog);
		pid_t pp = hc_ppid(prog);
		if (state == 0)
			break;
		/* An autoreaped task is a zombie for an instant even natively
		 * (exit_notify() sets EXIT_ZOMBIE, then EXIT_DEAD under the
		 * tasklist lock, which /proc does not take): only a zombie that
		 * stays one is the subreaper's to collect. */
		if (state == 'Z' && pp == getpid()) {
			if (!zombie_since)
				zombie_since = t_now_ms();
			else if (t_now_ms() - zombie_since > ZOMBIE_FOR_GOOD_MS)
				s->zombie_of_us++;
		} else {
			zombie_since = 0;
		}
		if (pp == getpid() && t_emulated(flags))
			s->child_of_us++;
		T_ASSERT(t_now_ms() < end, "the program %d did not end (state %c)", (int)prog, state);
		if (s->zombie_of_us)
			break;
	}
	/* Whatever is ours now we reap; only monitors may be among them. */
	end = t_now_ms() + 20000;
	for (;;) {
		siginfo_t si = { 0 };
		int n = t_live_children(kids, 64);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) == 0 && si.si_pid > 0) {
			char what[32] = "";
			if (si.si_pid == prog)
				s->zombie_of_us++;
			else if (si.si_code == CLD_EXITED && si.si_status == 0)
				s->monitor_reaped_ok++;
			else
				snprintf(what, sizeof(what), "code %d status %d", si.si_code, si.si_status);
			if (what[0])
				t_info("reaped %d: %s", (int)si.si_pid, what);
			continue;
		}
		if (n == 0 || t_now_ms() > end)
			break;
		usleep(2000);
	}
	T_ASSERT(t_live_children(kids, 64) == 0, "something the creator left behind did not end");
}

int main(int argc, char **argv)
{
	static const uint64_t sets[] = { CLONE_AUTOREAP, CLONE_AUTOREAP | CLONE_NNP };
	struct seen s = { 0 };
	int trials = 0;

	hc_child_dispatch(argc, argv);
	t_require_flags(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD);
	T_ASSERT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER");
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 2; i++, trials++)
			trial(sets[i], k, &s);
	T_ASSERT(s.zombie_of_us == 0, "the program became a zombie of the subreaper (%d)", s.zombie_of_us);
	if (t_emulated(CLONE_AUTOREAP)) {
		T_ASSERT(s.child_of_us == 0, "the program became the subreaper's child (%d)", s.child_of_us);
		T_ASSERT(s.monitors == trials, "%d monitors came to the subreaper in %d trials", s.monitors, trials);
		T_ASSERT(s.others == 0, "%d other processes came to the subreaper", s.others);
		T_ASSERT(s.monitor_reaped_ok == trials, "the subreaper reaped %d monitors (exit 0) in %d trials",
			 s.monitor_reaped_ok, trials);
		t_info("the subreaper sees: one monitor per orphaned program, named \"%s\" in ps, exit signal %d, "
		       "exit 0 after its program; never the program",
		       s.monitor_comm, s.monitor_exit_signal);
	} else {
		T_ASSERT(s.monitors == 0 && s.others == 0, "native: helpers came to the subreaper");
		t_info("native: the program itself is reparented to the subreaper (%d times) and autoreaped",
		       s.child_of_us);
	}
	t_pass("creator exited or was SIGKILLed first: the program was never a zombie of the subreaper (%d trials, %s "
	       "backend)",
	       trials, t_backend_word(CLONE_AUTOREAP));
}

/* SPDX-License-Identifier: MIT */
/*
 * tether_spawn_attr_set_foreground(): the child's new process group is the
 * terminal's foreground group when the program starts (it checks
 * tcgetpgrp() of its /dev/tty against getpgrp() itself), without and with
 * the lifecycle flags (the emulation's monitor makes the child); without the
 * attribute the same child is in the background (so the attribute is what
 * did it). A terminal that is not the child's controlling terminal (after
 * setsid(), or /dev/null) fails the spawn with ENOTTY at the child stage;
 * a descriptor below -1 is EINVAL.
 *
 * Each case runs in a session of its own on a new pseudo-terminal, whose
 * leader does the spawning from the terminal's foreground group, as
 * tether(1) does for a command that cannot ask for the terminal.
 *
 * Child mode: "fg": exit 0 if the process's group is its terminal's
 * foreground group, 3 if not, 4 without a terminal.
 */
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "spawn_common.h"

static void fg_child_mode(int argc, char **argv)
{
	int tty;

	if (argc < 3 || strcmp(argv[1], "child") != 0 || strcmp(argv[2], "fg") != 0)
		return;
	tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0)
		_exit(4);
	_exit(tcgetpgrp(tty) == getpgrp() ? 0 : 3);
}

struct fg_case {
	uint64_t flags;
	bool foreground, setsid, devnull;
	int want_err;       /* the spawn's error (0: it works) */
	int want_exit;      /* the child's exit code when it works */
};

/* In a new session whose controlling terminal is a new pty: spawn "fg". */
static int fg_case_run(void *arg)
{
	const struct fg_case *k = arg;
	struct tether_spawn_attr *a = ts_attr_flags(k->flags);
	struct tether_child *c;
	struct tether_exit_info info;
	enum tether_spawn_stage stage = TETHER_SPAWN_STAGE_NONE;
	int master, slave, fd, r;

	T_ASSERT(openpty(&master, &slave, NULL, NULL, NULL) == 0, "openpty: %s", strerror(errno));
	T_ASSERT(setsid() > 0, "setsid: %s", strerror(errno));
	T_ASSERT(ioctl(slave, TIOCSCTTY, 0) == 0, "TIOCSCTTY: %s", strerror(errno));
	T_ASSERT(tcgetpgrp(slave) == getpgrp(), "the session leader's group is not in the foreground");
	fd = slave;
	if (k->devnull)
		T_ASSERT((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0, "open /dev/null");
	if (k->setsid)
		T_ASSERT(tether_spawn_attr_set_setsid(a, true) == 0, "set_setsid");
	else
		T_ASSERT(tether_spawn_attr_set_pgroup(a, 0) == 0, "set_pgroup");
	if (k->foreground)
		T_ASSERT(tether_spawn_attr_set_foreground(a, fd) == 0, "set_foreground");
	r = tether_spawnx(&c, TS_SELF, 0, NULL, a, ts_argv("fg", NULL), NULL, &stage);
	tether_spawn_attr_destroy(a);
	if (k->want_err) {
		T_ASSERT(r == -k->want_err, "spawn: %s, expected %s", strerror(-r), strerror(k->want_err));
		T_ASSERT(stage == TETHER_SPAWN_STAGE_CHILD, "the error's stage is %d, not the child's", (int)stage);
		T_ASSERT(tcgetpgrp(slave) == getpgrp(), "the failed spawn took the terminal's foreground");
		return 0;
	}
	T_ASSERT(r == 0, "spawn: %s", strerror(-r));
	info = ts_wait(c, "fg");
	tether_child_release(c);
	T_ASSERT(info.exited && info.exit_code == k->want_exit, "the child %s %d, expected exit %d",
		 info.exited ? "exited" : "was killed by signal", info.exited ? info.exit_code : info.signal,
		 k->want_exit);
	(void)master; /* closed at the exit: closing it here would hang up the session, us first */
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t lifecycle = CLONE_AUTOREAP | CLONE_NNP;
	struct tether_spawn_attr *a;

	fg_child_mode(argc, argv);
	ts_child_dispatch(argc, argv);
	{
		int m, s;
		if (openpty(&m, &s, NULL, NULL, NULL) < 0)
			t_skip("no pseudo-terminals here (openpty: %s)", strerror(errno));
		close(m);
		close(s);
	}
	T_ASSERT(tether_spawn_attr_init(&a) == 0, "attr_init");
	T_ASSERT(tether_spawn_attr_set_foreground(a, -2) == -EINVAL, "set_foreground(-2) is not EINVAL");
	T_ASSERT(tether_spawn_attr_set_foreground(a, -1) == 0, "set_foreground(-1) (unset)");
	T_ASSERT(tether_spawn_attr_set_foreground(NULL, 0) == -EINVAL, "set_foreground(NULL)");
	tether_spawn_attr_destroy(a);

	if (t_native_without(lifecycle))
		lifecycle = 0; /* TETHER_BACKEND=native without the kernel's flags: plain spawns only */
	for (int l = 0; l < 2; l++) {
		uint64_t flags = l ? lifecycle : 0;
		const struct fg_case cases[] = {
			{ .flags = flags, .foreground = true, .want_exit = 0 },
			{ .flags = flags, .foreground = false, .want_exit = 3 },
			{ .flags = flags, .foreground = true, .setsid = true, .want_err = ENOTTY },
			{ .flags = flags, .foreground = true, .devnull = true, .want_err = ENOTTY },
		};
		for (size_t i = 0; i < TS_N(cases); i++) {
			int st = t_in_subprocess(fg_case_run, (void *)&cases[i]);
			T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "case %zu (flags %#llx) failed (status %#x)", i,
				 (unsigned long long)flags, st);
		}
		t_info("flags %#llx (%s): the child starts in the foreground with the attribute, in the background "
		       "without; ENOTTY after setsid and for /dev/null",
		       (unsigned long long)flags, t_backend_word(flags));
	}
	ts_assert_no_children("end");
	t_pass("tether_spawn_attr_set_foreground(): the child's group has the terminal before exec");
}

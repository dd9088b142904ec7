/* SPDX-License-Identifier: MIT */
/*
 * tether(1) passes SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 on
 * to the command (which dies by it: tether exits 128+N); with --autokill a
 * SIGKILL of tether kills the command too, and without it the command
 * survives (the control).
 */
#include "cli_common.h"

#define AK (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

/* Start tether with the command "self child pid-sleep"; returns the command's pid. */
static pid_t start(struct tc_cli *t, const char *const *opts)
{
	const char *args[16];
	char line[32];
	size_t n = 0, off = 0;

	args[n++] = "run";
	for (; *opts; opts++)
		args[n++] = *opts;
	args[n++] = TS_SELF;
	args[n++] = "child";
	args[n++] = "pid-sleep";
	args[n] = NULL;
	tc_start_v(t, NULL, args);
	/* The command prints its pid once it runs (tether has its signalfd by then). */
	while (off < sizeof(line) - 1) {
		ssize_t r = read(t->out, line + off, 1);
		T_ASSERT(r == 1, "the command did not start");
		if (line[off] == '\n')
			break;
		off++;
	}
	line[off] = '\0';
	return (pid_t)atoi(line);
}

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
	struct rlimit no_core = { 0, 0 };
	char out[1024], err[1024];
	struct tc_cli t;
	int status, watch;
	pid_t pid;

	tc_dispatch(argc, argv);
	/* Default dispositions for the chain (a shell may have made SIGINT ignored), no core files. */
	for (size_t i = 0; i < TS_N(sigs); i++)
		signal(sigs[i], SIG_DFL);
	setrlimit(RLIMIT_CORE, &no_core);

	for (size_t i = 0; i < TS_N(sigs); i++) {
		const char *none[] = { NULL };
		pid = start(&t, none);
		watch = t_pidfd_open(pid);
		T_ASSERT(watch >= 0, "pidfd_open(%d)", pid);
		T_ASSERT(tether_child_kill(t.child, sigs[i]) == 0, "kill tether");
		status = tc_finish(&t, out, sizeof(out), err, sizeof(err));
		T_ASSERT(status == 128 + sigs[i], "%s: tether exited %d, expected %d (stderr: %s)", strsignal(sigs[i]),
			 status, 128 + sigs[i], err);
		T_ASSERT(t_dies(watch, 5000), "the command outlived tether");
		close(watch);
		t_info("%s sent to tether: the command died by it, tether exited %d", sigabbrev_np(sigs[i]), status);
	}

	/* SIGKILL of tether without --autokill: the command lives on (the control) */
	{
		const char *none[] = { NULL };
		pid = start(&t, none);
		watch = t_pidfd_open(pid);
		T_ASSERT(watch >= 0, "pidfd_open");
		T_ASSERT(tether_child_kill(t.child, SIGKILL) == 0, "kill tether");
		struct tether_exit_info info = ts_wait(t.child, "tether");
		T_ASSERT(info.signaled && info.signal == SIGKILL, "tether: status %#x", info.status);
		T_ASSERT(t_stays_alive(watch, T_SETTLE_MS), "without --autokill the command died with tether");
		t_pidfd_send_signal(watch, SIGKILL); /* it holds tether's output pipes */
		T_ASSERT(t_dies(watch, 5000), "cleanup");
		status = tc_finish(&t, out, sizeof(out), err, sizeof(err));
		close(watch);
		t_info("without --autokill: the command outlives a SIGKILLed tether");
	}

	/* with --autokill it dies too */
	if (t_native_without(AK)) {
		t_info("--autokill: not checked (native backend, kernel without the flags)");
	} else {
		const char *ak[] = { "--autokill", "--nnp", NULL };
		pid = start(&t, ak);
		watch = t_pidfd_open(pid);
		T_ASSERT(watch >= 0, "pidfd_open");
		T_ASSERT(t_stays_alive(watch, 50), "the command died early");
		T_ASSERT(tether_child_kill(t.child, SIGKILL) == 0, "kill tether");
		status = tc_finish(&t, out, sizeof(out), err, sizeof(err));
		T_ASSERT(status == 128 + SIGKILL, "tether exited %d", status);
		T_ASSERT(t_dies(watch, 10000), "--autokill: the command %d survived tether's SIGKILL", pid);
		close(watch);
		t_info("--autokill: SIGKILL of tether killed the command (%s backend)", t_backend_word(AK));
	}
	ts_assert_no_children("end");
	t_pass("signals forwarded; --autokill ties the command to tether's life");
}

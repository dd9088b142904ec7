/* SPDX-License-Identifier: MIT */
/*
 * tether run in a real terminal with a real shell, compared with the same
 * commands typed without it (test/cli_shell_pty.py does the typing): a for
 * loop stopped by Ctrl-C, SIGTERM to a job's process group (kill -TERM
 * -PGID, kill %1) seen once, Ctrl-C reaching a command in its own process
 * group (timeout 60 sleep 30), a hang-up of the terminal of which the
 * command leads the session, Ctrl-Z and fg, a window resize, a command
 * reading the terminal, an interactive bash under tether, less; Ctrl-Z of
 * a job that has other processes too (a pipeline, a script around the
 * command) while the command holds the terminal; a command reading the
 * terminal where SIGTTIN and SIGTTOU are ignored.
 *
 * Host only: it needs /bin/bash and /usr/bin/python3 (Debian's), which the
 * test VMs do not have; there it skips. t_cli_tty covers what a C program
 * can check on a pseudo-terminal without a shell, in the VMs too.
 *
 * This program is also the commands the scenarios run ("child MODE"):
 *   count-term      print count-ready; count SIGTERMs; 1.5 s after the last, print terms=N, exit 0
 *   winch           print winch-ready, wait for SIGWINCH, print size=ROWSxCOLS
 *   hup-note FILE   write "started PID" to FILE; on SIGHUP append "hup", die by it
 *   ticks N         print "tick I" every 0.25 s, N times
 */
#include "cli_common.h"

#include <termios.h>

#ifndef TETHER_TEST_SRCDIR
#define TETHER_TEST_SRCDIR "."
#endif

static void child_modes(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "child") != 0)
		return;
	tc_shared_child_modes(argc, argv, "count-ready");
	if (strcmp(argv[2], "hup-note") == 0 && argc > 3) {
		char line[64];
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
		sigset_t hup;
		if (fd < 0)
			exit(2);
		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		sigprocmask(SIG_BLOCK, &hup, NULL);
		snprintf(line, sizeof(line), "started %d\n", (int)getpid());
		if (write(fd, line, strlen(line)) < 0)
			exit(2);
		/* The note is written before the process dies of the signal: sigwait, not a handler. */
		for (int sig = 0; sigwait(&hup, &sig) == 0;) {
			if (write(fd, "hup\n", 4) < 0)
				exit(2);
			signal(SIGHUP, SIG_DFL);
			raise(SIGHUP);
			sigprocmask(SIG_UNBLOCK, &hup, NULL);
		}
		exit(3);
	}
	if (strcmp(argv[2], "ticks") == 0 && argc > 3) {
		for (int i = 1; i <= atoi(argv[3]); i++) {
			printf("tick %d\n", i);
			fflush(stdout);
			usleep(250000);
		}
		exit(0);
	}
}

int main(int argc, char **argv)
{
	char self[4096], script[4096];
	ssize_t n;

	child_modes(argc, argv);
	tc_dispatch(argc, argv);
	if (access("/bin/bash", X_OK) != 0 || access("/usr/bin/python3", X_OK) != 0)
		t_skip("needs /bin/bash and /usr/bin/python3 (host only; t_cli_tty runs in the VMs)");
	snprintf(script, sizeof(script), "%s/cli_shell_pty.py", TETHER_TEST_SRCDIR);
	if (access(script, R_OK) != 0)
		t_skip("%s is not here (a copy of the test without its source tree)", script);
	bool ak = !t_native_without(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL);
	t_info("tether run %s(%s backend)", ak ? "--autokill --nnp " : "",
	       t_backend_word(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	T_ASSERT(n > 0, "readlink /proc/self/exe");
	self[n] = '\0';
	fflush(stdout);
	execl("/usr/bin/python3", "python3", script, self, ak ? "--autokill" : (char *)NULL, (char *)NULL);
	t_fail("exec python3: %s", strerror(errno));
}

/* SPDX-License-Identifier: MIT */
/*
 * No signal handler of the caller's runs in a new tether_clone3() child
 * before the child's set-up (SPEC B9: no_new_privs "before it runs any code
 * of its own"): signals are blocked across the clone and the caller's mask
 * comes back in the child only once it is set up.
 *
 * A process of the test's own process group floods the group with SIGUSR1
 * while the test makes CLONE_NNP children; the handler reports any run in a
 * child whose no_new_privs is not set yet.
 */
#include <sys/prctl.h>

#include "harness.h"

#define CHILDREN 500 /* t_scaled() in the VMs */

static long children;

static pid_t main_pid;
static int report_wr = -1;

static void on_usr1(int sig)
{
	int saved = errno;
	(void)sig;
	if (getpid() != main_pid && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0)
		(void)!write(report_wr, "x", 1);
	errno = saved;
}

static int run(void *arg)
{
	int rep[2], early = 0, made = 0;
	pid_t flooder;
	char buf[256];
	ssize_t n;

	(void)arg;
	T_ASSERT(setpgid(0, 0) == 0, "setpgid: %s", strerror(errno));
	t_own_pgroup(getpid());
	main_pid = getpid();
	T_ASSERT(pipe2(rep, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
	report_wr = rep[1];
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);

	flooder = fork();
	T_ASSERT(flooder >= 0, "fork");
	if (flooder == 0) {
		signal(SIGUSR1, SIG_IGN);
		for (;;)
			t_killpg(main_pid, SIGUSR1);
	}
	for (long i = 0; i < children; i++) {
		int pidfd = -1;
		pid_t pid = t_clone(CLONE_NNP | CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			continue; /* EINTR-free, but a full pid space is not this test's business */
		made++;
		t_pidfd_wait_readable(pidfd, 10000);
		tether_pidfd_close(pidfd);
	}
	t_kill(flooder, SIGKILL);
	waitpid(flooder, NULL, 0);
	while ((n = read(rep[0], buf, sizeof(buf))) > 0)
		early += (int)n;
	t_info("%d children made under a SIGUSR1 flood; the handler ran %d times in a child before its set-up",
	       made, early);
	return early == 0 && made > children / 2 ? 0 : 1;
}

int main(void)
{
	t_require_flags(CLONE_NNP | CLONE_AUTOREAP);
	children = t_scaled(CHILDREN, 100);
	int st = t_in_subprocess(run, NULL);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a handler ran in a child before its set-up (status %#x)", st);
	t_pass("no handler ran in a child before no_new_privs was set (%s backend)", t_backend_word(CLONE_NNP));
}

/* SPDX-License-Identifier: MIT */
/* B6: a multi-threaded child is reaped only once its last thread has exited, with the process's exit code. */
#include <pthread.h>

#include "harness.h"

static struct t_gate gate;

static void *worker(void *arg)
{
	(void)arg;
	t_gate_wait(&gate);
	_exit(17); /* exit_group: the process's exit code */
}

int main(void)
{
	int pidfd = -1;

	t_require_flags(CLONE_AUTOREAP);
	t_gate_open(&gate);
	pid_t pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &pidfd);
	if (pid == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, NULL) != 0)
			_exit(99);
		syscall(SYS_exit, 0); /* only the main thread ends */
	}
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(gate.rd);
	/* The leader is gone; the process is not. */
	long long end = t_now_ms() + 10000;
	while (t_proc_state(pid) != 'Z') {
		char st = t_proc_state(pid);
		T_ASSERT(st != 0, "process vanished while a thread was alive");
		T_ASSERT(t_now_ms() < end, "main thread did not exit (state %c)", st);
		usleep(1000);
	}
	T_ASSERT(!t_pidfd_wait_readable(pidfd, 50), "pidfd readable while a thread lives");
	T_ASSERT(t_proc_state(pid) != 0, "reaped while a thread lives");
	t_gate_release(&gate);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "pidfd not readable after the last thread");
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "not reaped after the last thread");
	int st = t_pidfd_exit_status(pidfd);
	if (st >= 0)
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 17, "exit code %#x, expected 17", st);
	else
		t_info("no exit info on this kernel (%s); reaping checked", strerror(-st));
	tether_pidfd_close(pidfd);
	t_pass("reaped after the last thread, exit code 17 (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

/* SPDX-License-Identifier: MIT */
/*
 * A handle whose pidfd went with the application's descriptor sweep
 * (close_range(3, ~0U)) while the application's own files took its number:
 * a pidfd of another process of the application's (a worker), or a plain
 * file. The handle must never signal, wait on or close what the number holds
 * now: tether_child_kill(), tether_child_wait() and tether_child_event()
 * answer -EBADF and the worker lives; tether_child_release() leaves the
 * number open and the worker's pidfd working. The program itself is then as
 * if released: with autokill it dies (the sweep took the handle's autokill
 * file too), without it goes on.
 *
 * Each case in a fresh forked process, without lifecycle flags and with
 * autoreap and with autoreap, nnp and autokill (emulated or native).
 */
#include "spawn_common.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

struct sweep_case {
	uint64_t flags;
	bool worker_pidfd; /* the number gets the worker's pidfd (else /dev/null) */
};

static int sweep_case_run(void *arg)
{
	const struct sweep_case *k = arg;
	struct tether_spawn_attr *a = ts_attr_flags(k->flags);
	struct tether_child *c;
	struct tether_child_event ev;
	struct tether_exit_info info;
	int number, fd, worker_fd = -1;
	pid_t program, worker;

	/* Before the spawn: a fork would share the handle's autokill file. */
	worker = fork();
	T_ASSERT(worker >= 0, "fork");
	if (worker == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed case leaves nothing behind */
		for (;;)
			pause();
	}
	T_ASSERT(ts_spawn_self(&c, NULL, a, "sleep", NULL) == 0, "spawn");
	tether_spawn_attr_destroy(a);
	program = tether_child_pid(c);
	number = tether_child_pidfd(c);

	/* The daemon's sweep, then its own files: the lowest numbers first. */
	T_ASSERT(syscall(SYS_close_range, 3, ~0U, 0) == 0, "close_range: %s", strerror(errno));
	do {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		T_ASSERT(fd >= 0 && fd <= number, "the application's files did not reach number %d", number);
	} while (fd < number);
	if (k->worker_pidfd) {
		close(fd);
		fd = worker_fd = t_pidfd_open(worker);
		T_ASSERT(fd == number, "the worker's pidfd is on %d, not %d", fd, number);
	}

	T_ASSERT(tether_child_kill(c, SIGTERM) == -EBADF, "tether_child_kill() through a number that is not ours");
	T_ASSERT(tether_child_wait(c, 0, &info) == -EBADF, "tether_child_wait() on a number that is not ours");
	T_ASSERT(tether_child_event(c, &ev, sizeof(ev)) == -EBADF, "tether_child_event() on a number that is not ours");
	if (k->worker_pidfd)
		T_ASSERT(t_stays_alive(worker_fd, 200), "the worker was signalled through the handle");
	tether_child_release(c);
	T_ASSERT(fcntl(number, F_GETFD) >= 0, "the release closed the application's descriptor %d", number);
	if (k->worker_pidfd) {
		T_ASSERT(t_pidfd_send_signal(worker_fd, 0) == 0, "the worker's pidfd: %s", strerror(errno));
		T_ASSERT(t_stays_alive(worker_fd, 100), "the worker died");
	}

	if (k->flags & CLONE_PIDFD_AUTOKILL) {
		T_ASSERT(t_wait_pid_gone(program, 10000), "autokill: the program outlived its swept handle");
	} else {
		T_ASSERT(t_proc_state(program) != 'Z' && t_kill(program, 0) == 0, "the program did not go on");
		t_kill(program, SIGKILL);
		if (!(k->flags & CLONE_AUTOREAP))
			waitpid(program, NULL, 0); /* an ordinary child of ours */
		T_ASSERT(t_wait_pid_gone(program, 10000), "the program did not end");
	}
	t_kill(worker, SIGKILL);
	waitpid(worker, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	const uint64_t sets[] = { 0, CLONE_AUTOREAP, CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL };

	ts_child_dispatch(argc, argv);
	for (size_t i = 0; i < TS_N(sets); i++) {
		if (t_native_without(sets[i])) {
			t_info("flags %#llx: not checked (native backend, kernel without them)", (unsigned long long)sets[i]);
			continue;
		}
		for (int w = 0; w < 2; w++) {
			struct sweep_case k = { .flags = sets[i], .worker_pidfd = w };
			int st = t_in_subprocess(sweep_case_run, &k);
			T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "flags %#llx, %s on the number: failed (status %#x)",
				 (unsigned long long)sets[i], w ? "a worker's pidfd" : "/dev/null", st);
		}
		t_info("flags %#llx (%s): after the sweep, kill/wait/event -EBADF, the application's file on the number "
		       "untouched, the program as if released",
		       (unsigned long long)sets[i], sets[i] ? t_backend_word(sets[i]) : "no lifecycle flag");
	}
	ts_assert_no_children("end");
	t_pass("a handle never signals, waits on or closes a number its pidfd lost to a descriptor sweep");
}

/* SPDX-License-Identifier: MIT */
/*
 * A program that waits for "all my children" with while (wait(&st) > 0)
 * stops waiting once its own (forked) children are gone, whatever tether
 * children still live: spawned AUTOREAP and AUTOREAP|NNP|AUTOKILL
 * children and a fork-like tether_clone3() autokill child, with every
 * helper process the library has for them. The loop collects exactly its
 * own children and ends with ECHILD; alarm() guards against it never
 * ending. Afterwards the tether children are still alive, and die at
 * release.
 *
 * Natively (7.1+) the kernel does less for *spawned* children: execve()
 * resets the exit signal to SIGCHLD (fs/exec.c), so wait(-1) counts a
 * live exec'd CLONE_AUTOREAP child and blocks until it ends (it then
 * returns nothing for it: the child is autoreaped). Only the fork-like
 * child stays out of the loop's way. The test pins that natively: the
 * spawned children are ended after a second from another thread, and the
 * loop must then end having returned only its own children.
 */
#include <pthread.h>

#include "hostile_common.h"

static struct tether_child *spawned_autokill;
static int spawned_gate = -1;

static void *end_spawned(void *arg)
{
	(void)arg;
	sleep(1);
	tether_child_release(spawned_autokill);
	close(spawned_gate);
	return NULL;
}

#define OWN 3

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL: while (wait(&st) > 0) did not end: it waits for tether's children\n";
	(void)sig;
	(void)!write(1, msg, sizeof(msg) - 1);
	_exit(T_EXIT_FAIL);
}

int main(int argc, char **argv)
{
	struct tether_child *c[2];
	struct tether_file_actions *fa;
	int watch[3], fl_pidfd, st, got = 0, own_ok = 0, gate[2];
	pid_t own[OWN], fl, p;

	hc_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	/* First the fork-like child: it would hold a copy of the gate below. */
	fl = t_autokill_sleeper(0, &fl_pidfd, &watch[2]);
	/* The autoreap child outlives its handle: it ends when this process
	 * does (its stdin's write end goes with us), even if the test fails. */
	T_ASSERT(pipe2(gate, O_CLOEXEC) == 0, "pipe");
	T_ASSERT(tether_file_actions_init(&fa) == 0 && tether_file_actions_add_dup2(fa, gate[0], 0) == 0, "fa");
	{
		struct tether_spawn_attr *attr = ts_attr_flags(CLONE_AUTOREAP);
		T_ASSERT(tether_spawn(&c[0], TS_SELF, fa, attr, ts_argv("stdin-exit", "0", NULL), NULL) == 0,
			 "spawn autoreap");
		tether_spawn_attr_destroy(attr);
	}
	tether_file_actions_destroy(fa);
	close(gate[0]);
	T_ASSERT(hc_spawn(&c[1], HC_AUTOKILL_SPAWN, "sleep", NULL) == 0, "spawn autokill");
	for (int i = 0; i < 2; i++)
		watch[i] = t_pidfd_open(tether_child_pid(c[i]));
	for (int i = 0; i < OWN; i++) {
		own[i] = fork();
		T_ASSERT(own[i] >= 0, "fork");
		if (own[i] == 0) {
			usleep(100000 * (useconds_t)(i + 1));
			_exit(10 + i);
		}
	}
	const bool native = !t_emulated(T_AUTOKILL_FLAGS);
	pthread_t ender;
	if (native) {
		spawned_autokill = c[1];
		spawned_gate = gate[1];
		T_ASSERT(pthread_create(&ender, NULL, end_spawned, NULL) == 0, "thread");
	}
	signal(SIGALRM, on_alarm);
	alarm(30);
	while ((p = wait(&st)) > 0) {
		got++;
		for (int i = 0; i < OWN; i++)
			own_ok += p == own[i] && WIFEXITED(st) && WEXITSTATUS(st) == 10 + i;
	}
	alarm(0);
	T_ASSERT(errno == ECHILD, "wait ended with %s, not ECHILD", strerror(errno));
	T_ASSERT(got == OWN && own_ok == OWN, "the loop returned %d processes (%d of its %d own, with their status)",
		 got, own_ok, OWN);
	if (native) {
		pthread_join(ender, NULL);
		T_ASSERT(t_stays_alive(watch[2], 0), "the fork-like tether child died");
		tether_child_release(c[0]);
		tether_pidfd_close(fl_pidfd);
		for (int i = 0; i < 3; i++)
			T_ASSERT(t_dies(watch[i], 20000), "tether child %d survived", i);
		t_pass("native: while (wait(&st) > 0) returned only its %d own children; it waited for the exec'd "
		       "autoreap children to end (exec resets their exit signal), never for the fork-like one",
		       OWN);
	}
	for (int i = 0; i < 3; i++)
		T_ASSERT(t_stays_alive(watch[i], 0), "tether child %d died", i);
	tether_child_release(c[0]);
	close(gate[1]); /* autoreap without autokill outlives its handle: let it end */
	tether_child_release(c[1]);
	tether_pidfd_close(fl_pidfd);
	for (int i = 0; i < 3; i++)
		T_ASSERT(t_dies(watch[i], 20000), "tether child %d survived", i);
	(void)fl;
	t_pass("while (wait(&st) > 0) ended after its %d own children, with 3 tether children alive (%s backend)", OWN,
	       t_backend_word(T_AUTOKILL_FLAGS));
}

/* SPDX-License-Identifier: MIT */
/*
 * The handle's exit info: a core dump is reported from the wait status and,
 * where the kernel (or emulation) says more, with the coredump mask, signal
 * and si_code, never with an invented value; several threads waiting on one
 * handle get the same answer; a child reaped behind the handle's back gives
 * its status where the kernel keeps it and -ECHILD elsewhere.
 */
#include <pthread.h>

#include "spawn_common.h"

static struct tether_child *shared;
static struct tether_exit_info got[4];
static int rets[4];

static void *waiter(void *arg)
{
	intptr_t i = (intptr_t)arg;
	rets[i] = tether_child_wait(shared, 20000, &got[i]);
	return NULL;
}

static void check_coredump(uint64_t flags)
{
	struct tether_spawn_attr *a = ts_attr_flags(flags);
	struct tether_file_actions *fa;
	struct tether_child *c;
	struct tether_exit_info info;
	int r;

	T_ASSERT(tether_file_actions_init(&fa) == 0, "fa");
	T_ASSERT(tether_file_actions_add_chdir(fa, ts_tmpdir()) == 0, "chdir"); /* the core goes there */
	r = ts_spawn_self(&c, fa, a, "raise", "6", NULL);
	tether_file_actions_destroy(fa);
	tether_spawn_attr_destroy(a);
	T_ASSERT(r == 0, "spawn: %s", strerror(-r));
	info = ts_wait(c, "abort");
	tether_child_release(c);
	T_ASSERT(info.signaled && info.signal == SIGABRT, "status %#x, expected SIGABRT", info.status);
	if (!info.core_dumped)
		t_skip("the kernel did not report a core dump (RLIMIT_CORE unlimited, core_pattern as set)");
	/* The kernel notes a dump on the pidfd only for some core_pattern kinds (see
	 * t_info_coredump_mask_signal_code): check that what is reported agrees. */
	bool noted = info.have_coredump_info && (info.coredump_mask & TETHER_PIDFD_COREDUMPED);
	if (info.have_coredump_signal && (noted || info.coredump_signal != 0))
		T_ASSERT(info.coredump_signal == SIGABRT, "coredump signal %d", info.coredump_signal);
	if (info.have_coredump_code && noted)
		T_ASSERT(info.coredump_code == SI_TKILL, "coredump code %d, expected SI_TKILL", info.coredump_code);
	T_ASSERT(info.have_coredump_info || !info.have_coredump_signal, "a signal without coredump info");
	t_info("flags %#llx: core dumped; pidfd coredump info: %s, signal %s, code %s", (unsigned long long)flags,
	       !info.have_coredump_info ? "none" : noted ? "dumped" : "mask without COREDUMPED",
	       info.have_coredump_signal ? "reported" : "not reported",
	       info.have_coredump_code && noted ? "SI_TKILL" : "not reported");
}

int main(int argc, char **argv)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct tether_exit_info info;
	struct tether_child *c;
	int r;

	ts_child_dispatch(argc, argv);

	/* several waiters, one answer */
	T_ASSERT(ts_spawn_self(&shared, NULL, NULL, "sleep", NULL) == 0, "spawn");
	pthread_t th[4];
	for (intptr_t i = 0; i < 4; i++)
		T_ASSERT(pthread_create(&th[i], NULL, waiter, (void *)i) == 0, "thread");
	usleep(50000);
	T_ASSERT(tether_child_kill(shared, SIGTERM) == 0, "kill");
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		T_ASSERT(rets[i] == 0, "waiter %d: %s", i, strerror(-rets[i]));
		T_ASSERT(got[i].signaled && got[i].signal == SIGTERM, "waiter %d: status %#x", i, got[i].status);
	}
	tether_child_release(shared);
	t_info("four threads waiting on one handle: the same exit");

	/* reaped behind the handle's back */
	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "exit", "9", NULL) == 0, "spawn");
	T_ASSERT(waitpid(tether_child_pid(c), NULL, 0) == tether_child_pid(c), "waitpid");
	r = tether_child_wait(c, 1000, &info);
	if (tether_features() & TETHER_FEATURE_EXIT_INFO) {
		T_ASSERT(r == 0 && info.exited && info.exit_code == 9, "after waitpid(): %s, status %#x",
			 strerror(-r), info.status);
		t_info("reaped by waitpid(): the kernel still had the exit code");
	} else {
		T_ASSERT(r == -ECHILD, "after waitpid(): %s, expected ECHILD", strerror(-r));
		t_info("reaped by waitpid(): ECHILD (this kernel keeps no exit info)");
	}
	tether_child_release(c);

	/* core dumps */
	T_ASSERT(setrlimit(RLIMIT_CORE, &rl) == 0 || (getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur > 0),
		 "RLIMIT_CORE");
	check_coredump(0);
	if (!t_native_without(CLONE_AUTOREAP))
		check_coredump(CLONE_AUTOREAP);
	ts_assert_no_children("end");
	t_pass("exit and coredump info as reported, shared by waiters, ECHILD only when unknown");
}

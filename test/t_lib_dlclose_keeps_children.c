/* SPDX-License-Identifier: MIT */
/*
 * dlclose() of libtether while spawned children live (a plugin host that
 * unloads its plugin): the library is linked with -z nodelete, so the code
 * that monitors sharing the caller's memory and the reaper thread run stays
 * mapped. dlopen_plugin_host loads the built library with dlopen(), spawns an
 * autoreap program, unloads the library, and checks that it survives and
 * that the program lives as long as it should: with the handle released
 * (the reaper thread then reaps the monitor after the dlclose()) and with
 * the handle kept (the program stopped and continued wakes its monitor).
 * Without -z nodelete the host dies of SIGSEGV, or the monitor does and takes
 * the program with it.
 *
 * Host only: the helper is dynamically linked; where it cannot run (the test
 * VMs have no dynamic loader) the test skips.
 */
#include "spawn_common.h"

#ifndef TETHER_PLUGIN_HOST
#define TETHER_PLUGIN_HOST "dlopen_plugin_host"
#endif
#ifndef TETHER_LIB_PATH
#define TETHER_LIB_PATH "libtether.so.0"
#endif

static int run_helper(const char *mode)
{
	char *v[] = { (char *)TETHER_PLUGIN_HOST, (char *)TETHER_LIB_PATH, (char *)mode, NULL };
	int status;
	pid_t pid;

	if (access(TETHER_PLUGIN_HOST, X_OK) < 0 || access(TETHER_LIB_PATH, R_OK) < 0)
		t_skip("no %s or %s here (a copy of the tests without the build tree)", TETHER_PLUGIN_HOST, TETHER_LIB_PATH);
	pid = fork();
	T_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		/* Under ASan: the "kept" host unloads the library with a handle it
		 * never releases (as a plugin host may at its exit): no leak to
		 * report. A later option wins over the suite's detect_leaks=1. */
		const char *o = getenv("ASAN_OPTIONS");
		char opts[1024];
		snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0", o ? o : "", o && *o ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		execv(v[0], v);
		_exit(errno == ENOENT ? 120 : 121);
	}
	T_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 120)
		t_skip("the dynamically linked helper cannot run here (no dynamic loader)");
	return status;
}

int main(int argc, char **argv)
{
	ts_child_dispatch(argc, argv);
	if (t_native_without(CLONE_AUTOREAP))
		t_skip("native backend without CLONE_AUTOREAP in the kernel");
	for (int kept = 0; kept < 2; kept++) {
		int st = run_helper(kept ? "kept" : "released");
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dlclose() with the handle %s: the host %s %d",
			 kept ? "kept" : "released", WIFSIGNALED(st) ? "died of signal" : "exited",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	t_pass("dlclose() of libtether while an autoreap program lives: host, program and monitor unharmed");
}

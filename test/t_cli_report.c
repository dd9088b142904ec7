/* SPDX-License-Identifier: MIT */
/*
 * tether run --report[=json]: one line for people, or one JSON object, on
 * stderr, saying how the command ended: exit code, signal, core dump with
 * the coredump signal and code when the kernel tells them; and a JSON
 * object for a command that could not be started.
 */
#include "cli_common.h"

static void expect_has(const char *hay, const char *needle, const char *what)
{
	T_ASSERT(strstr(hay, needle), "%s: no '%s' in '%s'", what, needle, hay);
}

static void check_core(const char *flag)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	const char *dir = ts_tmpdir();
	int st;

	T_ASSERT(setrlimit(RLIMIT_CORE, &rl) == 0, "RLIMIT_CORE");
	st = tc_run_in(dir, "run", "--report=json", flag, TS_SELF, "child", "raise", "6", NULL);
	T_ASSERT(st == 128 + SIGABRT, "abort: tether exited %d (stderr: %s)", st, tc_err);
	expect_has(tc_err, "\"signal\":6,\"signal_name\":\"SIGABRT\"", "json abort");
	if (!strstr(tc_err, "\"core_dumped\":true"))
		t_skip("the kernel did not report a core dump (stderr: %s)", tc_err);
	/* What the kernel says beyond "dumped" must be right; unknown is null. */
	if (!strstr(tc_err, "\"coredump_signal\":null"))
		expect_has(tc_err, "\"coredump_signal\":6", "json coredump signal");
	if (!strstr(tc_err, "\"coredump_code\":null"))
		expect_has(tc_err, "\"coredump_code\":-6,\"coredump_code_name\":\"SI_TKILL\"", "json coredump code");
	t_info("%s json: %.*s", flag, (int)strcspn(tc_err, "\n"), tc_err);

	st = tc_run_in(dir, "run", "--report", flag, TS_SELF, "child", "raise", "6", NULL);
	T_ASSERT(st == 128 + SIGABRT, "abort: tether exited %d", st);
	expect_has(tc_err, "was killed by signal 6 (SIGABRT), core dumped", "text abort");
	t_info("%s text: %.*s", flag, (int)strcspn(tc_err, "\n"), tc_err);
}

int main(int argc, char **argv)
{
	char want[128];
	int st;

	tc_dispatch(argc, argv);

	st = tc_run("run", "--report", TS_SELF, "child", "exit", "3", NULL);
	T_ASSERT(st == 3, "exit 3: %d", st);
	T_ASSERT(strncmp(tc_err, "tether: '" TS_SELF "' (pid ", 9 + strlen(TS_SELF) + 7) == 0, "text: '%s'", tc_err);
	expect_has(tc_err, ") exited with code 3\n", "text exit");
	T_ASSERT(strchr(tc_err, '\n') == tc_err + strlen(tc_err) - 1, "text report is not one line: '%s'", tc_err);
	st = tc_run("run", "--report=json", TS_SELF, "child", "exit", "3", NULL);
	T_ASSERT(st == 3, "exit 3: %d", st);
	T_ASSERT(tc_err[0] == '{', "json: '%s'", tc_err);
	expect_has(tc_err, "{\"command\":\"" TS_SELF "\",\"pid\":", "json exit");
	expect_has(tc_err, "\"exited\":true,\"exit_code\":3,\"signaled\":false,\"signal\":null,\"signal_name\":null,"
			   "\"core_dumped\":false,\"coredump_signal\":null,\"coredump_code\":null,"
			   "\"coredump_code_name\":null,\"timed_out\":false,\"killed_after_timeout\":false,"
			   "\"exit_status\":3}\n", "json exit");
	t_info("exit: %.*s", (int)strcspn(tc_err, "\n"), tc_err);

	st = tc_run("run", "--report", TS_SELF, "child", "raise", "15", NULL);
	T_ASSERT(st == 143, "SIGTERM: %d", st);
	expect_has(tc_err, ") was killed by signal 15 (SIGTERM)\n", "text signal");
	st = tc_run("run", "--report=json", TS_SELF, "child", "raise", "15", NULL);
	expect_has(tc_err, "\"exited\":false,\"exit_code\":null,\"signaled\":true,\"signal\":15,"
			   "\"signal_name\":\"SIGTERM\",\"core_dumped\":false", "json signal");
	expect_has(tc_err, "\"exit_status\":143}", "json signal");
	t_info("signal: %.*s", (int)strcspn(tc_err, "\n"), tc_err);

	setenv("PATH", "/nonexistent-dir", 1);
	st = tc_run("run", "--report=json", "tether-no-such-command", NULL);
	T_ASSERT(st == 127, "not found: %d", st);
	snprintf(want, sizeof(want), "\"errno\":%d,\"stage\":\"exec\",\"exit_status\":127}\n", ENOENT);
	expect_has(tc_err, "{\"command\":\"tether-no-such-command\",\"error\":\"No such file or directory\",", "json error");
	expect_has(tc_err, want, "json error");
	t_info("not started: %.*s", (int)strcspn(strchr(tc_err, '{'), "\n"), strchr(tc_err, '{'));

	check_core("--");
	if (!t_native_without(CLONE_AUTOREAP))
		check_core("--autoreap");
	ts_assert_no_children("end");
	t_pass("--report: exit code, signal and core dump, for people and as JSON");
}

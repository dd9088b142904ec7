/* SPDX-License-Identifier: MIT */
/*
 * tether(1)'s exit status: the command's code, 128+N for death by signal N,
 * 126 found but not runnable, 127 not found, 125 for tether's own errors
 * (each with one line naming the bad argument), 0 for --help and
 * --version; and the lifecycle options reach the command.
 */
#include "cli_common.h"

#define AK (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

static void expect(int got, int want, const char *what)
{
	T_ASSERT(got == want, "%s: exit status %d, expected %d (stderr: %s)", what, got, want, tc_err);
}

static void expect_error_line(const char *line)
{
	T_ASSERT(strcmp(tc_err, line) == 0, "stderr '%s', expected '%s'", tc_err, line);
}

int main(int argc, char **argv)
{
	char noexec[512], garbage[512], want[256];
	const char *dir;

	tc_dispatch(argc, argv);
	dir = ts_tmpdir();
	snprintf(noexec, sizeof(noexec), "%s/not-executable", dir);
	snprintf(garbage, sizeof(garbage), "%s/garbage", dir);
	ts_write_file(noexec, "#!/bin/sh\n", 0644);
	ts_write_file(garbage, "\x01\x02 no program\n", 0755);

	/* 0: --version, --help */
	expect(tc_run("--version", NULL), 0, "--version");
	/* one line: version, the backend all lifecycle flags would get, the kernel's features */
	snprintf(want, sizeof(want), "tether %s; backend %s; kernel:", tether_version(),
		 tether_backend_name(tether_backend_for(TETHER_CLONE_FLAGS)));
	T_ASSERT(strncmp(tc_out, want, strlen(want)) == 0 && strchr(tc_out, '\n') == tc_out + strlen(tc_out) - 1,
		 "--version printed '%s'", tc_out);
	T_ASSERT((strstr(tc_out, " autoreap") != NULL) == !!(tether_features() & TETHER_FEATURE_AUTOREAP),
		 "--version '%s' does not say whether the kernel has autoreap", tc_out);
	expect(tc_run("--help", NULL), 0, "--help");
	T_ASSERT(strncmp(tc_out, "Usage:", 6) == 0 && strstr(tc_out, "--autokill"), "--help printed '%s'", tc_out);
	expect(tc_run("run", "--help", NULL), 0, "run --help");
	t_info("--version and --help: 0");

	/* the command's own code */
	expect(tc_run("run", "--", TS_SELF, "child", "exit", "0", NULL), 0, "exit 0");
	expect(tc_run("run", TS_SELF, "child", "exit", "42", NULL), 42, "exit 42");
	T_ASSERT(tc_err[0] == '\0', "tether wrote '%s' without --report", tc_err);
	t_info("exit codes 0 and 42 passed through");

	/* 128+N */
	expect(tc_run("run", TS_SELF, "child", "raise", "15", NULL), 128 + SIGTERM, "SIGTERM");
	expect(tc_run("run", TS_SELF, "child", "raise", "9", NULL), 128 + SIGKILL, "SIGKILL");
	t_info("death by signal N: 128+N");

	/* 127, 126 */
	setenv("PATH", "/nonexistent-dir", 1);
	expect(tc_run("run", "tether-no-such-command", NULL), 127, "not found in PATH");
	expect_error_line("tether: failed to run 'tether-no-such-command': No such file or directory\n");
	expect(tc_run("run", "/nonexistent-dir/cmd", NULL), 127, "not found");
	expect(tc_run("run", noexec, NULL), 126, "not executable");
	expect(tc_run("run", garbage, NULL), 126, "not a program");
	t_info("not found: 127; found but not runnable (EACCES, ENOEXEC): 126");

	/* 125 */
	expect(tc_run("run", "--foo", TS_SELF, NULL), 125, "unknown option");
	expect_error_line("tether: unknown option '--foo'\n");
	expect(tc_run("--bar", NULL), 125, "unknown global option");
	expect_error_line("tether: unknown option '--bar'\n");
	expect(tc_run("bogus", NULL), 125, "unknown command");
	expect_error_line("tether: unknown command 'bogus'\n");
	expect(tc_run(NULL), 125, "nothing");
	expect(tc_run("run", NULL), 125, "run without a command");
	expect_error_line("tether: run: no command given\n");
	expect(tc_run("run", "--", NULL), 125, "run -- without a command");
	expect(tc_run("run", "--report=xml", TS_SELF, NULL), 125, "bad --report");
	expect_error_line("tether: invalid argument 'xml' for '--report' (text or json)\n");
	expect(tc_run("run", "--cgroup", NULL), 125, "--cgroup without an argument");
	expect_error_line("tether: option '--cgroup' requires an argument\n");
	expect(tc_run("run", "--cgroup", "/nonexistent-dir", TS_SELF, NULL), 125, "bad --cgroup");
	expect_error_line("tether: cannot open cgroup directory '/nonexistent-dir': No such file or directory\n");
	expect(tc_run("features", "--bogus", NULL), 125, "features --bogus");
	expect_error_line("tether: unknown option '--bogus'\n");
	expect(tc_run("run", "--autoreap=yes", TS_SELF, NULL), 125, "--autoreap=yes");
	expect_error_line("tether: option '--autoreap' doesn't allow an argument\n");
	expect(tc_run("run", "--report-fd", "2", "--report-file", "/dev/null", TS_SELF, NULL), 125, "both report options");
	expect_error_line("tether: options '--report-fd' and '--report-file' cannot be used together\n");
	expect(tc_run("run", "--report-file", "/dev/null", "--report-fd", "2", TS_SELF, NULL), 125, "both, other order");
	expect_error_line("tether: options '--report-fd' and '--report-file' cannot be used together\n");
	expect(tc_run("run", "--cgroup", "/", TS_SELF, NULL), 125, "--cgroup of another file system");
	T_ASSERT(strcmp(tc_err, "tether: '/' is not a cgroup v2 directory\n") == 0 ||
			 strstr(tc_err, "cannot start") /* / is the cgroup root itself in a container */,
		 "--cgroup /: '%s'", tc_err);
	/* Control characters in a name stay escaped on the one line (as coreutils quotes them). */
	expect(tc_run("run", "/nonexistent-dir/a\nb\x1b[31mc", NULL), 127, "a name with a newline and an escape");
	expect_error_line("tether: failed to run '/nonexistent-dir/a\\nb\\x1b[31mc': No such file or directory\n");
	t_info("tether's own errors: 125 with one line naming the argument");

	/* the lifecycle options reach the command */
	if (t_native_without(CLONE_NNP)) {
		expect(tc_run("run", "--nnp", TS_SELF, "child", "nnp", NULL), 125, "--nnp, native, no kernel support");
		T_ASSERT(strstr(tc_err, "TETHER_BACKEND=native"), "no reason given: '%s'", tc_err);
		t_info("--nnp with the native backend on a kernel without it: 125, saying why");
	} else {
		expect(tc_run("run", "--nnp", TS_SELF, "child", "nnp", NULL), 1, "--nnp: no_new_privs");
		expect(tc_run("run", TS_SELF, "child", "nnp", NULL), 0, "without --nnp");
		t_info("--nnp: the command has no_new_privs");
	}
	if (!t_native_without(CLONE_AUTOREAP)) {
		expect(tc_run("run", "--autoreap", TS_SELF, "child", "exit", "5", NULL), 5, "--autoreap");
		expect(tc_run("run", "--autoreap", TS_SELF, "child", "raise", "15", NULL), 128 + SIGTERM,
		       "--autoreap, SIGTERM");
		t_info("--autoreap: exit code and signal still reported");
	}
	if (!t_native_without(AK)) {
		expect(tc_run("run", "--autokill", "--nnp", TS_SELF, "child", "exit", "6", NULL), 6, "--autokill --nnp");
		t_info("--autokill --nnp: exit code reported");
	}

	/* features */
	expect(tc_run("features", NULL), 0, "features");
	{
		unsigned int have = tether_features(), lines = 0;
		for (unsigned int bit = 1; bit & TETHER_FEATURE_ALL; bit <<= 1) {
			char line[128];
			const char *state;
			uint64_t flag = bit == TETHER_FEATURE_AUTOREAP ? CLONE_AUTOREAP
				      : bit == TETHER_FEATURE_NNP      ? CLONE_NNP
				      : bit == TETHER_FEATURE_AUTOKILL ? CLONE_PIDFD_AUTOKILL : 0;
			if (!flag)
				state = (have & bit) ? "present" : "absent";
			else
				state = t_emulated(flag) ? "emulated" : (have & bit) ? "native" : "unavailable";
			snprintf(line, sizeof(line), "%-16s %s\n", tether_feature_name(bit), state);
			T_ASSERT(strstr(tc_out, line), "features: no line '%.*s' in:\n%s", (int)strlen(line) - 1, line, tc_out);
			lines++;
		}
		T_ASSERT(lines == 10, "10 features");
		T_ASSERT(strstr(tc_out, "tree             cgroup\n") || strstr(tc_out, "tree             subreaper\n"),
			 "features: no tree line in:\n%s", tc_out);
	}
	expect(tc_run("features", "--json", NULL), 0, "features --json");
	/* The features, then the tree mechanism that --tree=auto picks here. */
	T_ASSERT(tc_out[0] == '{' && strstr(tc_out, "\"features\":{\"clone3\":\"") &&
			 (strstr(tc_out, "},\"tree\":\"cgroup\"}\n") || strstr(tc_out, "},\"tree\":\"subreaper\"}\n")),
		 "features --json: '%s'", tc_out);
	t_info("features: one line per feature; --json: one object");
	ts_assert_no_children("end");
	t_pass("tether(1) exit statuses: N, 128+N, 126, 127, 125; 0 for --help/--version");
}

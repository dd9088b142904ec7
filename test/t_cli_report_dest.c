/* SPDX-License-Identifier: MIT */
/*
 * tether run --report=json is valid JSON whatever bytes the command's path
 * holds (0xff, quotes, backslashes, control characters: parsed back with
 * jansson, the exact bytes in "command_hex"), for a command that ran and
 * one that could not be started; --report-file PATH and --report-fd N put
 * the report there and not on stderr, and the command does not inherit N.
 */
#include "cli_common.h"

#include <jansson.h>

/* Parse the first line of text as JSON; fails the test unless it is an object. */
static json_t *parse_line(const char *text, const char *what)
{
	json_error_t e;
	size_t n = strcspn(text, "\n");
	json_t *j = json_loadb(text, n, 0, &e);

	T_ASSERT(j && json_is_object(j), "%s: not valid JSON (%s at %d): '%.*s'", what, j ? "not an object" : e.text,
		 e.position, (int)n, text);
	return j;
}

static void expect_int(json_t *j, const char *key, long long want, const char *what)
{
	json_t *v = json_object_get(j, key);
	T_ASSERT(json_is_integer(v) && json_integer_value(v) == want, "%s: %s is not %lld", what, key, want);
}

static void hex_of(const char *s, char *out)
{
	for (; *s; s++, out += 2)
		sprintf(out, "%02x", (unsigned char)*s);
	*out = '\0';
}

int main(int argc, char **argv)
{
	char self[4096], odd[4096], hex[8300], file[4200], out[4096], err[4096];
	const char *dir;
	json_t *j;
	ssize_t n;
	int st;

	tc_dispatch(argc, argv);
	dir = ts_tmpdir();
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	T_ASSERT(n > 0, "readlink");
	self[n] = '\0';

	/* A path JSON cannot hold as it is: invalid UTF-8, a quote, a backslash, a control character. */
	snprintf(odd, sizeof(odd), "%s/cmd-\xff\xfe-\"q\\-\x01-\xc3\xa9", dir);
	T_ASSERT(symlink(self, odd) == 0, "symlink: %s", strerror(errno));
	st = tc_run("run", "--report=json", odd, "child", "exit", "5", NULL);
	T_ASSERT(st == 5, "exit 5: %d (%s)", st, tc_err);
	j = parse_line(tc_err, "odd path");
	hex_of(odd, hex);
	T_ASSERT(json_is_string(json_object_get(j, "command")), "command is not a string");
	T_ASSERT(strstr(json_string_value(json_object_get(j, "command")), "cmd-\xef\xbf\xbd\xef\xbf\xbd-\"q\\-\x01-\xc3\xa9"),
		 "command: '%s'", json_string_value(json_object_get(j, "command")));
	T_ASSERT(json_is_string(json_object_get(j, "command_hex")) &&
			 strcmp(json_string_value(json_object_get(j, "command_hex")), hex) == 0,
		 "command_hex is not the path's bytes: %s", tc_err);
	expect_int(j, "exit_code", 5, "odd path");
	expect_int(j, "exit_status", 5, "odd path");
	json_decref(j);
	t_info("a path with 0xff, quotes and control characters: valid JSON, exact bytes in command_hex");

	/* The same for a command that cannot be started. */
	T_ASSERT(unlink(odd) == 0, "unlink");
	st = tc_run("run", "--report=json", odd, NULL);
	T_ASSERT(st == 127, "not found: %d", st);
	j = parse_line(strchr(tc_err, '{') ? strchr(tc_err, '{') : tc_err, "not found");
	expect_int(j, "errno", ENOENT, "not found");
	T_ASSERT(json_is_string(json_object_get(j, "command_hex")), "no command_hex: %s", tc_err);
	json_decref(j);
	t_info("not started: valid JSON too");

	/* A plain UTF-8 path has no command_hex. */
	st = tc_run("run", "--report=json", self, "child", "exit", "0", NULL);
	j = parse_line(tc_err, "plain path");
	T_ASSERT(!json_object_get(j, "command_hex"), "command_hex for a UTF-8 path");
	json_decref(j);

	/* --report-file: the report goes there, stderr stays the command's. */
	snprintf(file, sizeof(file), "%s/report.json", dir);
	st = tc_run("run", "--report=json", "--report-file", file, self, "child", "exit", "4", NULL);
	T_ASSERT(st == 4, "exit 4: %d", st);
	T_ASSERT(tc_err[0] == '\0', "stderr has '%s'", tc_err);
	{
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		T_ASSERT(fd >= 0, "no report file");
		n = read(fd, out, sizeof(out) - 1);
		close(fd);
		T_ASSERT(n > 0, "empty report file");
		out[n] = '\0';
	}
	j = parse_line(out, "--report-file");
	expect_int(j, "exit_code", 4, "--report-file");
	json_decref(j);
	st = tc_run("run", "--report-file", file, self, "child", "exit", "0", NULL);
	T_ASSERT(st == 0 && tc_err[0] == '\0', "text to a file: %d '%s'", st, tc_err);
	st = tc_run("run", "--report-file", "/nonexistent-dir/r", self, "child", "exit", "0", NULL);
	T_ASSERT(st == 125 && strstr(tc_err, "cannot open report file"), "bad report file: %d '%s'", st, tc_err);
	t_info("--report-file: the report in the file, nothing on stderr; an unopenable file: 125");

	/* --report-fd 3: the report on descriptor 3, which the command does not get. */
	{
		struct tether_file_actions *fa;
		struct tether_child *c;
		int o[2], e[2], r3[2], status;
		char *v[] = { (char *)TS_SELF, (char *)"cli", (char *)"run", (char *)"--report=json", (char *)"--report-fd",
			      (char *)"3", self, (char *)"child", (char *)"fds", NULL };
		struct tc_cli t;

		T_ASSERT(pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0 && pipe2(r3, O_CLOEXEC) == 0, "pipes");
		T_ASSERT(tether_file_actions_init(&fa) == 0, "fa");
		T_ASSERT(tether_file_actions_add_dup2(fa, o[1], 1) == 0 && tether_file_actions_add_dup2(fa, e[1], 2) == 0 &&
				 tether_file_actions_add_dup2(fa, r3[1], 3) == 0,
			 "dup2");
		T_ASSERT(tether_spawn(&c, TS_SELF, fa, NULL, v, NULL) == 0, "spawn tether");
		tether_file_actions_destroy(fa);
		close(o[1]);
		close(e[1]);
		close(r3[1]);
		t.child = c;
		t.out = o[0];
		t.err = e[0];
		status = tc_finish(&t, out, sizeof(out), err, sizeof(err));
		T_ASSERT(status == 0, "fds: %d (%s)", status, err);
		T_ASSERT(err[0] == '\0', "stderr has '%s'", err);
		/* Descriptors this test inherited may be there too; 3 must not. */
		T_ASSERT(strncmp(out, "0 1 2", 5) == 0 && !strstr(out, " 3 ") && !strstr(out, " 3\n"),
			 "the command's descriptors: '%s' (fd 3 leaked?)", out);
		n = read(r3[0], out, sizeof(out) - 1);
		close(r3[0]);
		T_ASSERT(n > 0, "nothing on fd 3");
		out[n] = '\0';
		j = parse_line(out, "--report-fd");
		expect_int(j, "exit_code", 0, "--report-fd");
		json_decref(j);
	}
	st = tc_run("run", "--report-fd", "9", self, "child", "exit", "0", NULL);
	T_ASSERT(st == 125, "--report-fd of a closed descriptor: %d", st);
	t_info("--report-fd 3: the report there, the command does not have it; a closed descriptor: 125");

	/* A reader gone (tether ... --report 2>&1 | head): the report is lost, never the command's status. */
	for (int json = 0; json < 2; json++) {
		struct tether_file_actions *fa;
		struct tether_child *c;
		struct tether_exit_info info;
		int r3[2];
		char *v[] = { (char *)TS_SELF, (char *)"cli", (char *)"run", (char *)(json ? "--report=json" : "--report"),
			      (char *)"--report-fd", (char *)"3", self, (char *)"child", (char *)"exit", (char *)"3", NULL };

		T_ASSERT(pipe2(r3, O_CLOEXEC) == 0, "pipe");
		T_ASSERT(tether_file_actions_init(&fa) == 0 && tether_file_actions_add_dup2(fa, r3[1], 3) == 0, "fa");
		close(r3[0]); /* no reader: writing the report is EPIPE and SIGPIPE */
		T_ASSERT(tether_spawn(&c, TS_SELF, fa, NULL, v, NULL) == 0, "spawn tether");
		tether_file_actions_destroy(fa);
		close(r3[1]);
		info = ts_wait(c, "tether --report-fd 3 with no reader");
		tether_child_release(c);
		T_ASSERT(info.exited && info.exit_code == 3, "%s report to a pipe without a reader: tether %s %d, not exit 3",
			 json ? "JSON" : "text", info.exited ? "exited" : "was killed by signal",
			 info.exited ? info.exit_code : info.signal);
	}
	t_info("a report to a pipe without a reader: the command's status (3), not SIGPIPE");
	ts_assert_no_children("end");
	t_pass("JSON reports are valid for any bytes; --report-file and --report-fd keep them apart from stderr");
}

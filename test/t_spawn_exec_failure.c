/* SPDX-License-Identifier: MIT */
/*
 * A spawn that fails returns the error and leaves nothing behind: no
 * process, no zombie, no descriptor. Exec failures (ENOENT, EACCES, ENOEXEC,
 * also through the PATH search, in the caller's PATH or envp's) report
 * TETHER_SPAWN_STAGE_EXEC; failures of
 * file actions in the child report TETHER_SPAWN_STAGE_CHILD. Checked without
 * lifecycle flags and with each of them.
 */
#include "spawn_common.h"

static char before[4096];

/* The descriptors are back to what they were (bounded: emulation helpers wind down). */
static void assert_fds_unchanged(const char *what)
{
	char now[4096];
	long long end = t_now_ms() + 5000;

	for (;;) {
		ts_fd_list(now, sizeof(now));
		if (strcmp(now, before) == 0 || t_now_ms() > end)
			break;
		usleep(2000);
	}
	T_ASSERT(strcmp(now, before) == 0, "%s: descriptors leaked: before '%s', after '%s'", what, before, now);
}

static void expect_failure(uint64_t flags, const char *file, unsigned int options,
			   struct tether_file_actions *fa, int err, enum tether_spawn_stage stage, const char *what)
{
	struct tether_spawn_attr *attr = ts_attr_flags(flags);
	struct tether_child *c = NULL;
	enum tether_spawn_stage st = TETHER_SPAWN_STAGE_NONE;
	char *v[] = { (char *)file, (char *)"child", (char *)"exit", (char *)"0", NULL };
	int r = tether_spawnx(&c, file, options, fa, attr, v, NULL, &st);

	tether_spawn_attr_destroy(attr);
	if (r == 0) {
		ts_wait(c, what);
		tether_child_release(c);
		t_fail("%s (flags %#llx): spawn succeeded, expected %s", what, (unsigned long long)flags, strerror(err));
	}
	T_ASSERT(r == -err, "%s (flags %#llx): %s, expected %s", what, (unsigned long long)flags, strerror(-r),
		 strerror(err));
	T_ASSERT(st == stage, "%s: stage %d, expected %d", what, (int)st, (int)stage);
	T_ASSERT(c == NULL, "%s: handle set on failure", what);
	ts_assert_no_children(what);
	siginfo_t si = { 0 };
	/* Nothing to wait for: no zombie (a monitor ends with its program). */
	T_ASSERT(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL | WNOWAIT) < 0 || si.si_pid == 0,
		 "%s: a zombie (pid %d) is left", what, si.si_pid);
	assert_fds_unchanged(what);
}

int main(int argc, char **argv)
{
	static const uint64_t variants[] = {
		0, CLONE_AUTOREAP, CLONE_NNP, CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL,
	};
	char noexec[512], garbage[512], pathdir[400], path_env[1200], link[512];
	const char *dir;
	int checked = 0;

	ts_child_dispatch(argc, argv);
	dir = ts_tmpdir();
	snprintf(noexec, sizeof(noexec), "%s/not-executable", dir);
	snprintf(garbage, sizeof(garbage), "%s/garbage", dir);
	snprintf(pathdir, sizeof(pathdir), "%s/bin", dir);
	ts_write_file(noexec, "#!/bin/sh\nexit 0\n", 0644);
	ts_write_file(garbage, "\x01\x02\x03 this is no program\n", 0755);
	T_ASSERT(mkdir(pathdir, 0755) == 0, "mkdir");
	/* In the PATH directory: a non-executable "tether-cmd", and "tether-self" -> this program. */
	snprintf(link, sizeof(link), "%s/tether-cmd", pathdir);
	ts_write_file(link, "no\n", 0644);
	snprintf(link, sizeof(link), "%s/tether-self", pathdir);
	T_ASSERT(symlink("/proc/self/exe", link) == 0, "symlink");
	snprintf(path_env, sizeof(path_env), "/nonexistent-dir:%s", pathdir);
	setenv("PATH", path_env, 1);

	for (size_t i = 0; i < TS_N(variants); i++) {
		uint64_t f = variants[i];
		struct tether_file_actions *fa;

		if (t_native_without(f)) {
			t_info("flags %#llx: not checked (native backend, kernel without them)", (unsigned long long)f);
			continue;
		}
		if (!checked++) {
			/* Let the library set up what it keeps for good (feature probes,
			 * a monitor's image pipe), then snapshot. */
			const uint64_t all = CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL;
			struct tether_child *c;
			struct tether_spawn_attr *attr = ts_attr_flags(t_native_without(all) ? f : all);
			T_ASSERT(ts_spawn_self(&c, NULL, attr, "exit", "0", NULL) == 0, "warm-up spawn");
			ts_wait(c, "warm-up");
			tether_child_release(c);
			tether_spawn_attr_destroy(attr);
			ts_assert_no_children("warm-up");
			t_settle_threads();
			ts_fd_list(before, sizeof(before));
		}
		expect_failure(f, "/nonexistent-dir/program", 0, NULL, ENOENT, TETHER_SPAWN_STAGE_EXEC, "ENOENT");
		expect_failure(f, noexec, 0, NULL, EACCES, TETHER_SPAWN_STAGE_EXEC, "EACCES");
		expect_failure(f, garbage, 0, NULL, ENOEXEC, TETHER_SPAWN_STAGE_EXEC, "ENOEXEC");
		expect_failure(f, "tether-no-such-command", TETHER_SPAWN_SEARCH_PATH, NULL, ENOENT,
			       TETHER_SPAWN_STAGE_EXEC, "PATH: not found");
		expect_failure(f, "tether-cmd", TETHER_SPAWN_SEARCH_PATH, NULL, EACCES, TETHER_SPAWN_STAGE_EXEC,
			       "PATH: found, not executable");
		expect_failure(f, "", TETHER_SPAWN_SEARCH_PATH, NULL, ENOENT, TETHER_SPAWN_STAGE_EXEC, "PATH: empty name");

		T_ASSERT(tether_file_actions_init(&fa) == 0, "fa");
		T_ASSERT(tether_file_actions_add_dup2(fa, 1000, 5) == 0, "add_dup2");
		expect_failure(f, TS_SELF, 0, fa, EBADF, TETHER_SPAWN_STAGE_CHILD, "dup2 of a closed fd");
		tether_file_actions_destroy(fa);
		T_ASSERT(tether_file_actions_init(&fa) == 0, "fa");
		T_ASSERT(tether_file_actions_add_open(fa, 5, "/nonexistent-dir/file", O_RDONLY, 0) == 0, "add_open");
		expect_failure(f, TS_SELF, 0, fa, ENOENT, TETHER_SPAWN_STAGE_CHILD, "open of a missing file");
		tether_file_actions_destroy(fa);
		T_ASSERT(tether_file_actions_init(&fa) == 0, "fa");
		T_ASSERT(tether_file_actions_add_chdir(fa, noexec) == 0, "add_chdir");
		expect_failure(f, TS_SELF, 0, fa, ENOTDIR, TETHER_SPAWN_STAGE_CHILD, "chdir to a file");
		tether_file_actions_destroy(fa);

		/* The control: found in PATH, runs. */
		{
			struct tether_spawn_attr *attr = ts_attr_flags(f);
			struct tether_child *c;
			char *v[] = { (char *)"tether-self", (char *)"child", (char *)"exit", (char *)"3", NULL };
			int r = tether_spawnp(&c, "tether-self", NULL, attr, v, NULL);
			T_ASSERT(r == 0, "PATH search for tether-self: %s", strerror(-r));
			struct tether_exit_info info = ts_wait(c, "tether-self");
			T_ASSERT(info.exited && info.exit_code == 3, "tether-self: status %#x", info.status);
			tether_child_release(c);
			tether_spawn_attr_destroy(attr);
		}
		/* TETHER_SPAWN_SEARCH_ENVP_PATH: the PATH of envp, not ours (ours finds tether-self). */
		{
			struct tether_spawn_attr *attr = ts_attr_flags(f);
			struct tether_child *c;
			char env_path[1300];
			char *no_path[] = { (char *)"A=b", NULL }, *elsewhere[] = { (char *)"PATH=/nonexistent-dir", NULL };
			char *found[] = { env_path, NULL };
			char *v[] = { (char *)"tether-self", (char *)"child", (char *)"exit", (char *)"4", NULL };
			enum tether_spawn_stage stage;
			int r;

			r = tether_spawnx(&c, "tether-self", TETHER_SPAWN_SEARCH_ENVP_PATH, NULL, attr, v, elsewhere, &stage);
			T_ASSERT(r == -ENOENT && stage == TETHER_SPAWN_STAGE_EXEC, "envp's PATH without it: %s", strerror(-r));
			r = tether_spawnx(&c, "tether-self", TETHER_SPAWN_SEARCH_ENVP_PATH, NULL, attr, v, no_path, &stage);
			T_ASSERT(r == -ENOENT, "envp without PATH (/bin:/usr/bin): %s", strerror(-r));
			snprintf(env_path, sizeof(env_path), "PATH=/nonexistent-dir:%s", pathdir);
			setenv("PATH", "/nonexistent-dir", 1);
			r = tether_spawnx(&c, "tether-self", TETHER_SPAWN_SEARCH_ENVP_PATH, NULL, attr, v, found, &stage);
			setenv("PATH", path_env, 1);
			T_ASSERT(r == 0, "envp's PATH with it (ours without): %s", strerror(-r));
			struct tether_exit_info info = ts_wait(c, "tether-self by envp's PATH");
			T_ASSERT(info.exited && info.exit_code == 4, "tether-self: status %#x", info.status);
			tether_child_release(c);
			T_ASSERT(tether_spawnx(&c, "tether-self", 0x4, NULL, attr, v, NULL, NULL) == -EINVAL, "unknown option");
			tether_spawn_attr_destroy(attr);
		}
		ts_assert_no_children("control");
		assert_fds_unchanged("control");
		t_info("flags %#llx (%s): ENOENT, EACCES, ENOEXEC, PATH search, child-side failures: error, "
		       "nothing left behind", (unsigned long long)f, f ? t_backend_word(f) : "no lifecycle flag");
	}
	t_pass("failed spawns return the error and leave no process, zombie or descriptor");
}

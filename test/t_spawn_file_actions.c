/* SPDX-License-Identifier: MIT */
/*
 * File actions: dup2 (also fd onto itself to pass a close-on-exec fd on),
 * close, open, chdir, fchdir, close_range and close_all_but, in order; and
 * only the descriptors the caller passes reach the program: none of the
 * library's own (pidfds, emulation handles), and the caller's inheritable
 * ones unless an action closes them.
 */
#include "spawn_common.h"

/* The descriptors of this process without FD_CLOEXEC, as "0 1 2 ...". */
static void inheritable_fds(char *buf, size_t len, int replace_with_1)
{
	char all[4096], *save = NULL;
	size_t off = 0;

	(void)replace_with_1;
	ts_fd_list(all, sizeof(all));
	buf[0] = '\0';
	for (char *tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		int fd = atoi(tok), fl = fcntl(fd, F_GETFD);
		if (fd == 1 || (fl >= 0 && !(fl & FD_CLOEXEC)))
			off += (size_t)snprintf(buf + off, len - off, off ? " %d" : "%d", fd);
	}
}

static void fds_of_child(struct tether_file_actions *fa, char *out, size_t len)
{
	struct tether_exit_info info;
	int r = ts_run_capture(fa, NULL, out, len, &info, "fds", NULL);

	T_ASSERT(r == 0, "spawn fds: %s", strerror(-r));
	T_ASSERT(info.exited && info.exit_code == 0, "fds child failed");
	out[strcspn(out, "\n")] = '\0';
}

static bool has_fd(const char *list, int fd)
{
	char want[16];
	const char *p = list;
	size_t n = (size_t)snprintf(want, sizeof(want), "%d", fd);

	while ((p = strstr(p, want))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/* Actions that capture the child's stdout first (see ts_run_capture()). */
static struct tether_file_actions *fa_new(void)
{
	return ts_capture_actions();
}

int main(int argc, char **argv)
{
	struct tether_file_actions *fa;
	struct tether_exit_info info;
	char out[4096], expect[4096], path[512], real[4096];
	const char *dir;
	int a, b, cx, r;

	ts_child_dispatch(argc, argv);
	dir = ts_tmpdir();
	T_ASSERT(realpath(dir, real), "realpath");

	/* Only what is passed: a live child of each kind exists meanwhile, so the library has
	 * pidfds (and in emulation handles, a reaper, a monitor's image pipe) open. */
	{
		struct tether_child *live[2] = { NULL, NULL };
		struct tether_spawn_attr *attr;
		uint64_t kinds[2] = { 0, CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL };

		for (int i = 0; i < 2; i++) {
			if (kinds[i] && t_native_without(kinds[i]))
				continue;
			attr = ts_attr_flags(kinds[i]);
			T_ASSERT(ts_spawn_self(&live[i], NULL, attr, "sleep", NULL) == 0, "live child");
			tether_spawn_attr_destroy(attr);
		}
		inheritable_fds(expect, sizeof(expect), 1);
		fds_of_child(NULL, out, sizeof(out));
		T_ASSERT(strcmp(out, expect) == 0, "child has fds '%s', expected the inheritable '%s'", out, expect);
		for (int i = 0; i < 2; i++)
			if (live[i]) {
				tether_child_kill(live[i], SIGKILL);
				ts_wait(live[i], "live");
				tether_child_release(live[i]);
			}
		t_info("no action: the child has exactly the caller's inheritable fds (%s)", out);
	}

	/* The caller's inheritable descriptors are inherited (as posix_spawn), CLOEXEC ones not. */
	a = open("/dev/null", O_RDONLY);          /* inheritable */
	b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	T_ASSERT(a >= 3 && b >= 3, "open");
	fds_of_child(NULL, out, sizeof(out));
	T_ASSERT(has_fd(out, a) && !has_fd(out, b), "inheritable %d / cloexec %d: child has '%s'", a, b, out);
	/* dup2(fd, fd) passes a close-on-exec one on; close() keeps an inheritable one back;
	 * closing a descriptor that is not open is no error. */
	fa = fa_new();
	T_ASSERT(tether_file_actions_add_dup2(fa, b, b) == 0 && tether_file_actions_add_close(fa, a) == 0 &&
		 tether_file_actions_add_close(fa, 900) == 0, "add");
	fds_of_child(fa, out, sizeof(out));
	tether_file_actions_destroy(fa);
	T_ASSERT(!has_fd(out, a) && has_fd(out, b), "dup2(%d,%d) + close(%d): child has '%s'", b, b, a, out);
	t_info("inheritable fds inherited, CLOEXEC not; dup2(fd, fd) and close act");

	/* dup2 onto another number */
	fa = fa_new();
	T_ASSERT(tether_file_actions_add_dup2(fa, b, 42) == 0, "add_dup2");
	fds_of_child(fa, out, sizeof(out));
	tether_file_actions_destroy(fa);
	T_ASSERT(has_fd(out, 42) && !has_fd(out, b), "dup2(%d, 42): child has '%s'", b, out);

	/* close_range */
	cx = open("/dev/null", O_RDONLY);
	T_ASSERT(cx > a, "open");
	fa = fa_new();
	T_ASSERT(tether_file_actions_add_close_range(fa, (unsigned)a, (unsigned)cx) == 0, "add_close_range");
	T_ASSERT(tether_file_actions_add_close_range(fa, 5, 4) == -EINVAL, "first > last");
	fds_of_child(fa, out, sizeof(out));
	tether_file_actions_destroy(fa);
	T_ASSERT(!has_fd(out, a) && !has_fd(out, cx) && has_fd(out, 0) && has_fd(out, 1) && has_fd(out, 2),
		 "close_range(%d, %d): child has '%s'", a, cx, out);
	t_info("close_range closes exactly its range");

	/* close_all_but: keeps stdio and the listed (and passes a CLOEXEC one with dup2(fd, fd)) */
	{
		int keep[] = { cx, b, 1, cx };
		fa = fa_new();
		T_ASSERT(tether_file_actions_add_dup2(fa, b, b) == 0, "add_dup2");
		T_ASSERT(tether_file_actions_add_dup2(fa, a, 77) == 0, "add_dup2"); /* closed again below */
		T_ASSERT(tether_file_actions_add_close_all_but(fa, keep, TS_N(keep)) == 0, "add_close_all_but");
		fds_of_child(fa, out, sizeof(out));
		tether_file_actions_destroy(fa);
		snprintf(expect, sizeof(expect), "0 1 2 %d %d", b < cx ? b : cx, b < cx ? cx : b);
		T_ASSERT(strcmp(out, expect) == 0, "close_all_but: child has '%s', expected '%s'", out, expect);
		fa = fa_new();
		T_ASSERT(tether_file_actions_add_close_all_but(fa, NULL, 0) == 0, "add_close_all_but(none)");
		T_ASSERT(tether_file_actions_add_close_all_but(fa, (int[]){ -1 }, 1) == -EBADF, "negative fd");
		fds_of_child(fa, out, sizeof(out));
		tether_file_actions_destroy(fa);
		T_ASSERT(strcmp(out, "0 1 2") == 0, "close_all_but(none): child has '%s'", out);
		t_info("close_all_but keeps 0-2 and the listed ones only");
	}
	close(a);
	close(b);
	close(cx);

	/* open: the child's stdout to a new file, mode from the action and the umask */
	snprintf(path, sizeof(path), "%s/opened", dir);
	T_ASSERT(tether_file_actions_init(&fa) == 0, "init");
	T_ASSERT(tether_file_actions_add_open(fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0640) == 0, "add_open");
	{
		struct tether_child *c;
		mode_t old = umask(022);
		r = ts_spawn_self(&c, fa, NULL, "argv", "line one", NULL);
		umask(old);
		T_ASSERT(r == 0, "spawn with open: %s", strerror(-r));
		info = ts_wait(c, "open");
		tether_child_release(c);
	}
	tether_file_actions_destroy(fa);
	{
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		T_ASSERT(fd >= 0 && fstat(fd, &st) == 0, "opened file missing");
		T_ASSERT((st.st_mode & 0777) == 0640, "mode %o, expected 640", st.st_mode & 0777);
		ts_read_all(fd, out, sizeof(out));
		close(fd);
		T_ASSERT(strncmp(out, "line one\n", 9) == 0, "file holds '%s'", out);
	}
	t_info("open as fd 1: the file got the output, mode 0640");

	/* chdir, then fchdir, in order; a relative program path after chdir */
	fa = fa_new();
	T_ASSERT(tether_file_actions_add_chdir(fa, "/") == 0 && tether_file_actions_add_chdir(fa, dir) == 0,
		 "add_chdir");
	T_ASSERT(ts_run_capture(fa, NULL, out, sizeof(out), &info, "report", NULL) == 0, "spawn report");
	tether_file_actions_destroy(fa);
	T_ASSERT(strcmp(ts_report_value(out, "cwd"), real) == 0, "chdir: cwd %s, expected %s",
		 ts_report_value(out, "cwd"), real);
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		T_ASSERT(dfd >= 0, "open dir");
		fa = fa_new();
		T_ASSERT(tether_file_actions_add_chdir(fa, "/") == 0 && tether_file_actions_add_fchdir(fa, dfd) == 0,
			 "add_fchdir");
		T_ASSERT(ts_run_capture(fa, NULL, out, sizeof(out), &info, "report", NULL) == 0, "spawn report");
		tether_file_actions_destroy(fa);
		close(dfd);
		T_ASSERT(strcmp(ts_report_value(out, "cwd"), real) == 0, "fchdir: cwd %s", ts_report_value(out, "cwd"));
	}
	{
		struct tether_child *c;
		char *v[] = { (char *)"./self", (char *)"child", (char *)"exit", (char *)"4", NULL };
		snprintf(path, sizeof(path), "%s/self", dir);
		T_ASSERT(symlink("/proc/self/exe", path) == 0, "symlink");
		T_ASSERT(tether_file_actions_init(&fa) == 0, "init");
		T_ASSERT(tether_file_actions_add_chdir(fa, dir) == 0, "add_chdir");
		r = tether_spawn(&c, "./self", fa, NULL, v, NULL);
		tether_file_actions_destroy(fa);
		T_ASSERT(r == 0, "relative program after chdir: %s", strerror(-r));
		info = ts_wait(c, "./self");
		T_ASSERT(info.exited && info.exit_code == 4, "./self: status %#x", info.status);
		tether_child_release(c);
	}
	t_info("chdir and fchdir apply in order; the program path is relative to the new directory");

	/* argument checks */
	T_ASSERT(tether_file_actions_init(&fa) == 0, "init");
	T_ASSERT(tether_file_actions_add_dup2(fa, -1, 3) == -EBADF, "dup2(-1)");
	T_ASSERT(tether_file_actions_add_close(fa, -1) == -EBADF, "close(-1)");
	T_ASSERT(tether_file_actions_add_open(fa, 3, NULL, O_RDONLY, 0) == -EINVAL, "open(NULL)");
	T_ASSERT(tether_file_actions_add_chdir(fa, NULL) == -EINVAL, "chdir(NULL)");
	T_ASSERT(tether_file_actions_add_fchdir(fa, -1) == -EBADF, "fchdir(-1)");
	T_ASSERT(tether_file_actions_init(NULL) == -EINVAL, "init(NULL)");
	tether_file_actions_destroy(fa);
	tether_file_actions_destroy(NULL);
	ts_assert_no_children("end");
	t_pass("every file action works, in order; only the fds asked for reach the program");
}

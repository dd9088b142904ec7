/* SPDX-License-Identifier: MIT */
/*
 * Security: nothing of the library's reaches a program its children run.
 * With live autoreap, NNP and autokill children (spawned and fork-like),
 * every descriptor the library holds (pidfds, the reaper's epoll and
 * eventfd, autokill handles, the monitors' image pipe) is close-on-exec, and a
 * child that execs, spawned or made by tether_clone3(), has only what the
 * caller itself made inheritable.
 */
#include "spawn_common.h"

/* The descriptors of this process without FD_CLOEXEC, as "0 1 2 ...". */
static void inheritable_fds(char *buf, size_t len)
{
	char all[4096], *save = NULL;
	size_t off = 0;

	ts_fd_list(all, sizeof(all));
	buf[0] = '\0';
	for (char *tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		int fd = atoi(tok), fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			off += (size_t)snprintf(buf + off, len - off, off ? " %d" : "%d", fd);
	}
}

/* Every fd of the child's list is one the caller made inheritable (or stdio). */
static void assert_only_inheritable(const char *child, const char *inheritable, const char *what)
{
	char copy[4096], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", child);
	for (char *tok = strtok_r(copy, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		char want[16];
		int fd = atoi(tok);
		snprintf(want, sizeof(want), " %d ", fd);
		char padded[4200];
		snprintf(padded, sizeof(padded), " %s ", inheritable);
		T_ASSERT(fd <= 2 || strstr(padded, want), "%s: the child has fd %d (its fds: %s; inheritable: %s)",
			 what, fd, child, inheritable);
	}
}

int main(int argc, char **argv)
{
	const uint64_t lifecycle = CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL;
	char before[4096], after[4096], out[4096];
	struct tether_child *sleepers[2];
	struct tether_spawn_attr *attr;
	struct tether_exit_info info;
	int pidfd = -1, pipefd[2], r;

	ts_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);
	inheritable_fds(before, sizeof(before));

	/* Live children of every kind: the library's state is all there. */
	attr = ts_attr_flags(lifecycle);
	for (size_t i = 0; i < TS_N(sleepers); i++)
		T_ASSERT(ts_spawn_self(&sleepers[i], NULL, attr, "sleep", NULL) == 0, "spawn a sleeper");
	pid_t paused = t_clone(T_AUTOKILL_FLAGS, 0, &pidfd);
	if (paused == 0)
		for (;;)
			pause();
	T_ASSERT(paused > 0, "tether_clone3: %s", strerror(errno));

	inheritable_fds(after, sizeof(after));
	T_ASSERT(strcmp(before, after) == 0, "the library made descriptors inheritable: before '%s', after '%s'",
		 before, after);
	t_info("every descriptor of the library's is close-on-exec (inheritable: '%s')", after);

	/* A spawned child with every lifecycle flag. */
	r = ts_run_capture(NULL, attr, out, sizeof(out), &info, "fds", NULL);
	T_ASSERT(r == 0 && info.exited && info.exit_code == 0, "spawn fds: %s", strerror(-r));
	assert_only_inheritable(out, after, "spawned child");
	t_info("a spawned child has: %s", strtok(out, "\n"));

	/* A fork-like child with every lifecycle flag, which execs. */
	T_ASSERT(pipe2(pipefd, O_CLOEXEC) == 0, "pipe2");
	int fd2 = -1;
	char **v = ts_argv("fds", NULL);
	pid_t pid = t_clone(T_AUTOKILL_FLAGS, 0, &fd2);
	if (pid == 0) {
		/* Only async-signal-safe calls: the library has a thread. */
		dup2(pipefd[1], 1);
		execve(TS_SELF, v, environ);
		_exit(127);
	}
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(pipefd[1]);
	ts_read_all(pipefd[0], out, sizeof(out));
	close(pipefd[0]);
	T_ASSERT(t_pidfd_wait_readable(fd2, 10000), "the fork-like child did not end");
	tether_pidfd_close(fd2);
	assert_only_inheritable(out, after, "fork-like child after exec");
	t_info("a fork-like child, after exec, has: %s", strtok(out, "\n"));

	for (size_t i = 0; i < TS_N(sleepers); i++)
		tether_child_release(sleepers[i]); /* autokill: they die */
	tether_pidfd_close(pidfd);
	tether_spawn_attr_destroy(attr);
	t_pass("the library's descriptors are close-on-exec; exec'd children hold none of them (%s backend)",
	       t_backend_word(lifecycle));
}

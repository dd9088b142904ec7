/* SPDX-License-Identifier: MIT */
/*
 * tether init as PID 1 of a new pid namespace with its own /proc (as
 * `unshare --pid --fork --mount-proc tether init` in a container): its
 * command's tree is held and killed, the rest of the tree goes when the
 * command exits, and tether exits with the command's status. Needs root.
 */
#include <sched.h>
#include <sys/mount.h>

#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	pid_t outer;
	int st, z;

	ttc_dispatch(argc, argv);
	tt_flagless_one_pass(); /* no --autokill, no --nnp */
	if (geteuid() != 0)
		t_skip("needs root for a pid namespace");
	outer = fork();
	T_ASSERT(outer >= 0, "fork");
	if (outer == 0) {
		pid_t init;
		if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
			_exit(errno == EPERM || errno == EINVAL ? 77 : 90);
		init = fork();
		if (init < 0)
			_exit(91);
		if (init == 0) {
			char *args[] = { (char *)TS_SELF, (char *)"cli", (char *)"init", (char *)"--",
					 (char *)TS_SELF, (char *)"child", (char *)"tree-exit-after",
					 (char *)tt_mark(), (char *)"5", NULL };
			if (getpid() != 1)
				_exit(92);
			/* A /proc of the namespace's own: the monitor walks its pids. */
			if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
			    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
				_exit(93);
			execv("/proc/self/exe", args);
			_exit(94);
		}
		if (waitpid(init, &st, 0) != init)
			_exit(95);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	T_ASSERT(waitpid(outer, &st, 0) == outer, "waitpid");
	T_ASSERT(WIFEXITED(st), "the namespace's parent died of signal %d", WTERMSIG(st));
	if (WEXITSTATUS(st) == 77)
		t_skip("no new pid namespace here");
	T_ASSERT(WEXITSTATUS(st) == 5, "tether init as PID 1 exited %d, expected the command's 5 (9x: set-up)",
		 WEXITSTATUS(st));
	T_ASSERT(tt_count_marked(tt_mark(), &z) == 0, "%d members (%d zombies) left", tt_count_marked(tt_mark(), &z),
		 z);
	t_pass("tether init as PID 1 of a pid namespace exits with its command's status");
}

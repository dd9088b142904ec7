/* SPDX-License-Identifier: MIT */
/*
 * B11: no_new_privs makes setuid bits ineffective at execve(): an
 * unprivileged CLONE_NNP child that execs a setuid-root copy of this program
 * keeps its uid; without CLONE_NNP (the control) the same exec gains euid 0.
 */
#include "harness.h"

#define EUID_ROOT 10
#define EUID_OTHER 11

static char helper[256];

/* Exec the setuid helper from a child created with flags; returns the helper's verdict. */
static int exec_helper(uint64_t flags)
{
	int status;
	pid_t pid = t_clone(flags, SIGCHLD, NULL);
	if (pid == 0) {
		char *argv[] = { helper, "--report-euid", NULL };
		execv(helper, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int unprivileged(void *arg)
{
	(void)arg;
	t_drop_privileges();
	int without = exec_helper(0);
	int with = exec_helper(CLONE_NNP);
	t_info("setuid exec without CLONE_NNP: %s", without == EUID_ROOT ? "euid 0" : "no gain");
	t_info("setuid exec with CLONE_NNP: %s", with == EUID_ROOT ? "euid 0" : with == EUID_OTHER ? "kept euid 65534" : "failed");
	if (without != EUID_ROOT)
		return 2; /* the control did not gain: the setup is wrong */
	return with == EUID_OTHER ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--report-euid") == 0)
		return geteuid() == 0 ? EUID_ROOT : EUID_OTHER;
	t_require_flags(CLONE_NNP);
	if (geteuid() != 0)
		t_skip("needs root to create a setuid-root helper");
	snprintf(helper, sizeof(helper), "%s", t_setid_copy_of_self("setuid-helper", 0, 0, 04755));
	int status = t_in_subprocess(unprivileged, NULL);
	T_ASSERT(WIFEXITED(status), "unprivileged half died");
	T_ASSERT(WEXITSTATUS(status) != 2, "control: the setuid helper did not gain euid 0 without NNP");
	T_ASSERT(WEXITSTATUS(status) == 0, "with CLONE_NNP the setuid exec still gained euid 0");
	t_pass("CLONE_NNP child kept its uid across a setuid-root exec; control gained root (%s backend)",
	       t_backend_word(CLONE_NNP));
}

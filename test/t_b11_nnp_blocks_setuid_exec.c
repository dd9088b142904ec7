/* SPDX-License-Identifier: MIT */
/*
 * B11: no_new_privs makes setuid bits ineffective at execve(): an
 * unprivileged CLONE_NNP child that execs a setuid-root copy of this program
 * keeps its uid; without CLONE_NNP (the control) the same exec gains euid 0.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "harness.h"

#define EUID_ROOT 10
#define EUID_OTHER 11

static char helper[256];

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), out;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	close(in);
	return close(out);
}

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
	char dir[] = "/tmp/tether-b11-XXXXXX";

	if (argc > 1 && strcmp(argv[1], "--report-euid") == 0)
		return geteuid() == 0 ? EUID_ROOT : EUID_OTHER;
	t_require_flags(CLONE_NNP);
	if (geteuid() != 0)
		t_skip("needs root to create a setuid-root helper");
	/* A private tmpfs that allows setuid, whatever /tmp is mounted with. */
	T_ASSERT(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS): %s", strerror(errno));
	T_ASSERT(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make mounts private");
	T_ASSERT(mkdtemp(dir), "mkdtemp");
	T_ASSERT(mount("tether-b11", dir, "tmpfs", 0, "mode=0755") == 0, "mount tmpfs: %s", strerror(errno));
	snprintf(helper, sizeof(helper), "%s/setuid-helper", dir);
	T_ASSERT(copy_file("/proc/self/exe", helper) == 0, "copy helper: %s", strerror(errno));
	T_ASSERT(chown(helper, 0, 0) == 0 && chmod(helper, 04755) == 0, "chmod 4755");
	int status = t_in_subprocess(unprivileged, NULL);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	T_ASSERT(WIFEXITED(status), "unprivileged half died");
	T_ASSERT(WEXITSTATUS(status) != 2, "control: the setuid helper did not gain euid 0 without NNP");
	T_ASSERT(WEXITSTATUS(status) == 0, "with CLONE_NNP the setuid exec still gained euid 0");
	t_pass("CLONE_NNP child kept its uid across a setuid-root exec; control gained root (%s backend)",
	       t_backend_word(CLONE_NNP));
}

/* SPDX-License-Identifier: MIT */
/*
 * B15: unlike PR_SET_PDEATHSIG, autokill is not disarmed by execve(), by a
 * setuid exec or a credential change, and it follows the handle, not the
 * thread that created the child.
 */
#include <pthread.h>

#include "harness.h"

static int check_after(const char *what, int pidfd, int watch)
{
	T_ASSERT(t_stays_alive(watch, 50), "%s: child died early", what);
	tether_pidfd_close(pidfd);
	T_ASSERT(t_dies(watch, 10000), "%s: autokill no longer fired", what);
	close(watch);
	t_info("%s: still killed on the last close", what);
	return 0;
}

static void exec_case(void)
{
	int pidfd = -1, ready[2], watch;
	char c;
	T_ASSERT(pipe(ready) == 0, "pipe");
	pid_t pid = t_clone(T_AUTOKILL_FLAGS, 0, &pidfd);
	if (pid == 0) {
		char fd[16];
		snprintf(fd, sizeof(fd), "%d", ready[1]);
		char *argv[] = { "t_b15", "--exec-sleeper", fd, NULL };
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(ready[1]);
	watch = t_pidfd_open(pid);
	T_ASSERT(read(ready[0], &c, 1) == 1, "exec'd child did not start");
	close(ready[0]);
	check_after("after execve()", pidfd, watch);
}

/*
 * A set-id exec: as root without CLONE_NNP (allowed with CAP_SYS_ADMIN), the
 * child execs a setgid copy of this program, so the exec changes its
 * credentials (AT_SECURE): exactly what clears PR_SET_PDEATHSIG.
 */
static void setid_exec_case(void)
{
	int pidfd = -1, ready[2], watch;
	char c;
	if (geteuid() != 0) {
		t_info("set-id exec: skipped (needs root)");
		return;
	}
	const char *copy = t_setid_copy_of_self("setgid-sleeper", 0, 65534, 02755);
	T_ASSERT(pipe(ready) == 0, "pipe");
	pid_t pid = t_clone(T_AUTOKILL_FLAGS & ~CLONE_NNP, 0, &pidfd);
	if (pid == 0) {
		char fd[16];
		snprintf(fd, sizeof(fd), "%d", ready[1]);
		char *argv[] = { (char *)copy, "--exec-sleeper", fd, NULL };
		execv(copy, argv);
		_exit(127);
	}
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(ready[1]);
	watch = t_pidfd_open(pid);
	T_ASSERT(read(ready[0], &c, 1) == 1, "set-id exec'd child did not start");
	close(ready[0]);
	T_ASSERT(t_status_field(pid, "Gid") == 0, "unexpected real gid");
	char buf[256];
	snprintf(buf, sizeof(buf), "/proc/%d/status", pid);
	FILE *f = fopen(buf, "r");
	int rgid = -1, egid = -1;
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "Gid: %d %d", &rgid, &egid) == 2)
			break;
	if (f)
		fclose(f);
	T_ASSERT(egid == 65534, "the exec did not change the effective gid (%d)", egid);
	check_after("after a setgid exec", pidfd, watch);
}

static void creds_case(void)
{
	int pidfd = -1, ready[2], watch;
	char c;
	if (geteuid() != 0) {
		t_info("credential change: skipped (needs root)");
		return;
	}
	T_ASSERT(pipe(ready) == 0, "pipe");
	/* Without CLONE_NNP (root has CAP_SYS_ADMIN): a credential change would clear pdeathsig. */
	pid_t pid = t_clone(T_AUTOKILL_FLAGS & ~CLONE_NNP, 0, &pidfd);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(1);
		(void)!write(ready[1], "u", 1);
		for (;;)
			pause();
	}
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(ready[1]);
	watch = t_pidfd_open(pid);
	T_ASSERT(read(ready[0], &c, 1) == 1, "child could not change its uid");
	close(ready[0]);
	T_ASSERT(t_status_field(pid, "Uid") == 65534, "uid did not change");
	check_after("after setresuid(65534)", pidfd, watch);
}

static void *creator_thread(void *arg)
{
	int *out = arg, watch;
	t_autokill_sleeper(0, &out[0], &watch);
	out[1] = watch;
	return NULL; /* the creating thread ends; the handle stays with the process */
}

static void thread_case(void)
{
	int fds[2];
	pthread_t t;
	T_ASSERT(pthread_create(&t, NULL, creator_thread, fds) == 0, "pthread_create");
	T_ASSERT(pthread_join(t, NULL) == 0, "pthread_join");
	T_ASSERT(t_stays_alive(fds[1], T_SETTLE_MS), "child died with the thread that created it");
	t_info("creating thread exited: child lives");
	check_after("after its creating thread exited", fds[0], fds[1]);
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "--exec-sleeper") == 0) {
		(void)!write(atoi(argv[2]), "e", 1);
		for (;;)
			pause();
	}
	t_require_flags(T_AUTOKILL_FLAGS);
	exec_case();
	setid_exec_case();
	creds_case();
	thread_case();
	t_pass("autokill survives exec, credential change and thread exit (%s backend)",
	       t_backend_word(T_AUTOKILL_FLAGS));
}

/* SPDX-License-Identifier: MIT */
/*
 * Fail closed: a tree whose member the caller may not signal. An
 * unprivileged caller (uid 65534) spawns a subreaper tree whose root runs a
 * set-user-ID-root copy of this test and makes itself root in full
 * (setresuid(0, 0, 0)): kill(2) from the caller's monitor gets EPERM.
 * tether_child_kill_tree(SIGKILL) returns -EPERM after a few rounds of
 * refusals, never walks for ever; SIGTERM returns -EPERM at once. The member
 * lives on (nothing could kill it) and the test ends it as root.
 */
#include <sys/auxv.h>
#include <sys/statvfs.h>
#include <grp.h>

#include "tree_common.h"

#define NOBODY 65534

/* The set-user-ID copy of this test, run as the tree's root. */
static void suid_member(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "child") != 0 || strcmp(argv[2], "suid-member") != 0)
		return;
	prctl(PR_SET_NAME, argv[3], 0, 0, 0);
	if (setresuid(0, 0, 0) != 0)
		_exit(3);
	tt_say_pid();
	tt_sleep_forever();
}

/* Copy this test to dir/name, root's, mode 04755. */
static void suid_copy(const char *path)
{
	char buf[65536];
	ssize_t n;
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), out;

	T_ASSERT(in >= 0, "open /proc/self/exe: %s", strerror(errno));
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	T_ASSERT(out >= 0, "create %s: %s", path, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		T_ASSERT(write(out, buf, (size_t)n) == n, "write %s", path);
	close(in);
	T_ASSERT(fchown(out, 0, 0) == 0 && fchmod(out, 04755) == 0, "chmod 04755 %s: %s", path, strerror(errno));
	close(out);
}

/* As uid NOBODY: spawn the tree, try to kill it, report by exit status. */
static int unprivileged_caller(const char *copy, const char *mark)
{
	char *args[] = { (char *)copy, "child", "suid-member", (char *)mark, NULL };
	char *env[] = { NULL };
	struct tether_spawn_attr *a;
	struct tether_file_actions *fa;
	struct tether_child *c;
	pid_t member;
	int p[2], r;

	if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) != 0)
		return 10;
	if (pipe2(p, O_CLOEXEC) != 0 || tether_spawn_attr_init(&a) != 0 ||
	    tether_spawn_attr_set_tree(a, TETHER_TREE_SUBREAPER) != 0 || tether_file_actions_init(&fa) != 0 ||
	    tether_file_actions_add_dup2(fa, p[1], 1) != 0)
		return 11;
	r = tether_spawn(&c, copy, fa, a, args, env);
	if (r < 0)
		return 12;
	close(p[1]);
	if (tt_read_pids(p[0], &member, 1) != 1)
		return 13; /* the member did not start (no suid?) */
	if (t_status_field(member, "Uid") != 0)
		return 14;
	r = tether_child_kill_tree(c, SIGTERM);
	if (r != -EPERM)
		return 20;
	r = tether_child_kill_tree(c, SIGKILL);
	if (r != -EPERM)
		return 21;
	if (t_kill(member, 0) != -1 || errno != EPERM)
		return 22; /* it must still be there, and not ours to signal */
	/* Our handle goes; the member is the test's (root's) to end. */
	tether_child_release(c);
	return 0;
}

int main(int argc, char **argv)
{
	enum tether_tree mech[2];
	char dir[] = "/tmp/tether-suid-XXXXXX", copy[64];
	struct statvfs sv;
	pid_t caller;
	int st;

	suid_member(argc, argv);
	tt_start(argc, argv, mech, 0);
	if (geteuid() != 0)
		t_skip("needs root to make a set-user-ID-root member");
	/* A set-user-ID copy runs in secure-execution mode: a dynamically
	 * linked one (the ASan and valgrind builds) would not find libtether
	 * through its $ORIGIN run path. */
	if (getauxval(AT_BASE) != 0)
		t_skip("a dynamically linked test: its set-user-ID copy cannot load libtether");
	T_ASSERT(mkdtemp(dir) != NULL && chmod(dir, 0755) == 0, "mkdtemp: %s", strerror(errno));
	snprintf(copy, sizeof(copy), "%s/t", dir);
	if (statvfs(dir, &sv) == 0 && (sv.f_flag & ST_NOSUID)) {
		rmdir(dir);
		t_skip("%s is mounted nosuid", dir);
	}
	suid_copy(copy);

	caller = fork();
	T_ASSERT(caller >= 0, "fork");
	if (caller == 0) {
		alarm(60); /* a kill that walks for ever ends here, as a failure */
		_exit(unprivileged_caller(copy, tt_mark()));
	}
	T_ASSERT(waitpid(caller, &st, 0) == caller, "waitpid");
	tt_kill_marked(tt_mark()); /* as root, by pid: what nobody could kill */
	unlink(copy);
	rmdir(dir);
	T_ASSERT(!WIFSIGNALED(st), "the unprivileged caller died of signal %d (14: SIGALRM, the kill walked on)",
		 WTERMSIG(st));
	T_ASSERT(WEXITSTATUS(st) != 13, "the set-user-ID member did not start");
	T_ASSERT(WEXITSTATUS(st) == 0, "step %d failed (20: SIGTERM, 21: SIGKILL not -EPERM; 22: member gone)",
		 WEXITSTATUS(st));
	tt_assert_none_left(tt_mark(), "the test's own kill");
	t_pass("a member the caller may not signal: kill_tree returns -EPERM, it does not walk for ever");
}

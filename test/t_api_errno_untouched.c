/* SPDX-License-Identifier: MIT */
/*
 * No public call but tether_clone3() changes errno (include/tether.h,
 * "Conventions"): each one is called here, on success and on failure paths,
 * with errno set to a value no call would set, and errno must still hold it.
 * tether_child_kill() is documented async-signal-safe: its -ESRCH for an
 * ended child must not leave ESRCH in errno for the interrupted code.
 */
#include <sys/stat.h>

#include "harness.h"

#define MAGIC 4242

static int checked;

#define CHECK(expr)                                                                                  \
	do {                                                                                         \
		errno = MAGIC;                                                                       \
		(void)(expr);                                                                        \
		if (errno != MAGIC)                                                                  \
			t_fail("%s changed errno to %d (%s)", #expr, errno, strerror(errno));        \
		checked++;                                                                           \
	} while (0)

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--sleep") == 0) {
		sleep(60);
		return 0;
	}

	struct tether_spawn_attr *attr = NULL;
	struct tether_file_actions *fa = NULL;
	struct tether_child *child = NULL;
	struct tether_exit_info ei;
	struct tether_pidfd_info pi = { 0 };
	enum tether_spawn_stage stage;
	char *argv_true[] = { "t", "--exit", "0", NULL }, *argv_none[] = { "/nonexistent/x", NULL };
	sigset_t set;
	int keep[] = { 1 };
	uint64_t flags = CLONE_AUTOREAP;

	CHECK(tether_version());
	CHECK(tether_features());
	CHECK(tether_feature_name(TETHER_FEATURE_CLONE3));
	CHECK(tether_feature_name(1u << 30));
	CHECK(tether_get_backend());
	CHECK(tether_set_backend((enum tether_backend)99));
	CHECK(tether_set_backend(tether_get_backend()));
	CHECK(tether_backend_for(CLONE_AUTOREAP));
	CHECK(tether_backend_name(TETHER_BACKEND_EMULATE));
	CHECK(tether_backend_name((enum tether_backend)99));

	CHECK(tether_pidfd_get_info(-1, &pi, sizeof(pi)));
	CHECK(tether_pidfd_get_info(1, &pi, sizeof(pi)));
	CHECK(tether_pidfd_get_info(1, NULL, sizeof(pi)));
	CHECK(tether_autokill_fd(-1));
	CHECK(tether_autokill_fd(1));
	CHECK(tether_autokill_fd(999999));
	CHECK(tether_pidfd_close(-1));
	CHECK(tether_pidfd_close(999999));

	/* A tether_clone3() child, through every call that takes its pidfd. */
	if (tether_backend_for(T_AUTOKILL_FLAGS) == TETHER_BACKEND_EMULATE ||
	    (tether_features() & TETHER_FEATURE_AUTOKILL)) {
		int pidfd = -1;
		pid_t pid = t_clone(T_AUTOKILL_FLAGS, 0, &pidfd);
		if (pid == 0)
			_exit(3);
		T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
		CHECK(tether_autokill_fd(pidfd));
		t_pidfd_wait_readable(pidfd, 10000);
		memset(&pi, 0, sizeof(pi));
		pi.mask = TETHER_PIDFD_INFO_EXIT;
		CHECK(tether_pidfd_get_info(pidfd, &pi, sizeof(pi)));
		CHECK(tether_pidfd_get_info(pidfd, &pi, 7));
		CHECK(tether_pidfd_close(pidfd));
		CHECK(tether_pidfd_close(pidfd)); /* closed: -EBADF */
	}

	CHECK(tether_spawn_attr_init(NULL));
	CHECK(tether_spawn_attr_init(&attr));
	if (t_native_without(flags))
		flags = 0;
	CHECK(tether_spawn_attr_set_flags(attr, 1ULL << 60));
	CHECK(tether_spawn_attr_set_flags(attr, flags));
	CHECK(tether_spawn_attr_set_setsid(attr, false));
	CHECK(tether_spawn_attr_set_pgroup(attr, -5));
	CHECK(tether_spawn_attr_set_pgroup(attr, -1));
	sigemptyset(&set);
	CHECK(tether_spawn_attr_set_sigmask(attr, &set));
	CHECK(tether_spawn_attr_set_sigdefault(attr, &set));
	CHECK(tether_spawn_attr_set_cgroup(attr, -1));
	CHECK(tether_spawn_attr_set_foreground(attr, -2));
	CHECK(tether_spawn_attr_set_foreground(attr, -1));
	CHECK(tether_spawn_attr_set_umask(attr, 07777));
	CHECK(tether_spawn_attr_set_umask(attr, 022));

	CHECK(tether_file_actions_init(NULL));
	CHECK(tether_file_actions_init(&fa));
	CHECK(tether_file_actions_add_dup2(fa, -1, 3));
	CHECK(tether_file_actions_add_dup2(fa, 1, 1));
	CHECK(tether_file_actions_add_close(fa, 99));
	CHECK(tether_file_actions_add_open(fa, 98, "/dev/null", O_RDONLY, 0));
	CHECK(tether_file_actions_add_chdir(fa, "/"));
	CHECK(tether_file_actions_add_fchdir(fa, -1));
	CHECK(tether_file_actions_add_close_range(fa, 10, 5));
	CHECK(tether_file_actions_add_close_range(fa, 200, ~0U));
	CHECK(tether_file_actions_add_close_all_but(fa, keep, 1));

	/* Both fail with ENOENT; where the exec error cannot come back (under
	 * valgrind the vfork-style child is a copy) they succeed: release. */
	child = NULL;
	CHECK(tether_spawnx(&child, "/nonexistent/x", 0, NULL, NULL, argv_none, NULL, &stage));
	if (child)
		tether_child_release(child);
	child = NULL;
	CHECK(tether_spawnp(&child, "tether-no-such-program", NULL, NULL, argv_none, NULL));
	if (child)
		tether_child_release(child);
	child = NULL;
	CHECK(tether_spawn(&child, "/proc/self/exe", fa, attr, argv_true, NULL));
	T_ASSERT(child != NULL, "tether_spawn(self) failed");
	CHECK(tether_child_pidfd(child));
	CHECK(tether_child_pid(child));
	CHECK(tether_child_backend(child));
	CHECK(tether_child_autokill_fd(child));
	CHECK(tether_child_wait(child, -1, &ei));
	CHECK(tether_child_wait(child, 0, NULL));
	CHECK(tether_child_kill(child, SIGTERM)); /* ended: -ESRCH, errno untouched */
	errno = MAGIC;
	tether_child_release(child);
	T_ASSERT(errno == MAGIC, "tether_child_release changed errno to %d", errno);
	CHECK(tether_child_pidfd(NULL));
	CHECK(tether_child_pid(NULL));
	CHECK(tether_child_backend(NULL));
	CHECK(tether_child_autokill_fd(NULL));
	CHECK(tether_child_wait(NULL, 0, NULL));
	CHECK(tether_child_kill(NULL, 0));
	errno = MAGIC; tether_child_release(NULL); T_ASSERT(errno == MAGIC, "release(NULL)");

	errno = MAGIC; tether_file_actions_destroy(fa); T_ASSERT(errno == MAGIC, "destroy");

	errno = MAGIC; tether_spawn_attr_destroy(attr); T_ASSERT(errno == MAGIC, "attr destroy");

	t_pass("%d public calls left errno as it was (%s backend)", checked, t_backend_word(CLONE_AUTOREAP));
}

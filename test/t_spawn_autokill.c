/* SPDX-License-Identifier: MIT */
/*
 * CLONE_PIDFD_AUTOKILL through tether_spawn(): releasing the handle kills
 * the child; a shared autokill file keeps it alive until its last close;
 * the death of the process holding the handle kills it; the kernel's rules
 * (R5, R6) hold for spawn too.
 */
#include "spawn_common.h"

#define AK (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

static int pid_pipe[2];

static struct tether_child *sleeper(uint64_t flags, int *watch)
{
	struct tether_spawn_attr *attr = ts_attr_flags(flags);
	struct tether_child *c;
	int r = ts_spawn_self(&c, NULL, attr, "sleep", NULL);

	T_ASSERT(r == 0, "spawn (flags %#llx): %s", (unsigned long long)flags, strerror(-r));
	tether_spawn_attr_destroy(attr);
	*watch = t_pidfd_open(tether_child_pid(c));
	T_ASSERT(*watch >= 0, "pidfd_open: %s", strerror(errno));
	return c;
}

/* In a subprocess: spawn an autokill child, report its pid, die by SIGKILL. */
static int creator(void *arg)
{
	int watch;
	struct tether_child *c = sleeper(AK, &watch);
	pid_t pid = tether_child_pid(c);

	(void)arg;
	(void)!write(pid_pipe[1], &pid, sizeof(pid));
	raise(SIGKILL);
	return 0;
}

static int unprivileged(void *arg)
{
	struct tether_spawn_attr *attr = ts_attr_flags(CLONE_AUTOREAP | CLONE_PIDFD_AUTOKILL);
	struct tether_child *c;
	int r;

	(void)arg;
	t_drop_privileges();
	r = ts_spawn_self(&c, NULL, attr, "exit", "0", NULL);
	return r == -EPERM ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	int watch, r, akfd, dup_fd;
	pid_t pid;

	ts_child_dispatch(argc, argv);
	t_require_flags(T_AUTOKILL_FLAGS);

	/* release kills */
	c = sleeper(AK, &watch);
	T_ASSERT(tether_child_backend(c) == tether_backend_for(AK), "backend");
	T_ASSERT(t_stays_alive(watch, 50), "child died before the release");
	tether_child_release(c);
	T_ASSERT(t_dies(watch, 10000), "child survived the release of its handle");
	close(watch);
	t_info("release of the handle: child killed");

	/* a dup of the autokill file keeps it alive until its last close */
	c = sleeper(AK, &watch);
	akfd = tether_child_autokill_fd(c);
	T_ASSERT(akfd >= 0, "tether_child_autokill_fd: %s", strerror(-akfd));
	dup_fd = fcntl(akfd, F_DUPFD_CLOEXEC, 3);
	T_ASSERT(dup_fd >= 0, "dup");
	tether_child_release(c);
	T_ASSERT(t_stays_alive(watch, T_SETTLE_MS), "child died while a dup of its autokill file was open");
	close(dup_fd);
	T_ASSERT(t_dies(watch, 10000), "child survived the last close of its autokill file");
	close(watch);
	t_info("dup of the autokill file: alive until its last close");

	/* the holder's death kills */
	T_ASSERT(pipe2(pid_pipe, O_CLOEXEC) == 0, "pipe");
	t_in_subprocess(creator, NULL);
	close(pid_pipe[1]);
	T_ASSERT(read(pid_pipe[0], &pid, sizeof(pid)) == sizeof(pid), "creator did not report");
	close(pid_pipe[0]);
	watch = t_pidfd_open(pid);
	T_ASSERT(watch >= 0 || errno == ESRCH, "pidfd_open");
	if (watch >= 0) {
		T_ASSERT(t_dies(watch, 10000), "child %d survived its creator's SIGKILL", pid);
		close(watch);
	}
	t_info("SIGKILL of the handle's holder: child killed");

	/* no autokill file without autokill */
	attr = ts_attr_flags(CLONE_AUTOREAP);
	T_ASSERT(ts_spawn_self(&c, NULL, attr, "exit", "0", NULL) == 0, "spawn autoreap");
	T_ASSERT(tether_child_autokill_fd(c) == -ENOENT, "autokill fd of a child without autokill");
	ts_wait(c, "autoreap");
	tether_child_release(c);
	tether_spawn_attr_destroy(attr);

	/* R5: autokill needs autoreap */
	attr = ts_attr_flags(CLONE_NNP | CLONE_PIDFD_AUTOKILL);
	r = ts_spawn_self(&c, NULL, attr, "exit", "0", NULL);
	T_ASSERT(r == -EINVAL, "autokill without autoreap: %s, expected EINVAL", strerror(-r));
	tether_spawn_attr_destroy(attr);
	/* R6: without NNP, unprivileged */
	r = t_in_subprocess(unprivileged, NULL);
	T_ASSERT(WIFEXITED(r) && WEXITSTATUS(r) == 0, "unprivileged autokill without NNP: not EPERM");
	t_info("R5 (EINVAL) and R6 (EPERM) apply to spawn");
	/* attribute validation */
	T_ASSERT(tether_spawn_attr_init(&attr) == 0, "attr");
	T_ASSERT(tether_spawn_attr_set_flags(attr, CLONE_VM) == -EINVAL, "set_flags(CLONE_VM)");
	T_ASSERT(tether_spawn_attr_set_flags(attr, AK | CLONE_PIDFD) == 0, "set_flags with CLONE_PIDFD");
	tether_spawn_attr_destroy(attr);

	ts_assert_no_children("end");
	t_pass("spawned autokill children die with their handle (%s backend)", t_backend_word(AK));
}

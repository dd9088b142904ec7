/* SPDX-License-Identifier: MIT */
/*
 * The public structs grow the kernel's way (include/tether.h, "ABI rules"):
 *  - tether_pidfd_get_info() accepts a struct pidfd_info larger than the 88
 *    bytes it knows: zeros beyond are fine and stay zero, a nonzero byte
 *    beyond is -E2BIG (copy_struct_from_user()); below 64 is -EINVAL;
 *  - tether_child_wait_info() fills what both sides know and zeroes the
 *    rest of a larger struct tether_exit_info; smaller than the first
 *    version is -EINVAL; tether_child_wait() writes the first version only.
 */
#include "harness.h"

#define BIG 200

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--sleep") == 0) {
		sleep(60);
		return 0;
	}

	unsigned char buf[BIG];
	struct tether_pidfd_info *pi = (struct tether_pidfd_info *)buf;
	int pidfd = -1, r;
	uint64_t flags = CLONE_AUTOREAP | CLONE_PIDFD;

	if (t_native_without(flags))
		flags = CLONE_PIDFD;
	pid_t pid = t_clone(flags, flags & CLONE_AUTOREAP ? 0 : SIGCHLD, &pidfd);
	if (pid == 0)
		_exit(9);
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "the child did not exit");

	for (size_t size = 89; (tether_features() & TETHER_FEATURE_PIDFD_GET_INFO) && size <= BIG; size += 37) {
		memset(buf, 0, sizeof(buf));
		pi->mask = TETHER_PIDFD_INFO_PID;
		r = tether_pidfd_get_info(t_pidfd_open(getpid()), pi, size);
		T_ASSERT(r == 0, "size %zu: %d (%s)", size, r, strerror(-r));
		T_ASSERT(pi->mask & TETHER_PIDFD_INFO_PID, "size %zu: no PID in the mask", size);
		for (size_t i = sizeof(*pi); i < size; i++)
			T_ASSERT(buf[i] == 0, "size %zu: byte %zu is %#x, expected 0", size, i, buf[i]);
		memset(buf, 0, sizeof(buf));
		buf[size - 1] = 1;
		pi->mask = TETHER_PIDFD_INFO_PID;
		r = tether_pidfd_get_info(pidfd, pi, size);
		T_ASSERT(r == -E2BIG, "size %zu with a nonzero byte beyond 88: %d, expected -E2BIG", size, r);
	}
	t_info("pidfd_info sizes 89-200: zero tail accepted and kept zero; nonzero tail -E2BIG");

	if (!(flags & CLONE_AUTOREAP) || !(tether_features() & (TETHER_FEATURE_PIDFD_GET_INFO))) {
		waitpid(pid, NULL, 0);
	} else {
		memset(buf, 0, sizeof(buf));
		pi->mask = TETHER_PIDFD_INFO_EXIT;
		r = tether_pidfd_get_info(pidfd, pi, 128);
		T_ASSERT(r == 0 && (pi->mask & TETHER_PIDFD_INFO_EXIT) && WIFEXITED(pi->exit_code) &&
				 WEXITSTATUS(pi->exit_code) == 9,
			 "exit info through a 128-byte struct: r=%d mask=%#llx code=%#x", r,
			 (unsigned long long)pi->mask, pi->exit_code);
	}
	tether_pidfd_close(pidfd);

	/* struct tether_exit_info, larger and smaller than the library's. */
	struct tether_spawn_attr *attr;
	struct tether_child *child;
	char *args[] = { "t", "--exit", "4", NULL };
	struct tether_exit_info small;
	tether_spawn_attr_init(&attr);
	tether_spawn_attr_set_flags(attr, t_native_without(CLONE_AUTOREAP) ? 0 : CLONE_AUTOREAP);
	T_ASSERT(tether_spawn(&child, "/proc/self/exe", NULL, attr, args, NULL) == 0, "tether_spawn");
	tether_spawn_attr_destroy(attr);
	T_ASSERT(tether_child_wait_info(child, -1, &small, TETHER_EXIT_INFO_SIZE_VER0 - 4) == -EINVAL,
		 "a struct smaller than the first version was accepted");
	memset(buf, 0xab, sizeof(buf));
	r = tether_child_wait_info(child, -1, (struct tether_exit_info *)buf, BIG);
	T_ASSERT(r == 0, "tether_child_wait_info: %d", r);
	for (size_t i = sizeof(struct tether_exit_info); i < BIG; i++)
		T_ASSERT(buf[i] == 0, "byte %zu beyond the struct is %#x, expected 0", i, buf[i]);
	struct tether_exit_info *ei = (struct tether_exit_info *)buf;
	T_ASSERT(ei->exited && ei->exit_code == 4, "exit info: exited %d code %d", ei->exited, ei->exit_code);
	memset(buf, 0xab, sizeof(buf));
	r = tether_child_wait(child, 0, (struct tether_exit_info *)buf);
	T_ASSERT(r == 0 && ei->exit_code == 4, "tether_child_wait: %d", r);
	for (size_t i = TETHER_EXIT_INFO_SIZE_VER0; i < BIG; i++)
		T_ASSERT(buf[i] == 0xab, "tether_child_wait wrote byte %zu, beyond the first version", i);
	tether_child_release(child);
	t_pass("pidfd_info and exit info grow the kernel's way (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

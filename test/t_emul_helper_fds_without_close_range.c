/* SPDX-License-Identifier: MIT */
/*
 * A helper process of the emulation (a spawned autokill child's monitor)
 * keeps none of the caller's descriptors, also where close_range() fails (a
 * seccomp filter answers EPERM; kernels before 5.9 have none): it falls back
 * to closing one by one. Checked with the write end of a pipe: once the
 * caller closes its own, the read end must see end of file while the child
 * (which closed its copy by a file action) still runs.
 */
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "arch.h"
#include "harness.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static void close_range_eperm(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, T_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };

	T_ASSERT(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0, "seccomp: %s", strerror(errno));
}

static int run(void *arg)
{
	struct tether_spawn_attr *attr;
	struct tether_file_actions *fa;
	struct tether_child *child;
	char *args[] = { "t", "--sleep", NULL };
	int p[2], r;
	char c;

	(void)arg;
	close_range_eperm();
	T_ASSERT(syscall(SYS_close_range, 100, 200, 0) < 0 && errno == EPERM, "the filter does not work");
	T_ASSERT(pipe(p) == 0, "pipe"); /* inheritable, as a caller's own may be */
	tether_spawn_attr_init(&attr);
	tether_spawn_attr_set_flags(attr, T_AUTOKILL_FLAGS);
	tether_file_actions_init(&fa);
	tether_file_actions_add_close(fa, p[0]);
	tether_file_actions_add_close(fa, p[1]);
	r = tether_spawn(&child, "/proc/self/exe", fa, attr, args, NULL);
	T_ASSERT(r == 0, "tether_spawnp: %s", strerror(-r));
	close(p[1]);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	int n = poll(&pfd, 1, 10000);
	bool eof = n == 1 && read(p[0], &c, 1) == 0;
	bool alive = tether_child_wait(child, 0, NULL) == -ETIMEDOUT;
	tether_child_kill(child, SIGKILL);
	tether_child_wait(child, -1, NULL);
	tether_child_release(child);
	T_ASSERT(alive, "the child ended early");
	T_ASSERT(eof, "a helper process still holds the caller's pipe (no end of file in 10 s)");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--sleep") == 0) {
		sleep(60);
		return 0;
	}

	t_require_emulation(T_AUTOKILL_FLAGS);
	int st = t_in_subprocess(run, NULL);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	t_pass("close_range() refused: the emulation's helper still holds none of the caller's descriptors");
}

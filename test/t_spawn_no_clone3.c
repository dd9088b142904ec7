/* SPDX-License-Identifier: MIT */
/*
 * Where clone3() is refused (a seccomp filter returning ENOSYS, as container
 * runtimes install, or a kernel before 5.3), tether_spawn() uses clone()
 * for what clone() can express: children without flags and emulated ones
 * work, exec failures still come back; what needs clone3() (a native
 * lifecycle flag, CLONE_INTO_CGROUP) fails with ENOSYS.
 */
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "arch.h"
#include "spawn_common.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static void block_clone3(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, T_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = TS_N(f), .filter = f };

	T_ASSERT(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "PR_SET_NO_NEW_PRIVS");
	T_ASSERT(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0, "seccomp: %s", strerror(errno));
}

static int run(uint64_t flags, const char *mode, const char *arg, struct tether_exit_info *info)
{
	struct tether_spawn_attr *a = ts_attr_flags(flags);
	struct tether_child *c;
	int r = ts_spawn_self(&c, NULL, a, mode, arg, NULL);

	tether_spawn_attr_destroy(a);
	if (r == 0) {
		*info = ts_wait(c, mode);
		tether_child_release(c);
	}
	return r;
}

static int in_filtered_process(void *arg)
{
	struct tether_exit_info info;
	uint64_t flags = CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL;
	int r;

	(void)arg;
	block_clone3(); /* before the library's first call, which probes the kernel */
	T_ASSERT(!(tether_features() & TETHER_FEATURE_CLONE3), "clone3() still probed present");
	T_ASSERT(run(0, "exit", "7", &info) == 0 && info.exited && info.exit_code == 7, "no flags: not exit 7");
	r = run(0, "nonexistent-mode-exits-98", NULL, &info);
	T_ASSERT(r == 0 && info.exited && info.exit_code == 98, "no flags: helper");
	{
		struct tether_child *c;
		char *v[] = { (char *)"/nonexistent-dir/x", NULL };
		T_ASSERT(tether_spawn(&c, v[0], NULL, NULL, v, NULL) == -ENOENT, "exec failure through clone()");
		ts_assert_no_children("exec failure");
	}
	t_info("without clone3(): plain children through clone(), exec failures reported");

	if (t_emulated(flags)) {
		r = run(flags, "nnp", NULL, &info);
		T_ASSERT(r == 0, "emulated flags through clone(): %s", strerror(-r));
		T_ASSERT(info.exited && info.exit_code == 1, "emulated NNP child: status %#x", info.status);
		t_info("emulated autoreap|nnp|autokill through clone(): works");
	} else {
		r = run(flags, "exit", "0", &info);
		T_ASSERT(r == -ENOSYS, "native flags without clone3(): %s, expected ENOSYS", strerror(-r));
		t_info("native flags without clone3(): ENOSYS");
	}
	{
		struct tether_spawn_attr *a = ts_attr_flags(0);
		struct tether_child *c;
		T_ASSERT(tether_spawn_attr_set_cgroup(a, 0) == 0, "set_cgroup");
		r = ts_spawn_self(&c, NULL, a, "exit", "0", NULL);
		tether_spawn_attr_destroy(a);
		T_ASSERT(r == -ENOSYS, "CLONE_INTO_CGROUP without clone3(): %s, expected ENOSYS", strerror(-r));
	}
	ts_assert_no_children("end");
	return 0;
}

int main(int argc, char **argv)
{
	int status;

	if (argc > 2 && strcmp(argv[2], "nonexistent-mode-exits-98") == 0)
		_exit(98);
	ts_child_dispatch(argc, argv);
	status = t_in_subprocess(in_filtered_process, NULL);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "filtered subprocess failed (status %#x)", status);
	t_pass("spawning falls back to clone() where clone3() is refused");
}

/* SPDX-License-Identifier: MIT */
/*
 * An emulated tether_clone3() child that dies before it reports its set-up
 * must end the caller's wait at once, even while another process (here: a
 * fork() made by the caller's SIGCHLD handler in the moment after the clone)
 * holds a copy of the report pipe's write end. The wait must end with the
 * child's death, not with the pipe's end of file (which comes only when that
 * unrelated process exits).
 *
 * The child is made to die before its report by a seccomp filter that kills
 * the process calling prctl(PR_SET_NO_NEW_PRIVS): the emulated CLONE_NNP
 * child's first step.
 */
#include <stddef.h>
#include <sys/resource.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "arch.h"
#include "harness.h"

/* How long a holder keeps its copy of the pipe: far longer than a call may take. */
#define HOLD_S 15
/* A call that takes this long waited for a holder, not for the child. */
#define CALL_LIMIT_MS 10000
#define ITERATIONS 60
#define MAX_HOLDERS ITERATIONS

static pid_t holders[MAX_HOLDERS];
static volatile sig_atomic_t n_holders;

static void on_sigchld(int sig)
{
	(void)sig;
	if (n_holders >= MAX_HOLDERS)
		return;
	pid_t p = fork();
	if (p == 0) {
		struct timespec ts = { .tv_sec = HOLD_S };
		while (nanosleep(&ts, &ts) < 0)
			;
		_exit(0);
	}
	if (p > 0)
		holders[n_holders++] = p;
}

static void kill_on_nnp(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, T_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_NO_NEW_PRIVS, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };

	T_ASSERT(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0, "seccomp: %s", strerror(errno));
}

int main(void)
{
	struct rlimit no_core = { 0, 0 };
	long long worst = 0;

	t_require_emulation(CLONE_NNP);
	setrlimit(RLIMIT_CORE, &no_core); /* the killed children dump nothing */
	tether_features();                 /* probe before the filter */
	kill_on_nnp();
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
	sigaction(SIGCHLD, &sa, NULL);

	for (int i = 0; i < ITERATIONS; i++) {
		struct clone_args a = { .flags = CLONE_NNP, .exit_signal = SIGCHLD };
		long long t0 = t_now_ms();
		pid_t pid = tether_clone3(&a, sizeof(a));
		int err = errno;
		long long took = t_now_ms() - t0;

		if (pid == 0)
			_exit(0); /* cannot happen: the filter kills it first */
		T_ASSERT(pid < 0, "the child survived its set-up");
		T_ASSERT(err == EIO, "errno %d (%s), expected EIO", err, strerror(err));
		if (took > worst)
			worst = took;
		if (took > CALL_LIMIT_MS) {
			for (int k = 0; k < n_holders; k++)
				t_kill(holders[k], SIGKILL);
			t_fail("call %d waited %lld ms: until a process holding the report pipe exited", i, took);
		}
	}
	signal(SIGCHLD, SIG_DFL);
	for (int k = 0; k < n_holders; k++) {
		t_kill(holders[k], SIGKILL);
		waitpid(holders[k], NULL, 0);
	}
	t_pass("%d children died before their report, %d forks held the pipe; the slowest call took %lld ms",
	       ITERATIONS, (int)n_holders, worst);
}

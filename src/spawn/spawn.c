/* SPDX-License-Identifier: MIT */
/*
 * tether_spawn(): posix_spawn() with the lifecycle flags.
 *
 * The child is created vfork-style: clone3() with CLONE_VM|CLONE_VFORK|
 * CLONE_PIDFD on a small stack of its own, so nothing of the parent is
 * copied and the parent's thread sleeps until the child has exec'd or
 * exited. Every signal is blocked around the clone, so that no handler of
 * the parent's runs in the child before it has reset them (spawn_child.c).
 * A failure in the child (set-up, attributes, file actions, exec) travels
 * back through the shared memory; the child exits, the parent reaps it and
 * returns the error: nothing is left behind.
 *
 * Lifecycle flags go to the kernel where it has them (backend_resolve()).
 * Elsewhere the emulation does what the kernel would: the same rules first
 * (lifecycle_flags_validate()), no exit signal for autoreap children, the
 * child's set-up as its very first step, and the hand-over to the reaper.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "emulate.h"
#include "spawn.h"
#include "syscalls.h"

/* The child's stack: its own frames, emulate_child's, and a PATH_MAX buffer. */
#if defined(__SANITIZE_ADDRESS__)
#define CHILD_STACK_SIZE (1024 * 1024) /* instrumented frames are much larger */
#else
#define CHILD_STACK_SIZE (128 * 1024)
#endif

extern char **environ;

static int sigprocmask_raw(int how, const uint64_t *set, uint64_t *old)
{
	/* Raw: the C library's wrappers leave its internal signals unblocked. */
	return (int)syscall(SYS_rt_sigprocmask, how, set, old, sizeof(uint64_t));
}

/* A failed child has exited or is about to: make sure it is gone and reaped. */
static void reap_failed_child(int pidfd, uint64_t flags)
{
	siginfo_t si;

	if (flags & CLONE_AUTOREAP) {
		/* The kernel reaps it: wait until it has (the pidfd polls readable). */
		pidfd_exited(pidfd, -1);
		return;
	}
	while (sys_waitid(P_PIDFD, pidfd, &si, WEXITED | __WALL) < 0 && errno == EINTR)
		;
}

/*
 * CLONE_CLEAR_SIGHAND (5.5): the kernel gives the child default handlers
 * (ignored signals stay ignored), which saves the child a system call per
 * signal. Cleared for good the first time a kernel refuses it.
 */
static bool clear_sighand_refused;

/* The child's stack: a guard page below, so that an overflow faults. */
static void *stack_map(void)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t total = CHILD_STACK_SIZE + (size_t)page;
	char *p = mmap(NULL, total, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, (size_t)page, PROT_NONE) < 0) {
		munmap(p, total);
		return NULL;
	}
	return p;
}

static size_t stack_size(void)
{
	return CHILD_STACK_SIZE + (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * One stack is kept for the next spawn: mapping a fresh one and unmapping
 * it again costs more than the rest of the parent's side, and the unmap of
 * memory a CLONE_VM child ran on flushes the TLB of every CPU it ran on.
 * Concurrent spawns each take their own; the one that finds the slot full
 * unmaps. A forked process inherits the slot with its mapping.
 */
static void *stack_cache;

static void *stack_get(void)
{
	void *p = __atomic_exchange_n(&stack_cache, NULL, __ATOMIC_ACQUIRE);

	if (!p)
		p = stack_map();
#if defined(__SANITIZE_ADDRESS__)
	/* An earlier child exec'd from deep in its frames on this memory (this
	 * stack, or one unmapped at the same address): the shadow memory still
	 * has their redzones poisoned. */
	if (p)
		ASAN_UNPOISON_MEMORY_REGION(p, stack_size());
#endif
	return p;
}

static void stack_put(void *p)
{
	void *expected = NULL;

	if (!__atomic_compare_exchange_n(&stack_cache, &expected, p, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		munmap(p, stack_size());
}

/*
 * An emulated CLONE_AUTOREAP child: its monitor creates it and is its
 * parent (monitor.c). Every signal is blocked while the monitor starts, so
 * that it and the program start with no handler of the caller's able to run.
 */
static int spawn_monitored(struct spawn_child_args *args, const struct clone_args *k, char *stack,
			   uint64_t flags, const struct tree_setup *tree, int *pidfd, long *pid, int *stage)
{
	struct emulated_child ec;
	uint64_t all = ~0ULL, saved;
	struct monitor *mon;
	pid_t p;
	int r;

	r = emulated_child_prepare(&ec, flags, false);
	if (r < 0)
		return r;
	args->nnp = flags & CLONE_NNP;
	sigprocmask_raw(SIG_SETMASK, &all, &saved);
	args->caller_sigmask = saved;
	r = monitor_spawn(&mon, args, stack, stack_size(), k->flags & CLONE_INTO_CGROUP, k->cgroup,
			  feature_has(TETHER_FEATURE_CLONE3) && !__atomic_load_n(&clear_sighand_refused, __ATOMIC_RELAXED),
			  ec.handle_rd, flags, tree, pidfd, &p, stage);
	sigprocmask_raw(SIG_SETMASK, &saved, NULL);
	if (r < 0) {
		emulated_child_release(&ec);
		return r;
	}
	r = registry_add_spawned(p, *pidfd, ec.handle_wr, ec.handle_rd, mon);
	if (r < 0) {
		monitor_free(mon); /* the program dies with its monitor */
		close(*pidfd);
		emulated_child_release(&ec);
		*stage = TETHER_SPAWN_STAGE_PARENT;
		return r;
	}
	*pid = p;
	return 0;
}

static int spawn(struct tether_child **child, const char *file, unsigned int options,
		 const struct tether_file_actions *actions, const struct tether_spawn_attr *attr,
		 char *const argv[], char *const envp[], int *stage)
{
	const uint64_t flags = attr ? attr->flags : 0;
	const bool autoreap = flags & CLONE_AUTOREAP;
	/* A tree (tree.c): its monitor is the root's parent on every backend. */
	const bool tree = attr && attr->tree != TETHER_TREE_NONE;
	enum tether_backend backend = TETHER_BACKEND_NATIVE;
	struct spawn_child_args args = {
		.file = file,
		.argv = argv,
		.envp = envp ? envp : environ,
		.attr = attr,
		.actions = actions,
	};
	struct clone_args k = {
		.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD,
		.exit_signal = autoreap ? 0 : SIGCHLD,
	};
	struct tether_child *c;
	uint64_t all = ~0ULL, saved;
	char *stack;
	int pidfd = -1, r;
	long pid;

	*stage = TETHER_SPAWN_STAGE_PARENT;
	if (!child || !file || !argv || (options & ~(TETHER_SPAWN_SEARCH_PATH | TETHER_SPAWN_SEARCH_ENVP_PATH)))
		return -EINVAL;
	if (attr && attr->setsid && attr->set_pgroup)
		return -EINVAL; /* a session leader cannot change its group */
	if (!feature_has(TETHER_FEATURE_WAITID_PIDFD))
		return -ENOSYS;
	if ((options & (TETHER_SPAWN_SEARCH_PATH | TETHER_SPAWN_SEARCH_ENVP_PATH)) && !strchr(file, '/')) {
		const char *path = NULL;

		if (options & TETHER_SPAWN_SEARCH_ENVP_PATH) {
			for (char *const *e = envp ? envp : environ; e && *e; e++)
				if (strncmp(*e, "PATH=", 5) == 0) {
					path = *e + 5; /* the first, as getenv() takes it */
					break;
				}
		} else {
			path = getenv("PATH");
		}
		args.search_path = path ? path : "/bin:/usr/bin";
	}
	k.pidfd = (uintptr_t)&pidfd;
	if (attr && attr->cgroup_fd >= 0) {
		k.flags |= CLONE_INTO_CGROUP;
		k.cgroup = (uint64_t)attr->cgroup_fd;
	}
	if (flags)
		backend = backend_resolve(flags);
	if (backend == TETHER_BACKEND_EMULATE || tree) {
		/* The same rules and errnos as the kernel's, before anything exists. */
		struct clone_args v = { .flags = CLONE_PIDFD | flags | (k.flags & CLONE_INTO_CGROUP),
					.exit_signal = k.exit_signal };
		r = lifecycle_flags_validate(&v);
		if (r < 0)
			return r;
	} else {
		k.flags |= flags;
	}
	if (!feature_has(TETHER_FEATURE_CLONE3) && (k.flags >> 32))
		return -ENOSYS; /* clone() cannot express these flags */

	c = child_handle_alloc();
	if (!c)
		return -ENOMEM;
	stack = stack_get();
	if (!stack) {
		r = negative_errno();
		child_handle_free(c);
		return r;
	}
	if (tree) {
		struct tree_setup ts;
		enum tether_tree mode;

		r = tree_prepare(attr, &ts, &mode);
		if (r == 0 && ts.cg_dir >= 0) {
			k.flags |= CLONE_INTO_CGROUP;
			k.cgroup = (uint64_t)ts.cg_dir;
		}
		if (r == 0)
			r = spawn_monitored(&args, &k, stack, flags, &ts, &pidfd, &pid, stage);
		tree_setup_done(&ts, r < 0);
		stack_put(stack);
		if (r < 0) {
			child_handle_free(c);
			return r;
		}
		/* Never the caller's child: reaped as CLONE_AUTOREAP says. */
		child_handle_init(c, pidfd, (pid_t)pid, flags | CLONE_AUTOREAP, TETHER_BACKEND_EMULATE);
		*child = c;
		*stage = TETHER_SPAWN_STAGE_NONE;
		return 0;
	}
	if (backend == TETHER_BACKEND_EMULATE && autoreap) {
		r = spawn_monitored(&args, &k, stack, flags, NULL, &pidfd, &pid, stage);
		stack_put(stack);
		if (r < 0) {
			child_handle_free(c);
			return r;
		}
		child_handle_init(c, pidfd, (pid_t)pid, flags, backend);
		*child = c;
		*stage = TETHER_SPAWN_STAGE_NONE;
		return 0;
	}
	/* Emulated CLONE_NNP alone: the child sets it first thing; it is an
	 * ordinary child, as natively. */
	args.nnp = backend == TETHER_BACKEND_EMULATE && (flags & CLONE_NNP);

	sigprocmask_raw(SIG_SETMASK, &all, &saved);
	args.caller_sigmask = saved;
	k.stack = (uintptr_t)stack;
	k.stack_size = stack_size();
	if (feature_has(TETHER_FEATURE_CLONE3)) {
		bool clear = !__atomic_load_n(&clear_sighand_refused, __ATOMIC_RELAXED);

		k.flags |= clear ? CLONE_CLEAR_SIGHAND : 0;
		args.handlers_cleared = clear;
		pid = spawn_clone3(&k, CLONE_ARGS_SIZE_VER2, spawn_child_main, &args);
		if (pid == -EINVAL && clear) {
			/* Before 5.5; or EINVAL for another reason, which comes again. */
			k.flags &= ~CLONE_CLEAR_SIGHAND;
			args.handlers_cleared = false;
			pid = spawn_clone3(&k, CLONE_ARGS_SIZE_VER2, spawn_child_main, &args);
			if (pid >= 0)
				__atomic_store_n(&clear_sighand_refused, true, __ATOMIC_RELAXED);
		}
	} else { /* clone3() refused (seccomp, old kernel): clone() can say the rest */
		pid = spawn_clone((unsigned long)k.flags | SIGCHLD * !autoreap, stack + k.stack_size, &pidfd,
				  spawn_child_main, &args);
	}
	/* The child has exec'd or exited: its stack and our memory are ours again. */
	sigprocmask_raw(SIG_SETMASK, &saved, NULL);
	stack_put(stack);

	if (pid < 0) {
		child_handle_free(c);
		return (int)pid;
	}
	if (args.err) {
		reap_failed_child(pidfd, backend == TETHER_BACKEND_NATIVE ? flags : 0);
		close(pidfd);
		child_handle_free(c);
		*stage = args.stage;
		return -args.err;
	}
	child_handle_init(c, pidfd, (pid_t)pid, flags, backend);
	*child = c;
	*stage = TETHER_SPAWN_STAGE_NONE;
	return 0;
}

_public_ int tether_spawnx(struct tether_child **child, const char *file, unsigned int options,
			   const struct tether_file_actions *actions, const struct tether_spawn_attr *attr,
			   char *const argv[], char *const envp[], enum tether_spawn_stage *failed_stage)
{
	int stage, cancel, r, saved_errno = errno;

	/* Nothing here may be abandoned half-way: no cancellation point acts. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	r = spawn(child, file, options, actions, attr, argv, envp, &stage);
	pthread_setcancelstate(cancel, NULL);
	if (failed_stage)
		*failed_stage = (enum tether_spawn_stage)stage;
	errno = saved_errno;
	return r;
}

_public_ int tether_spawn(struct tether_child **child, const char *path,
			  const struct tether_file_actions *actions, const struct tether_spawn_attr *attr,
			  char *const argv[], char *const envp[])
{
	return tether_spawnx(child, path, 0, actions, attr, argv, envp, NULL);
}

_public_ int tether_spawnp(struct tether_child **child, const char *file,
			   const struct tether_file_actions *actions, const struct tether_spawn_attr *attr,
			   char *const argv[], char *const envp[])
{
	return tether_spawnx(child, file, TETHER_SPAWN_SEARCH_PATH, actions, attr, argv, envp, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The spawned child's side, from the clone to execve(). It runs on its own
 * small stack in the parent's memory (CLONE_VM) while the parent's thread
 * sleeps (CLONE_VFORK), with every signal blocked: only async-signal-safe
 * calls here (no malloc, no stdio, no locks), and nothing may be left changed
 * in the shared memory except the error report.
 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "spawn_child.h"
#include "syscalls.h"

/* struct kernel_sigaction, KERNEL_NSIG, KERNEL_SIGSET_SIZE */
#include "kernel_sigaction.h"

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Report a failure; the child then returns to the trampoline, which exits.
 * (No call of a noreturn function here: sanitizers hook those and would
 * complain about this stack, which is not a thread's.)
 */
static int child_fail(struct spawn_child_args *a, int stage, int err)
{
	a->stage = stage;
	a->err = err > 0 ? err : EIO;
	return 127;
}

/*
 * Handlers are the parent's code and data: none may run here, and none may
 * survive into the program (exec would reset them anyway; until then they
 * could run on a signal). Caught signals get SIG_DFL, as does every signal
 * of the sigdefault set; ignored ones otherwise stay ignored. The raw
 * system call also reaches the C library's internal signals.
 */
static void child_reset_signals(const struct tether_spawn_attr *attr, bool cleared)
{
	const bool sigdefault = attr && attr->set_sigdefault;

	if (cleared && !sigdefault)
		return; /* the kernel did it at the clone (CLONE_CLEAR_SIGHAND) */
	for (int sig = 1; sig <= KERNEL_NSIG; sig++) {
		struct kernel_sigaction old, dfl = { .handler = SIG_DFL };

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (cleared && sigismember(&attr->sigdefault, sig) != 1)
			continue;
		if (syscall(SYS_rt_sigaction, sig, NULL, &old, KERNEL_SIGSET_SIZE) < 0)
			continue;
		if ((sigdefault && sigismember(&attr->sigdefault, sig) == 1) ||
		    (old.handler != SIG_DFL && old.handler != SIG_IGN))
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, KERNEL_SIGSET_SIZE);
	}
}

static unsigned int parse_fd(const char *s)
{
	unsigned long v = 0;

	if (!*s)
		return UINT_MAX;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > UINT_MAX / 10)
			return UINT_MAX;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	return v > UINT_MAX ? UINT_MAX : (unsigned int)v;
}

/* close_range(), else the list in /proc/self/fd, else every possible number. */
static int child_close_range(unsigned int first, unsigned int last)
{
	struct rlimit rl;
	int dfd;

	if (first > last)
		return 0;
	if (sys_close_range(first, last, 0) == 0)
		return 0;
	if (errno != ENOSYS && errno != EPERM) /* EPERM: a seccomp filter */
		return -errno;
	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		/* readdir of /proc/self/fd is positioned by fd number: closing is safe. */
		char buf[2048] __attribute__((aligned(8)));
		long n;

		while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
				unsigned int fd = parse_fd(d->d_name);

				off += d->d_reclen;
				if (fd != UINT_MAX && fd >= first && fd <= last && (int)fd != dfd)
					close((int)fd);
			}
		}
		close(dfd);
		if (n == 0)
			return 0;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	for (unsigned long fd = first; fd <= last && fd < rl.rlim_cur; fd++)
		close((int)fd);
	return 0;
}

static int child_file_action(const struct file_action *fa)
{
	int fd, flags, r;

	switch (fa->type) {
	case FILE_ACTION_DUP2:
		if (fa->fd == fa->newfd) {
			/* Keep the descriptor across exec (POSIX 2024 posix_spawn). */
			flags = fcntl(fa->fd, F_GETFD);
			if (flags < 0 || fcntl(fa->fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
				return -errno;
			return 0;
		}
		return dup2(fa->fd, fa->newfd) < 0 ? -errno : 0;
	case FILE_ACTION_CLOSE:
		close(fa->fd); /* not open, or interrupted: closed either way */
		return 0;
	case FILE_ACTION_OPEN:
		fd = open(fa->path, fa->oflag, fa->mode);
		if (fd < 0)
			return -errno;
		if (fd != fa->fd) {
			r = dup2(fd, fa->fd) < 0 ? -errno : 0;
			close(fd);
			return r;
		}
		return 0;
	case FILE_ACTION_CHDIR:
		return chdir(fa->path) < 0 ? -errno : 0;
	case FILE_ACTION_FCHDIR:
		return fchdir(fa->fd) < 0 ? -errno : 0;
	case FILE_ACTION_CLOSE_RANGE:
		return child_close_range(fa->first, fa->last);
	case FILE_ACTION_CLOSE_ALL_BUT: {
		unsigned int from = 3;
		for (size_t i = 0; i < fa->n_keep; i++) {
			unsigned int k = (unsigned int)fa->keep[i];
			if (k > from && (r = child_close_range(from, k - 1)) < 0)
				return r;
			from = k + 1;
		}
		return from == 0 ? 0 : child_close_range(from, ~0U);
	}
	}
	return -EINVAL;
}

/* execve(), or the PATH search of execvp() without its shell fallback. */
static int child_exec(const struct spawn_child_args *a)
{
	char buf[PATH_MAX];
	size_t flen;
	bool eacces = false;
	const char *p;

	if (!a->search_path) {
		execve(a->file, a->argv, a->envp);
		return -errno;
	}
	flen = strlen(a->file);
	if (flen == 0)
		return -ENOENT;
	if (flen > NAME_MAX)
		return -ENAMETOOLONG;
	for (p = a->search_path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);

		/* An empty element is the current directory. */
		if (dlen + 1 + flen + 1 <= sizeof(buf)) {
			memcpy(buf, p, dlen);
			if (dlen > 0)
				buf[dlen++] = '/';
			memcpy(buf + dlen, a->file, flen + 1);
			execve(buf, a->argv, a->envp);
			switch (errno) {
			case EACCES:
				eacces = true;
				break;
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
				break;
			default: /* found, but it cannot run: ENOEXEC, E2BIG, ETXTBSY, ... */
				return -errno;
			}
		}
		if (*end == '\0')
			break;
		p = end;
	}
	return eacces ? -EACCES : -ENOENT;
}

int spawn_child_main(void *arg)
{
	struct spawn_child_args *a = arg;
	const struct tether_spawn_attr *attr = a->attr;
	uint64_t mask = a->caller_sigmask;
	int r;

	/* First: what the kernel would have done at the clone (no_new_privs,
	 * arming autokill), before anything else runs in this process. */
	if (a->nnp && (r = (int)raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0)) < 0)
		return child_fail(a, TETHER_SPAWN_STAGE_CHILD, -r);
	if (a->monitor_pid) {
		/* The monitor is our parent: if it is killed, we die with it (the
		 * emulation fails closed). A single-threaded parent, so its death
		 * is the process's. Our parent may have died already: then the
		 * signal never comes, and we must not go on. */
		if ((r = (int)raw_syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0)) < 0)
			return child_fail(a, TETHER_SPAWN_STAGE_CHILD, -r);
		if (raw_syscall(SYS_getppid, 0, 0, 0) != a->monitor_pid)
			return child_fail(a, TETHER_SPAWN_STAGE_CHILD, ESRCH);
		/* The monitor started on the caller's CPU alone (monitor.c) and
		 * could not take the caller's affinity back before making us
		 * (monitor_body.c): we take it, or fail the spawn. */
		if (a->cpu_mask &&
		    (r = (int)raw_syscall(SYS_sched_setaffinity, 0, a->cpu_mask_len, (long)a->cpu_mask)) < 0)
			return child_fail(a, TETHER_SPAWN_STAGE_CHILD, -r);
		{
			/* The monitor changed SIGCHLD for itself: the program gets
			 * the caller's (an ignored signal stays ignored across exec,
			 * as posix_spawn gives it; otherwise the default). */
			struct kernel_sigaction sa = { .handler = a->sigchld_ignored ? SIG_IGN : SIG_DFL };
			syscall(SYS_rt_sigaction, SIGCHLD, &sa, NULL, KERNEL_SIGSET_SIZE);
		}
	}

	child_reset_signals(attr, a->handlers_cleared);
	if (attr) {
		if (attr->setsid && setsid() < 0)
			return child_fail(a, TETHER_SPAWN_STAGE_CHILD, errno);
		if (attr->set_pgroup && setpgid(0, attr->pgroup) < 0)
			return child_fail(a, TETHER_SPAWN_STAGE_CHILD, errno);
		/* Every signal is still blocked here: SIGTTOU does not stop a
		 * background group's TIOCSPGRP then. */
		if (attr->foreground_tty >= 0) {
			pid_t pgrp = getpgrp();
			if (ioctl(attr->foreground_tty, TIOCSPGRP, &pgrp) < 0)
				return child_fail(a, TETHER_SPAWN_STAGE_CHILD, errno);
		}
		if (attr->set_umask)
			umask(attr->umask);
	}
	if (a->actions)
		for (size_t i = 0; i < a->actions->n; i++)
			if ((r = child_file_action(&a->actions->v[i])) < 0)
				return child_fail(a, TETHER_SPAWN_STAGE_CHILD, -r);
	if (attr && attr->set_sigmask)
		memcpy(&mask, &attr->sigmask, sizeof(mask));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, KERNEL_SIGSET_SIZE);

	r = child_exec(a);
	return child_fail(a, TETHER_SPAWN_STAGE_EXEC, -r);
}

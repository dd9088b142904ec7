/* SPDX-License-Identifier: MIT */
/*
 * The monitor's own code (the design is in monitor.c).
 *
 * It runs in a process that usually shares its creator's memory (CLONE_VM)
 * but not its thread: its thread pointer is the creating thread's, whose TLS
 * and stack may be gone at any later moment, and any lock of the creator's
 * may be held by a thread that does not exist here. So, in this file only:
 * system calls made directly (no errno, no C library), no stack protector
 * and no sanitizer (both read thread-local data), no allocation, no locks;
 * just this process's own stack and the shared page. meson.build compiles it
 * so. Only system calls every architecture has: openat() and readlinkat(),
 * never open() or readlink(), which arm64 (like every architecture of the
 * generic system call table) lacks.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/futex.h>
#include <linux/kcmp.h>

#include "kernel_sigaction.h"
#include "monitor.h"
#include "spawn_child.h"
#include "syscalls.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef SFD_CLOEXEC
#define SFD_CLOEXEC O_CLOEXEC
#define SFD_NONBLOCK O_NONBLOCK
#endif
#ifndef SA_NOCLDWAIT
#define SA_NOCLDWAIT 2
#endif

/* How often a monitor waiting for its creator's answer looks whether the
 * creator is still there: the answer normally comes within microseconds. */
#define GO_RECHECK_NS (50 * 1000 * 1000)


static _Noreturn void mon_exit(int code)
{
	for (;;)
		raw_syscall(SYS_exit_group, code, 0, 0);
}

static long mon_futex_wait(uint32_t *word, uint32_t val, long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };

	/* Not FUTEX_PRIVATE_FLAG: the page is MAP_SHARED, maybe in a copy. */
	return raw_syscall5(SYS_futex, (long)word, FUTEX_WAIT, val, ns >= 0 ? (long)&ts : 0, 0);
}

static void mon_futex_wake(uint32_t *word)
{
	raw_syscall5(SYS_futex, (long)word, FUTEX_WAKE, 1 << 30, 0, 0);
}

static void mon_publish(uint32_t *word, uint32_t v)
{
	__atomic_store_n(word, v, __ATOMIC_RELEASE);
	mon_futex_wake(word);
}

/*
 * SIGCHLD for the program. The kernel autoreaps a child whose parent
 * ignores SIGCHLD or has SA_NOCLDWAIT (kernel/signal.c, do_notify_parent());
 * SIG_IGN also drops the SIGCHLD of its stops and continues
 * (do_notify_parent_cldstop()), SA_NOCLDWAIT with SIG_DFL keeps it: that
 * is what the stop reports need. The signal stays blocked,
 * so its default "ignore" never discards it (sig_ignored()): it waits for
 * the signalfd.
 */
static int mon_sigchld(void (*handler)(int), unsigned long flags, void (**old)(int))
{
	struct kernel_sigaction sa = { .handler = handler, .flags = flags }, o;
	long r = raw_syscall5(SYS_rt_sigaction, SIGCHLD, (long)&sa, (long)&o, KERNEL_SIGSET_SIZE, 0);

	if (r == 0 && old)
		*old = o.handler;
	return (int)r;
}

static int mon_poll(struct pollfd *pfd, unsigned int n, long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };

	return (int)raw_syscall5(SYS_ppoll, (long)pfd, n, ns >= 0 ? (long)&ts : 0, 0, KERNEL_SIGSET_SIZE);
}

static void mon_kill(const struct monitor_shared *sh, int pidfd)
{
	/* Without pidfd_send_signal() (valgrind runs a copied monitor and does
	 * not know it), by pid: the program is our unreaped child, or (watch
	 * mode) one the creator reaps only through its own pidfd. */
	if (raw_syscall5(SYS_pidfd_send_signal, pidfd, SIGKILL, 0, 0, 0) == -ENOSYS && sh->pid > 1)
		raw_syscall(SYS_kill, sh->pid, SIGKILL, 0);
}

/* waitid(P_PIDFD) for our own child: its wait status, or -errno. */
static int mon_reap(int pidfd, int options)
{
	siginfo_t si;
	long r;

	memset(&si, 0, sizeof(si));
	do
		r = raw_syscall5(SYS_waitid, P_PIDFD, pidfd, (long)&si, WEXITED | options, 0);
	while (r == -EINTR);
	if (r < 0)
		return (int)r;
	if (si.si_pid == 0)
		return -EAGAIN; /* WNOHANG: still running */
	return status_from_siginfo(&si);
}

/* The one-by-one fallback's bound without a readable RLIMIT_NOFILE, and its
 * cap: 1 << 20 is the kernel's default fs.nr_open, above which no descriptor
 * can exist unless an administrator raised it. */
#define CLOSE_FALLBACK_NO_LIMIT 65536UL
#define CLOSE_FALLBACK_MAX (1UL << 20)

/*
 * Close every descriptor but the ones in keep[] (any order, -1 ignored):
 * close_range() around them, else one close() per number below the limit
 * (close_range() may be missing (before 5.9) or refused by a seccomp filter).
 */
static void mon_close_all_but(const int *keep, int n)
{
	int k[8], m = 0;
	unsigned int from = 0;
	bool ranged = true;

	for (int i = 0; i < n && m < 8; i++)
		if (keep[i] >= 0)
			k[m++] = keep[i];
	for (int i = 1; i < m; i++) /* sort a handful */
		for (int j = i; j > 0 && k[j - 1] > k[j]; j--) {
			int t = k[j];
			k[j] = k[j - 1];
			k[j - 1] = t;
		}
	for (int i = 0; i < m && ranged; i++) {
		if ((unsigned int)k[i] > from && raw_syscall(SYS_close_range, from, (unsigned int)k[i] - 1, 0) < 0)
			ranged = false;
		from = (unsigned int)k[i] + 1;
	}
	if (ranged && raw_syscall(SYS_close_range, from, ~0U, 0) < 0)
		ranged = false;
	if (!ranged) {
		struct rlimit rl = { 0 };
		unsigned long max = CLOSE_FALLBACK_NO_LIMIT;

		if (raw_syscall5(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&rl, 0) == 0)
			max = rl.rlim_cur < CLOSE_FALLBACK_MAX ? rl.rlim_cur : CLOSE_FALLBACK_MAX;
		for (unsigned long fd = 0; fd < max; fd++) {
			bool kept = false;
			for (int i = 0; i < m; i++)
				kept |= (unsigned long)k[i] == fd;
			if (!kept)
				raw_close((int)fd);
		}
	}
}

/*
 * A thread of ours that only waits: while it lives, our descriptor table
 * has a second user. The kernel makes a new table for CLOSE_RANGE_UNSHARE
 * only then (fs/file.c, unshare_fd() copies a table whose count is above
 * 1), and only then does the copy hold just what lies below the range.
 */
static int mon_sharer_main(void *arg)
{
	uint32_t *released = arg;

	while (__atomic_load_n(released, __ATOMIC_ACQUIRE) == 0)
		raw_syscall5(SYS_futex, (long)released, FUTEX_WAIT, 0, 0, 0);
	for (;;)
		raw_syscall(SYS_exit, 0, 0, 0); /* this thread only, not exit_group() */
	return 0;
}

/*
 * Our copy of the creator's descriptor table is as large as the creator's
 * (a table never shrinks): with many descriptors there (a program with a
 * thousand children holds a few thousand), each monitor would keep tens of
 * kilobytes of empty slots. Put what we keep at 0 to MON_KEEP - 1 (-1:
 * none) and take a new table of just those: CLOSE_RANGE_UNSHARE copies only
 * what lies below the range, and copies at all only while the table is
 * shared (a thread of ours shares it for that moment; where we have no
 * stack for one, the table stays as large as it was). 0, or -errno with
 * nothing lost (then the caller closes around them instead).
 */
#define MON_KEEP 7 /* pidfd, handle, image pipe, signalfd; a tree's eventfd and cgroup directories */
/* Up to this many slots (2 KiB of pointers) the copied table stays: making a
 * new one costs a thread and a dozen system calls on every spawn's path. */
#define MON_TABLE_SHRINK_ABOVE 256

static int mon_compact_fds(int keep[MON_KEEP], void *sharer_stack)
{
	int top = MON_KEEP - 1, tmp[MON_KEEP];
	/* In the thread's stack page, below its frames: ours may be gone
	 * before it looks. */
	uint32_t *released = sharer_stack;
	long r, sharer = -1;

	for (int i = 0; i < MON_KEEP; i++)
		top = keep[i] > top ? keep[i] : top;
	/* First to fresh numbers above all of them, so that no move below
	 * lands on a descriptor still to be moved. */
	for (int i = 0; i < MON_KEEP; i++) {
		tmp[i] = -1;
		if (keep[i] < 0)
			continue;
		r = raw_syscall(SYS_fcntl, keep[i], F_DUPFD_CLOEXEC, top + 1);
		if (r < 0) {
			for (int j = 0; j < i; j++)
				raw_close(tmp[j]);
			return (int)r;
		}
		tmp[i] = (int)r;
	}
	for (int i = 0; i < MON_KEEP; i++) {
		if (tmp[i] < 0) {
			raw_close(i);
			continue;
		}
		raw_syscall(SYS_dup3, tmp[i], i, O_CLOEXEC);
	}
	if (sharer_stack) {
		*released = 0;
		sharer = spawn_clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
				     (char *)sharer_stack + MONITOR_SHARER_STACK_SIZE, NULL, mon_sharer_main, released);
	}
	r = raw_syscall(SYS_close_range, MON_KEEP, ~0U, CLOSE_RANGE_UNSHARE);
	if (sharer >= 0) {
		/* It drops the old table as it exits. Its stack is no one
		 * else's (monitor.h), so we need not wait. */
		__atomic_store_n(released, 1, __ATOMIC_RELEASE);
		raw_syscall5(SYS_futex, (long)released, FUTEX_WAKE, 1, 0, 0);
	}
	if (r < 0) {
		/* Old kernel or a filter: the same descriptors, in this table. */
		int k[MON_KEEP];
		for (int i = 0; i < MON_KEEP; i++)
			k[i] = tmp[i] < 0 ? -1 : i;
		mon_close_all_but(k, MON_KEEP);
	}
	for (int i = 0; i < MON_KEEP; i++)
		keep[i] = tmp[i] < 0 ? -1 : i;
	return 0;
}

static char *mon_utoa(char *p, long v)
{
	char tmp[24];
	int n = 0;
	bool neg = v < 0;

	if (neg)
		v = -v;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	if (neg)
		*p++ = '-';
	while (n > 0)
		*p++ = tmp[--n];
	*p++ = '\0';
	return p;
}

/*
 * The creator's program image is gone (it exited or exec'd): become the
 * small embedded program, which carries on with the same descriptors, so
 * that the creator's memory is no longer held. Returns only if that cannot
 * be done (no memfd exec here): then the monitor carries on as it is.
 */
static void mon_take_over(struct monitor_shared *sh, int pidfd, int handle_rd)
{
	char buf[80], *argv[5], *p = buf, path[32] = "/proc/self/fd/";
	char *envp[] = { NULL };
	long memfd;

	if (!(sh->flags & MONITOR_HAVE_PROGRAM))
		return;
	memfd = raw_syscall(SYS_memfd_create, (long)"tether-monitor", MFD_CLOEXEC, 0);
	if (memfd < 0)
		return;
	for (uint64_t off = 0; off < sh->program_len;) {
		long n = raw_syscall(SYS_write, memfd, (long)(sh->program + off), (long)(sh->program_len - off));
		if (n == -EINTR)
			continue;
		if (n <= 0) {
			raw_close((int)memfd);
			return;
		}
		off += (uint64_t)n;
	}
	raw_syscall(SYS_fcntl, pidfd, F_SETFD, 0);
	if (handle_rd >= 0)
		raw_syscall(SYS_fcntl, handle_rd, F_SETFD, 0);
	argv[0] = "tether-monitor";
	argv[1] = p, p = mon_utoa(p, pidfd);
	argv[2] = p, p = mon_utoa(p, handle_rd);
	argv[3] = p, p = mon_utoa(p, (long)(sh->flags & MONITOR_AUTOKILL));
	argv[4] = NULL;
	raw_syscall5(SYS_execveat, memfd, (long)"", (long)argv, (long)envp, AT_EMPTY_PATH);
	/*
	 * Debian's 5.10 (5.10.223) answers ENOENT to execveat(AT_EMPTY_PATH)
	 * on a memfd, while the same file by its /proc name execs (the name
	 * glibc's fexecve() uses where execveat() is missing; needs /proc).
	 */
	mon_utoa(path + 14, memfd);
	raw_syscall(SYS_execve, (long)path, (long)argv, (long)envp);
	/* Still here: carry on as we are. */
	raw_close((int)memfd);
	raw_syscall(SYS_fcntl, pidfd, F_SETFD, FD_CLOEXEC);
	if (handle_rd >= 0)
		raw_syscall(SYS_fcntl, handle_rd, F_SETFD, FD_CLOEXEC);
}

/* Whether the creator still runs the image whose memory we share. */
static bool mon_creator_image_lives(const struct monitor_shared *sh)
{
	long self = raw_syscall(SYS_getpid, 0, 0, 0);

	if (!(sh->flags & MONITOR_SHARED_VM))
		return false; /* a copy: the pipe's hang-up is all we can know */
	long r = raw_syscall5(SYS_kcmp, sh->creator_pid, self, KCMP_VM, 0, 0);

	/* 0: the same address space. Anything else (another one, no such
	 * process, no kcmp) counts as gone: then taking over is what is safe. */
	return r == 0;
}

/* ---- Tree mode (tree.c): the monitor is the tree's child subreaper ---- */

struct mon_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* How many processes one walk signals; the rest of a larger tree comes back
 * to the monitor as orphans once their parents died, and the next walk
 * takes them. Sized for the monitor's stack, which holds two such arrays
 * (a walk's queue, and the record of a signal other than SIGKILL). */
#define TREE_WALK_MAX 2048

/* How long a SIGKILL loop waits for an exit before it walks again. */
#define TREE_ROUND_NS (10 * 1000 * 1000)
/* Another signal: walks until two in a row find nobody new, this far apart,
 * at most TREE_SIGNAL_WALKS of them (mon_tree_signal_each()). */
#define TREE_SIGNAL_PAUSE_NS (1000 * 1000)
#define TREE_SIGNAL_WALKS 32
/* Rounds of refusals only, with nothing ending, before a SIGKILL gives up. */
#define TREE_REFUSED_ROUNDS 5

struct mon_tree {
	int sigfd;      /* SIGCHLD, blocked, as a descriptor */
	int cg_kill;    /* cgroup.kill (5.14+), or -1 */
	int cg_freeze;  /* cgroup.freeze (5.2+) where there is no cgroup.kill, or -1 */
	pid_t root;     /* the program */
	bool root_reaped;
};

static char *mon_cat(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	*p = '\0';
	return p;
}

/*
 * Append the pids listed in a children file (numbers separated by blanks)
 * to q (at most max in all); a number cut by the end of a read goes on in
 * the next one.
 */
static int mon_read_children(const char *path, pid_t *q, int n, int max)
{
	char buf[512];
	long fd = raw_syscall5(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0), len;
	long v = -1;

	if (fd < 0)
		return n;
	while ((len = raw_syscall(SYS_read, fd, (long)buf, sizeof(buf))) > 0 || len == -EINTR) {
		for (long i = 0; i < len; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				v = (v < 0 ? 0 : v * 10) + (buf[i] - '0');
			} else if (v >= 0) {
				if (n < max)
					q[n++] = (pid_t)v;
				v = -1;
			}
		}
	}
	if (v >= 0 && n < max)
		q[n++] = (pid_t)v;
	raw_close((int)fd);
	return n;
}

/* The children of every thread of pid (any thread may have forked). */
static int mon_children_of(pid_t pid, pid_t *q, int n, int max)
{
	char path[96], *p, buf[1024] __attribute__((aligned(8)));
	long dfd, len;

	p = mon_cat(path, "/proc/");
	p = mon_utoa(p, pid) - 1;
	p = mon_cat(p, "/task");
	dfd = raw_syscall5(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0);
	if (dfd < 0)
		return n;
	while ((len = raw_syscall(SYS_getdents64, dfd, (long)buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len;) {
			struct mon_dirent64 *d = (struct mon_dirent64 *)(buf + off);
			char *e;

			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			e = mon_cat(p, "/");
			e = mon_cat(e, d->d_name);
			mon_cat(e, "/children");
			n = mon_read_children(path, q, n, max);
		}
		*p = '\0';
	}
	raw_close((int)dfd);
	return n;
}

/*
 * Whether the mounted /proc is of our own pid namespace (a process that
 * unshared CLONE_NEWPID without mounting a new /proc sees pids of another
 * namespace there): only then may its pids be signalled.
 */
static bool mon_proc_is_ours(void)
{
	char buf[32];
	long n = raw_syscall5(SYS_readlinkat, AT_FDCWD, (long)"/proc/self", (long)buf, sizeof(buf) - 1, 0), v = 0;

	if (n <= 0)
		return false;
	for (long i = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return false;
		v = v * 10 + (buf[i] - '0');
	}
	return v == raw_syscall(SYS_getpid, 0, 0, 0);
}

/* The pids one mon_tree_signal_each() has sent its signal to (or tried:
 * refusals too), so that each gets it once. */
struct mon_sent {
	int n;
	pid_t pid[TREE_WALK_MAX];
};

static bool mon_sent_has(const struct mon_sent *s, pid_t pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->pid[i] == pid)
			return true;
	return false;
}

/*
 * Send sig to every descendant, parents before their children: a parent
 * with SIGKILL pending can no longer fork (copy_process() checks), so the
 * list of its children read after the signal is complete. A pid comes from
 * its parent's list of children just read, so it names that child (or its
 * zombie, whose pid is not reused before the parent reaps it). Returns how
 * many were signalled; -1 without a /proc of our own pid namespace.
 * *denied: how many kill() refused (EPERM: a member of another user).
 * before (NULL for SIGKILL): the pids signalled before, skipped here; those
 * signalled now are added, and once it is full no new pid is signalled
 * (better a member missed than one signalled twice).
 */
static int mon_tree_walk(int sig, int *denied, struct mon_sent *before)
{
	pid_t q[TREE_WALK_MAX];
	int n, sent = 0;

	*denied = 0;
	if (!mon_proc_is_ours())
		return -1;
	/* Without CONFIG_PROC_CHILDREN there is no list to walk: the caller
	 * then reaches what it can (the root, the cgroup) instead of waiting
	 * for ever for children it cannot name. */
	n = (int)raw_syscall5(SYS_faccessat, AT_FDCWD, (long)"/proc/thread-self/children", R_OK, 0, 0);
	if (n < 0)
		return -1;
	n = mon_read_children("/proc/thread-self/children", q, 0, TREE_WALK_MAX);

	for (int i = 0; i < n; i++) {
		if (!before || (!mon_sent_has(before, q[i]) && before->n < TREE_WALK_MAX)) {
			long r = raw_syscall(SYS_kill, q[i], sig, 0);
			if (r == 0)
				sent++;
			else if (r == -EPERM)
				(*denied)++;
			if (before)
				before->pid[before->n++] = q[i];
		}
		n = mon_children_of(q[i], q, n, TREE_WALK_MAX);
	}
	return sent;
}

/*
 * Reap every child that has ended (the root and adopted orphans): the
 * root's status goes to the shared page. 1: children remain; 0: none left.
 */
static int mon_tree_reap(struct monitor_shared *sh, struct mon_tree *t)
{
	for (;;) {
		siginfo_t si;
		long r;

		memset(&si, 0, sizeof(si));
		r = raw_syscall5(SYS_waitid, P_ALL, 0, (long)&si, WEXITED | WNOHANG | __WALL, 0);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return 0; /* ECHILD: nobody left */
		if (si.si_pid == 0)
			return 1;
		__atomic_add_fetch(&sh->tree_reaped, 1, __ATOMIC_RELAXED);
		if (si.si_pid == t->root) {
			sh->status = status_from_siginfo(&si);
			mon_publish(&sh->status_valid, 1); /* a caller may wait for it (monitor_wait_status()) */
			t->root_reaped = true;
		}
	}
}

static void mon_drain(int fd)
{
	char buf[512];

	while (raw_syscall(SYS_read, fd, (long)buf, sizeof(buf)) > 0)
		;
}

/* No /proc of ours to walk: the root at least (until we reap it, it is our
 * child, so the pid is safe). */
static void mon_signal_root(const struct mon_tree *t, int sig)
{
	if (!t->root_reaped)
		raw_syscall(SYS_kill, t->root, sig, 0);
}

/*
 * A signal other than SIGKILL, to each member once. Unlike SIGKILL, it does
 * not stop a parent from dying (of it) while the walk reads its children:
 * they come to us then, after the walk read our own list, and a single walk
 * missed them. So walk again, each pid signalled once, until two walks in a
 * row find nobody new.
 */
static void mon_tree_signal_each(struct monitor_shared *sh, struct mon_tree *t, int sig)
{
	struct mon_sent before = { .n = 0 };
	int sent_all = 0, denied_all = 0, quiet = 0;

	for (int walks = 0; quiet < 2 && walks < TREE_SIGNAL_WALKS; walks++) {
		int denied, sent = mon_tree_walk(sig, &denied, &before);

		if (sent < 0) {
			mon_signal_root(t, sig);
			break;
		}
		sent_all += sent;
		denied_all += denied;
		quiet = sent == 0 && denied == 0 ? quiet + 1 : 0;
		if (quiet < 2)
			mon_poll(NULL, 0, TREE_SIGNAL_PAUSE_NS);
	}
	__atomic_add_fetch(&sh->tree_signalled, (uint32_t)sent_all, __ATOMIC_RELAXED);
	if (sent_all == 0 && denied_all > 0)
		__atomic_store_n(&sh->tree_err, EPERM, __ATOMIC_RELAXED);
}

/* SIGKILL: again and again until the monitor has no child. */
static void mon_tree_kill(struct monitor_shared *sh, struct mon_tree *t)
{
	uint32_t rounds = 0;
	/*
	 * How many the first SIGKILL met: what the monitor reaps until none is
	 * left (a killed parent reaps nothing: its children come to the
	 * subreaper, dead or alive). Not the first walk's count: a parent dies
	 * while its children are read, and those that came to the monitor
	 * meanwhile are only found by the next walk.
	 */
	bool count = __atomic_load_n(&sh->tree_at_kill, __ATOMIC_RELAXED) == 0;
	uint32_t reaped_before = __atomic_load_n(&sh->tree_reaped, __ATOMIC_RELAXED);
	/* Rounds in a row in which every member left refused the signal and
	 * nothing ended: such a member never dies of our walks, so the kill
	 * gives up with EPERM rather than walk for ever (fail closed: the
	 * caller learns it, and the tree stays watched). */
	unsigned int refused = 0;

	if (t->cg_kill >= 0)
		raw_syscall(SYS_write, t->cg_kill, (long)"1", 1);
	else if (t->cg_freeze >= 0)
		raw_syscall(SYS_write, t->cg_freeze, (long)"1", 1); /* frozen tasks still die of SIGKILL */
	for (;;) {
		uint32_t reaped_round = __atomic_load_n(&sh->tree_reaped, __ATOMIC_RELAXED);
		int denied, sent = mon_tree_walk(SIGKILL, &denied, NULL);

		rounds++;
		if (sent < 0) {
			/* No /proc of ours: only the root and the cgroup can be reached. */
			mon_signal_root(t, SIGKILL);
			if ((t->cg_kill < 0 && rounds > 1) || !mon_tree_reap(sh, t))
				break;
			if (t->cg_kill >= 0)
				raw_syscall(SYS_write, t->cg_kill, (long)"1", 1);
			sent = 0;
		}
		__atomic_add_fetch(&sh->tree_signalled, (uint32_t)sent, __ATOMIC_RELAXED);
		if (sent == 0 && denied > 0 && ++refused >= TREE_REFUSED_ROUNDS) {
			__atomic_store_n(&sh->tree_err, EPERM, __ATOMIC_RELAXED);
			break;
		}
		if (!mon_tree_reap(sh, t))
			break;
		{
			struct pollfd pfd = { .fd = t->sigfd, .events = POLLIN };
			mon_poll(&pfd, 1, TREE_ROUND_NS);
			mon_drain(t->sigfd);
		}
		if (!mon_tree_reap(sh, t))
			break;
		if (__atomic_load_n(&sh->tree_reaped, __ATOMIC_RELAXED) != reaped_round)
			refused = 0;
	}
	sh->tree_rounds = rounds;
	if (count)
		__atomic_store_n(&sh->tree_at_kill,
				 __atomic_load_n(&sh->tree_reaped, __ATOMIC_RELAXED) - reaped_before, __ATOMIC_RELAXED);
}

/* Signal the tree: SIGKILL until nothing is left, any other signal once to each member. */
static void mon_tree_signal(struct monitor_shared *sh, struct mon_tree *t, int sig)
{
	__atomic_store_n(&sh->tree_err, 0, __ATOMIC_RELAXED);
	if (sig == SIGKILL)
		mon_tree_kill(sh, t);
	else
		mon_tree_signal_each(sh, t, sig);
}

static int64_t mon_read_number(int dirfd, const char *file, const char *key)
{
	char buf[1024];
	long fd = raw_syscall5(SYS_openat, dirfd, (long)file, O_RDONLY | O_CLOEXEC, 0, 0), len;
	const char *p = buf;
	size_t klen = 0;

	if (fd < 0)
		return -1;
	len = raw_syscall(SYS_read, fd, (long)buf, sizeof(buf) - 1);
	raw_close((int)fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	while (key && key[klen])
		klen++;
	if (key) { /* "key value" lines */
		for (p = buf; *p; ) {
			if (memcmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '\t')) {
				p += klen + 1;
				while (*p == ' ' || *p == '\t')
					p++;
				break;
			}
			while (*p && *p != '\n')
				p++;
			if (*p)
				p++;
		}
		if (!*p)
			return -1;
	}
	if (*p < '0' || *p > '9')
		return -1;
	int64_t v = 0;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	return v;
}

/* The tree is gone: keep the cgroup's figures, then remove it. */
static void mon_tree_cgroup_done(struct monitor_shared *sh)
{
	if (!(sh->flags & MONITOR_TREE_CGROUP))
		return;
	sh->cg_usage_usec = mon_read_number(sh->cg_dir, "cpu.stat", "usage_usec");
	sh->cg_memory_peak = mon_read_number(sh->cg_dir, "memory.peak", NULL);
	sh->cg_pids_peak = mon_read_number(sh->cg_dir, "pids.peak", NULL);
	raw_close(sh->cg_dir);
	/* Its last task may still be on its way out of it: retry a while. */
	for (int i = 0; i < 500; i++) {
		long r = raw_syscall(SYS_unlinkat, sh->cg_parent, (long)sh->cg_name, AT_REMOVEDIR);
		struct timespec ts = { .tv_nsec = 2 * 1000 * 1000 };

		if (r == 0 || r == -ENOENT) {
			__atomic_store_n(&sh->cg_removed, 1, __ATOMIC_RELEASE);
			break;
		}
		if (r != -EBUSY)
			break;
		raw_syscall(SYS_nanosleep, (long)&ts, 0, 0);
	}
	raw_close(sh->cg_parent);
}

/* Spawn mode: make the program, vfork-style, as tether_spawn's child would be. */
static int mon_make_program(struct monitor_shared *sh, int *pidfd)
{
	struct spawn_child_args *a = sh->args;
	struct clone_args k = {
		.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | sh->clone_flags,
		.pidfd = (uintptr_t)pidfd,
		.exit_signal = (uint64_t)sh->exit_signal,
		.stack = (uintptr_t)sh->stack,
		.stack_size = sh->stack_size,
		.cgroup = sh->cgroup,
	};
	void (*old)(int) = SIG_DFL;
	const bool fast = sh->flags & MONITOR_EXEC_WAKES_CREATOR;
	long pid;

	/*
	 * Where we share the creator's memory and descriptor table, the program
	 * is made without CLONE_VFORK: the creator, not we, waits for its exec.
	 * The kernel ends a CLONE_CHILD_CLEARTID child's use of the shared
	 * memory, at its exec or its exit, by writing 0 to program_tid and
	 * waking a waiter of that futex (kernel/fork.c, mm_release()); the
	 * creator is that waiter, so the exec wakes it directly, not through
	 * us (one wake-up less on the path of every spawn). We go on at once
	 * and take our descriptor table for our own meanwhile.
	 */
	if (fast) {
		k.flags &= ~(uint64_t)CLONE_VFORK;
		k.flags |= CLONE_CHILD_CLEARTID;
		k.child_tid = (uintptr_t)&sh->program_tid;
	}

	/*
	 * Where the kernel keeps the exit status after the reap, SIGCHLD has
	 * SA_NOCLDWAIT before the program exists: the kernel then reaps it the
	 * moment it exits, with CLONE_AUTOREAP's timing, however soon that is.
	 * That needs the creator's pidfd of the program to come from this
	 * clone (a shared descriptor table), not from its pid later. A copied
	 * monitor (no shared table) must not let the program be reaped before
	 * the creator has opened it by pid: it sets SA_NOCLDWAIT only then.
	 * Elsewhere we reap it ourselves, for its status. The program gets
	 * back the creator's disposition (an ignored signal stays ignored
	 * across exec, as with posix_spawn).
	 */
	mon_sigchld(SIG_DFL, (sh->flags & MONITOR_IGNORE_SIGCHLD) && (sh->flags & MONITOR_SHARED_FILES) ? SA_NOCLDWAIT : 0,
		    &old);
	a->sigchld_ignored = old == SIG_IGN;
	/*
	 * We started on the creator's CPU alone (monitor.c): take the
	 * creator's affinity back before the program is made, so that the
	 * program inherits it and the scheduler may start it on another CPU
	 * (fork balancing) while we take our descriptor table for our own
	 * here. Made on our CPU, it would wait until we sleep, and its exec
	 * would move it all the same. Where that fails, the program sets the
	 * mask itself and fails the spawn with the error (spawn_child.c).
	 */
	a->cpu_mask = NULL;
	a->cpu_mask_len = 0;
	if (sh->cpu_mask_len &&
	    raw_syscall(SYS_sched_setaffinity, 0, sh->cpu_mask_len, (long)sh->cpu_mask) < 0) {
		a->cpu_mask = sh->cpu_mask;
		a->cpu_mask_len = sh->cpu_mask_len;
	}
	a->monitor_pid = (pid_t)raw_syscall(SYS_getpid, 0, 0, 0);
	if (sh->flags & MONITOR_CLONE3) {
		bool clear = sh->flags & MONITOR_CLEAR_SIGHAND;

		k.flags |= clear ? CLONE_CLEAR_SIGHAND : 0;
		a->handlers_cleared = clear;
		pid = spawn_clone3(&k, CLONE_ARGS_SIZE_VER2, spawn_child_main, a);
		if (pid == -EINVAL && clear) {
			k.flags &= ~(uint64_t)CLONE_CLEAR_SIGHAND;
			a->handlers_cleared = false;
			pid = spawn_clone3(&k, CLONE_ARGS_SIZE_VER2, spawn_child_main, a);
		}
	} else {
		a->handlers_cleared = false;
		pid = spawn_clone((unsigned long)k.flags | (unsigned long)sh->exit_signal,
				  (char *)sh->stack + sh->stack_size, pidfd, spawn_child_main, a);
	}
	if (pid < 0)
		return (int)pid;
	if (fast) {
		/* Its exec or its failure is the creator's to see (a->err). */
		sh->pid = (int32_t)pid;
		return 0;
	}
	if (a->err) {
		/* It exited (set-up or exec failed): reap it here, nothing stays. */
		mon_reap(*pidfd, __WALL);
		raw_close(*pidfd);
		*pidfd = -1;
		sh->stage = a->stage;
		return -a->err;
	}
	sh->pid = (int32_t)pid;
	return 0;
}

/*
 * The program stopped or continued (a SIGCHLD came): as its parent, we are
 * the one the kernel tells, so tell the creator, which follows job control
 * as a parent would (tether run stops with its command). Each report
 * replaces one the creator has not taken yet, as the kernel's own wait
 * reports do (a stop followed by a continue reports the continue). Then a
 * SIGCHLD to the creator, the wake-up a parent gets from the kernel: the
 * creator reads the report with tether_child_event().
 */
static void mon_report_stops(struct monitor_shared *sh, int pidfd, int creator_pidfd, uint32_t *seq)
{
	bool any = false;

	for (;;) {
		siginfo_t si;
		uint32_t kind;
		long r;

		memset(&si, 0, sizeof(si));
		r = raw_syscall5(SYS_waitid, P_PIDFD, pidfd, (long)&si, WSTOPPED | WCONTINUED | WNOHANG | __WALL, 0);
		if (r == -EINTR)
			continue;
		if (r < 0 || si.si_pid == 0)
			break;
		if (si.si_code == CLD_STOPPED)
			kind = MONITOR_EVENT_STOPPED;
		else if (si.si_code == CLD_CONTINUED)
			kind = MONITOR_EVENT_CONTINUED;
		else
			continue;
		*seq = (*seq + 1) & 0xffff;
		__atomic_store_n(&sh->event, MONITOR_EVENT(*seq, kind, si.si_status), __ATOMIC_RELEASE);
		mon_futex_wake(&sh->event);
		any = true;
	}
	if (!any)
		return;
	/* Without pidfd_send_signal() (valgrind), by pid: the creator's image
	 * still lives (its pipe has not hung up), so the pid is its. */
	if (creator_pidfd < 0 ||
	    raw_syscall5(SYS_pidfd_send_signal, creator_pidfd, SIGCHLD, 0, 0, 0) == -ENOSYS)
		raw_syscall(SYS_kill, sh->creator_pid, SIGCHLD, 0);
}

/*
 * Tree mode's loop, once the program runs and the creator has its pidfd:
 * reap whatever ends (SIGCHLD on the signalfd, never ignored: the root's
 * status and the orphans' exits are collected here), report the root's
 * stops and continues as the plain loop does, carry out the creator's
 * commands, kill the tree when the autokill handle hangs up or the creator
 * can no longer watch us (tree_end), and end once the root has ended and
 * nothing is left.
 */
static _Noreturn void mon_tree_loop(struct monitor_shared *sh, int pidfd, int handle_rd, int image_rd,
				    int creator_pidfd, int sigfd)
{
	struct mon_tree t = { .sigfd = sigfd, .cg_kill = -1, .cg_freeze = -1, .root = sh->pid };
	bool handle_gone = false, creator_gone = false, ending = false;
	uint32_t seq = 0;
	long r;

	if (sh->flags & MONITOR_TREE_CGROUP) {
		long fd = raw_syscall5(SYS_openat, sh->cg_dir, (long)"cgroup.kill", O_WRONLY | O_CLOEXEC, 0, 0);
		if (fd >= 0)
			t.cg_kill = (int)fd;
		else if ((fd = raw_syscall5(SYS_openat, sh->cg_dir, (long)"cgroup.freeze", O_WRONLY | O_CLOEXEC, 0, 0)) >= 0)
			t.cg_freeze = (int)fd;
	}
	for (;;) {
		struct pollfd pfd[6] = {
			{ .fd = t.root_reaped ? -1 : pidfd, .events = POLLIN },
			{ .fd = handle_gone ? -1 : handle_rd, .events = 0 }, /* POLLHUP is always reported */
			{ .fd = image_rd, .events = 0 },
			{ .fd = creator_pidfd, .events = POLLIN },
			{ .fd = sh->tree_evfd, .events = POLLIN },
			{ .fd = t.sigfd, .events = POLLIN },
		};
		int alive;

		alive = mon_tree_reap(sh, &t);
		if (!alive && t.root_reaped)
			break;
		/* Without a signalfd an orphan's exit wakes nothing: look again now and then. */
		r = mon_poll(pfd, 6, t.sigfd < 0 ? 50 * 1000 * 1000 : -1);
		if (__atomic_load_n(&sh->tree_end, __ATOMIC_ACQUIRE) && !ending) {
			/* The creator lost its pidfd of us and can get none: it
			 * kills us, and the tree must not outlive us (members
			 * would go to init, unwatched). */
			mon_tree_signal(sh, &t, SIGKILL);
			ending = true;
		}
		if (r < 0)
			continue; /* EINTR only */
		if (pfd[5].revents & POLLIN) {
			mon_drain(t.sigfd);
			if (!creator_gone && !t.root_reaped)
				mon_report_stops(sh, pidfd, creator_pidfd, &seq);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			/* The root ended; a zombie of ours until reaped here. */
			int st = mon_reap(pidfd, __WALL);
			if (st >= 0) {
				__atomic_add_fetch(&sh->tree_reaped, 1, __ATOMIC_RELAXED);
				sh->status = st;
				mon_publish(&sh->status_valid, 1); /* a caller may wait for it (monitor_wait_status()) */
			}
			t.root_reaped = true;
		}
		if (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* The last reference to the handle is gone. */
			if (sh->flags & MONITOR_AUTOKILL)
				mon_tree_signal(sh, &t, SIGKILL);
			raw_close(handle_rd);
			handle_gone = true;
		}
		if ((pfd[2].revents & (POLLHUP | POLLERR | POLLNVAL)) || (pfd[3].revents & POLLIN)) {
			raw_close(image_rd);
			image_rd = -1;
			/* The pipe closed under a creator that still runs (a
			 * descriptor sweep): its exit still shows on its pidfd. */
			if (!mon_creator_image_lives(sh)) {
				/* The creator went (or exec'd): nothing to tell it any
				 * more; the tree lives on, watched as before, until it
				 * ends or is killed. */
				raw_close(creator_pidfd);
				creator_pidfd = -1;
				creator_gone = true;
			}
		}
		if (pfd[4].revents & POLLIN) {
			uint64_t v;
			raw_syscall(SYS_read, sh->tree_evfd, (long)&v, sizeof(v));
			mon_tree_signal(sh, &t, (int)__atomic_load_n(&sh->tree_cmd, __ATOMIC_ACQUIRE));
			__atomic_add_fetch(&sh->tree_ack, 1, __ATOMIC_RELEASE);
			mon_futex_wake(&sh->tree_ack);
		}
	}
	mon_tree_cgroup_done(sh);
	mon_publish(&sh->done, 1);
	mon_exit(0);
}

/* Spawn mode: wait for the creator's answer; false if it will never come. */
static bool mon_await_go(struct monitor_shared *sh, int creator_pidfd)
{
	for (;;) {
		uint32_t go = __atomic_load_n(&sh->go, __ATOMIC_ACQUIRE);
		struct pollfd pfd = { .fd = creator_pidfd, .events = POLLIN };

		if (go == MONITOR_GO_RUN)
			return true;
		if (go == MONITOR_GO_KILL)
			return false;
		mon_futex_wait(&sh->go, MONITOR_GO_WAIT, GO_RECHECK_NS);
		if (__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE) != MONITOR_GO_WAIT)
			continue;
		/* The creator was killed before it answered: nobody has the child.
		 * (Its answer is read again after its exit is seen: it may have
		 * answered and exited in between.) */
		if (creator_pidfd >= 0 && mon_poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN))
			return __atomic_load_n(&sh->go, __ATOMIC_ACQUIRE) == MONITOR_GO_RUN;
		if ((sh->flags & MONITOR_SHARED_VM) && !mon_creator_image_lives(sh))
			return __atomic_load_n(&sh->go, __ATOMIC_ACQUIRE) == MONITOR_GO_RUN;
	}
}

int monitor_main(void *arg)
{
	struct monitor_shared *sh = arg;
	const bool spawn = sh->mode == MONITOR_SPAWN;
	int pidfd = -1, creator_pidfd = -1, handle_rd = sh->handle_rd, image_rd = sh->image_rd, sigfd = -1;
	bool ignoring = false, killed = false;
	uint32_t seq = 0;
	long r;

	raw_syscall(SYS_prctl, PR_SET_NAME, (long)"tether-monitor", 0);
	if (sh->flags & MONITOR_TREE) {
		/* Before the program exists: its orphans, however early, come here. */
		r = raw_syscall(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0);
		if (r < 0) {
			sh->err = (int32_t)-r;
			mon_publish(&sh->state, MONITOR_FAILED);
			if (sh->flags & MONITOR_EXEC_WAKES_CREATOR)
				mon_publish(&sh->program_tid, 0); /* no program will */
			mon_exit(0);
		}
	}
	if (spawn) {
		r = mon_make_program(sh, &pidfd);
		ignoring = (sh->flags & MONITOR_IGNORE_SIGCHLD) && (sh->flags & MONITOR_SHARED_FILES);
		if (r == 0 && (sh->flags & MONITOR_SHARED_FILES)) {
			/* The pidfd is in the table we share with the creator: it is
			 * the creator's. A table of our own keeps a reference of ours
			 * (closing the creator's descriptors in it touches nothing of
			 * the creator's). */
			sh->pidfd = pidfd;
			r = raw_syscall(SYS_unshare, CLONE_FILES, 0, 0);
			if (r < 0) {
				/* Still the creator's table: take the program back out. */
				mon_kill(sh, pidfd);
				mon_reap(pidfd, __WALL);
				raw_close(pidfd);
				sh->pidfd = -1;
			}
		}
	} else {
		/* The creator's child, not ours: it cannot be reaped before we
		 * are ready (the creator waits for us), so its pid is safe. */
		r = raw_syscall(SYS_pidfd_open, sh->pid, 0, 0);
		pidfd = (int)r;
	}
	if (r < 0) {
		sh->err = (int32_t)-r;
		mon_publish(&sh->state, MONITOR_FAILED);
		if (spawn && (sh->flags & MONITOR_EXEC_WAKES_CREATOR))
			mon_publish(&sh->program_tid, 0); /* no program will */
		mon_exit(0);
	}
	if (spawn) {
		/* The program's stops and continues come as SIGCHLD (blocked
		 * here, as every signal): read them from a signalfd. Made only
		 * now that our descriptor table is our own. Without it the
		 * monitor still works; only its stops go unreported. */
		uint64_t chld = 1ULL << (SIGCHLD - 1);
		r = raw_syscall5(SYS_signalfd4, -1, (long)&chld, KERNEL_SIGSET_SIZE, SFD_CLOEXEC | SFD_NONBLOCK, 0);
		sigfd = r >= 0 ? (int)r : -1;
	}

	/* Only what we watch stays open: the creator's descriptors are its own. */
	{
		int keep[MON_KEEP] = { pidfd, handle_rd, image_rd, sigfd, -1, -1, -1 };
		if (sh->flags & MONITOR_TREE)
			keep[4] = sh->tree_evfd;
		if (sh->flags & MONITOR_TREE_CGROUP)
			keep[5] = sh->cg_dir, keep[6] = sh->cg_parent;
		/* A stack for the moment of a thread; not where the creator's
		 * memory is not ours (a copy of it, under valgrind, which runs no
		 * thread made this way). */
		void *sharer_stack = (sh->flags & MONITOR_SHARED_VM) ? (char *)sh - MONITOR_SHARER_STACK_SIZE : NULL;
		/* The size of the table we copied: a small one is not worth the
		 * moves and the thread that shrink it (unknown: shrink). */
		int64_t slots = mon_read_number(AT_FDCWD, "/proc/self/status", "FDSize:");
		if ((slots < 0 || slots > MON_TABLE_SHRINK_ABOVE) && mon_compact_fds(keep, sharer_stack) == 0) {
			pidfd = keep[0];
			handle_rd = keep[1];
			image_rd = keep[2];
			sigfd = keep[3];
			/* Our numbers now; the creator uses its own descriptors. */
			if (sh->flags & MONITOR_TREE)
				sh->tree_evfd = keep[4];
			if (sh->flags & MONITOR_TREE_CGROUP)
				sh->cg_dir = keep[5], sh->cg_parent = keep[6];
		} else {
			mon_close_all_but(keep, MON_KEEP);
		}
	}
	/* The creator's pid comes from the creator: if it died before we got
	 * here, we are a subreaper's child now and getppid() would name that.
	 * The pid may even be reused by now; kcmp() below checks any event. */
	r = raw_syscall(SYS_pidfd_open, sh->creator_pid, 0, 0);
	creator_pidfd = r >= 0 ? (int)r : -1;
	mon_publish(&sh->state, MONITOR_READY);

	if (spawn && !(sh->flags & MONITOR_SHARED_FILES)) {
		if (!mon_await_go(sh, creator_pidfd)) {
			if (sh->flags & MONITOR_TREE) {
				struct mon_tree t = { .sigfd = sigfd, .cg_kill = -1, .cg_freeze = -1, .root = sh->pid };
				mon_tree_signal(sh, &t, SIGKILL);
				mon_tree_cgroup_done(sh);
				mon_exit(0);
			}
			mon_kill(sh, pidfd);
			mon_reap(pidfd, __WALL);
			mon_exit(0);
		}
		if (sh->flags & MONITOR_IGNORE_SIGCHLD) {
			/*
			 * The kernel keeps the exit status after the reap: let it
			 * reap the program the moment it exits (do_notify_parent()
			 * autoreaps when the parent has SA_NOCLDWAIT), with the
			 * timing of CLONE_AUTOREAP. A program that ended already is
			 * a zombie that the new disposition does not touch.
			 */
			mon_sigchld(SIG_DFL, SA_NOCLDWAIT, NULL);
			ignoring = true;
			mon_reap(pidfd, WNOHANG | __WALL);
		}
	}
	if (spawn && (sh->flags & MONITOR_TREE))
		mon_tree_loop(sh, pidfd, handle_rd, image_rd, creator_pidfd, sigfd);

	for (;;) {
		struct pollfd pfd[5] = {
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = killed ? -1 : handle_rd, .events = 0 }, /* POLLHUP is always reported */
			{ .fd = image_rd, .events = 0 },
			{ .fd = creator_pidfd, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};

		r = mon_poll(pfd, 5, -1);
		if (r < 0)
			continue; /* EINTR only: every signal is blocked but SIGSTOP/CONT */
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (spawn && !ignoring) {
				int st = mon_reap(pidfd, __WALL);
				if (st >= 0) {
					sh->status = st;
					mon_publish(&sh->status_valid, 1); /* a caller may wait for it (monitor_wait_status()) */
				}
			}
			break;
		}
		if (pfd[4].revents & POLLIN) {
			char drain[128 * 4]; /* struct signalfd_siginfo is 128 bytes */
			while (raw_syscall(SYS_read, sigfd, (long)drain, sizeof(drain)) > 0)
				;
			mon_report_stops(sh, pidfd, creator_pidfd, &seq);
		}
		if (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* The last reference to the handle is gone. */
			if (sh->flags & MONITOR_AUTOKILL)
				mon_kill(sh, pidfd);
			raw_close(handle_rd);
			handle_rd = -1;
			killed = true;
		}
		if ((pfd[2].revents & (POLLHUP | POLLERR | POLLNVAL)) || (pfd[3].revents & POLLIN)) {
			if (mon_creator_image_lives(sh)) {
				/* The pipe was closed under the creator (a descriptor
				 * sweep): its exit still shows on its pidfd. */
				raw_close(image_rd);
				image_rd = -1;
				continue;
			}
			if (spawn) {
				/* Nobody is left to read a status or a stop from us.
				 * SIG_IGN, not SA_NOCLDWAIT: exec keeps the one and
				 * drops the other (flush_signal_handlers()). */
				mon_sigchld(SIG_IGN, 0, NULL);
				if (!ignoring) {
					ignoring = true;
					if (mon_reap(pidfd, WNOHANG | __WALL) >= 0)
						break;
				}
			}
			raw_close(image_rd);
			raw_close(creator_pidfd);
			raw_close(sigfd);
			image_rd = creator_pidfd = sigfd = -1;
			mon_take_over(sh, pidfd, handle_rd);
		}
	}
	mon_publish(&sh->done, 1);
	mon_exit(0);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Emulated CLONE_AUTOREAP: the registry of emulated children and the reaper.
 *
 * An emulated autoreap child is created with no exit signal (so the caller's
 * wait(-1) never sees it and no SIGCHLD arrives) and with a pidfd that the
 * library keeps. A reaper thread sleeps in poll() on an epoll of those
 * pidfds (why poll(): below) and reaps each child with waitid(P_PIDFD,
 * __WALL) the moment its pidfd polls readable. The thread exists only while some emulated child does: the first
 * child starts it, and it ends itself once the last one is reaped and no
 * new one came for REAPER_LINGER_MS (a burst of spawns, one after the other,
 * would otherwise start and end a thread per child).
 *
 * A thread of the caller's that asks for the exit status of a child that has
 * exited (tether_pidfd_get_info(), tether_child_wait()) reaps it itself
 * rather than waiting for the reaper to wake up: the reaper then only takes
 * the pidfd out of its set. Only the reaper removes pidfds from that set,
 * and a record in it is freed only by the reaper, so that an event it has
 * fetched never points at freed memory.
 *
 * The record keeps the exit status until tether_pidfd_close() (or until the
 * pidfd's number is reused by another emulated child), keyed by the pidfd's
 * open file (its pidfs inode, or kcmp() before pidfs), never by pid, so pid
 * reuse cannot confuse it. Kernels that keep the status on the pidfd after
 * the reap (6.15+) answer first; the record covers the others.
 *
 * Descriptors closed under us. A daemon closes every descriptor it did not
 * open itself (close_range(3, ~0U)) and then opens its own, which take the
 * same numbers. So no number of the library's is trusted alone:
 *  - the registry keeps a pipe (the reaper's wake-up) while it has any
 *    record or reaper. At each entry into the registry both ends are checked
 *    by identity (fstat(): every pipe has an inode of its own), and the
 *    reaper's epoll by kcmp(KCMP_EPOLL_TFD): it holds the pipe's read end,
 *    which no epoll of the application's does. A sweep of a range that holds
 *    them, or of every descriptor but the application's own, is noticed;
 *  - then every descriptor of every record is checked by identity (pipes by
 *    inode, pidfds by the pid /proc's fdinfo gives, which every kernel with
 *    pidfds has): what is still ours is kept, what is not is forgotten,
 *    never closed nor used (it may be the application's now), and what the
 *    reaper must watch is opened anew by pid. That is safe: a monitor, and a
 *    fork-like child, is our child without exit signal that only we reap (or
 *    a __WALL wait of the application's: pidfd_open() then fails with ESRCH,
 *    and nothing is done by pid), so its pid stays its own until we reap it.
 *    A record whose caller's pidfd went is the caller's no more, as after a
 *    release: its monitor is the reaper's to collect;
 *  - the reaper thread waits in poll() on the epoll and the pipe, not in
 *    epoll_wait(): a waiting poll() holds a reference to both files, so the
 *    sweep of the pipe's write end (the last writer gone) wakes it at once
 *    with POLLHUP, and it recovers by itself. A monitor released before the
 *    sweep is then reaped when it ends, even by an application that never
 *    calls the library again. epoll_wait() would hang for ever: an epoll
 *    holds no reference to what it watches (the swept pidfds and pipe leave
 *    its set without a word), and the close of its own number does not wake
 *    it. Nothing runs while nothing happens: no timer, no polling. A sweep
 *    between the check and poll() is what REAPER_FD_FLOOR is for.
 * Only the reaper wakes on its own. Records the reaper does not watch (a
 * spawned child whose handle is held) are checked at the next entry into the
 * registry: until then the monitor of a held program that ended after the
 * sweep stays a zombie, as it does anyway until tether_child_wait() or the
 * release; at the latest the kernel reaps it when this process ends. A close
 * of one of the library's descriptors that spares the pipe and the epoll (a
 * program closing a number it never opened, one at a time) is not noticed.
 */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <linux/kcmp.h>

#include "emulate.h"
#include "monitor.h"
#include "syscalls.h"

/* How long the reaper waits for a new child after the last one is reaped. */
#define REAPER_LINGER_MS 50

/* How long a release waits for the monitor of a program that has ended:
 * it exits right after its program, so only a stopped or starved monitor
 * takes longer, and then the reaper thread takes it over. */
#define RELEASE_MONITOR_WAIT_MS 1000

/*
 * The reaper's epoll and wake pipe are moved to numbers from here on (where
 * RLIMIT_NOFILE allows), above those an application's own open() and
 * socket() take first (the lowest free ones): the reaper checks them, lets
 * go of the lock and calls poll() on their numbers, and a sweep in between
 * then leaves those numbers closed (poll() answers POLLNVAL at once and the
 * reaper recovers) rather than the application's new files (poll() would
 * wait on those for ever). 64: a table of 128 slots (1 KiB), below the 256
 * from which each monitor shrinks its copy of the table (monitor_body.c),
 * which costs it a thread and some moves per spawn.
 */
#define REAPER_FD_FLOOR 64

/* epoll data: a record's address, with this bit for its monitor's pidfd. */
#define TAG_MONITOR ((uintptr_t)1)

struct child_record {
	int caller_fd; /* the pidfd the caller holds, -1 for none or released */
	int own_fd;    /* fork-like: our own reference to the same file, watched by
			* the reaper; spawned: one for kcmp() where there is no pidfs */
	int handle_fd; /* emulated autokill handle (a pipe's write end), or -1 */
	int hangup_fd; /* its read end: tells at our release whether ours was the last writer */
	bool exited;
	int status; /* wait status, once exited */
	bool spawned;  /* a spawned program, whose parent is its monitor */
	bool late;     /* traced: a late reaper thread waits for the tracer */
	bool in_epoll; /* own_fd is in the reaper's epoll set */
	bool mon_in_epoll; /* the monitor's pidfd is in the reaper's epoll set */
	struct monitor *mon; /* spawned: the program's monitor; fork-like autokill: its watcher */
	ino_t ino;  /* the pidfd's inode where pidfds have their own (pidfs) */
	pid_t pid;  /* the child's (spawned: the program's): its pidfds name it */
	dev_t handle_dev; /* the autokill handle's pipe, whose ends handle_fd and hangup_fd are */
	ino_t handle_ino;
	bool pinned; /* a recovery is working on it: not freed meanwhile */
	bool drop_wanted; /* ... and was dropped meanwhile */
	struct child_record *prev, *next; /* every record */
};

static struct registry {
	pthread_mutex_t lock;
	int epfd;            /* the reaper's epoll, -1 while there is none */
	int wake_rd, wake_wr; /* a pipe: wakes the reaper; its ends tell a sweep (see the top) */
	dev_t wake_dev;
	ino_t wake_ino;
	bool reaper_running; /* a reaper thread serves epfd */
	unsigned int reaper_gen; /* that thread's generation: an older one was retired */
	size_t watched;      /* pidfds in the epoll set, and late reaps under way */
	struct child_record **by_fd; /* indexed by caller_fd */
	size_t by_fd_len;
	struct child_record *all;
} reg = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.epfd = -1,
	.wake_rd = -1,
	.wake_wr = -1,
};

/* Signalled whenever a child is reaped: registry_exit_status() waits on it. */
static pthread_cond_t reaped = PTHREAD_COND_INITIALIZER;

/* epoll data for the wake pipe's read end: an address that is not a record. */
static char wake_tag;

void registry_lock(void)
{
	pthread_mutex_lock(&reg.lock);
}

void registry_unlock(void)
{
	pthread_mutex_unlock(&reg.lock);
}

/*
 * A new process (fork, or a clone3 child of ours) inherits the registry but
 * none of the children: forget them without free() or locks, which another
 * thread of the parent may have held at the fork. Our own references are
 * closed; autokill handles stay open, as inherited pidfds would natively
 * (each keeps its child alive until this process execs or exits).
 */
void registry_forget_in_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	for (struct child_record *rec = reg.all; rec; rec = rec->next) {
		raw_close(rec->own_fd);
		if (rec->mon)
			raw_close(monitor_pidfd(rec->mon));
	}
	raw_close(reg.epfd);
	raw_close(reg.wake_rd);
	raw_close(reg.wake_wr);
	reg.epfd = reg.wake_rd = reg.wake_wr = -1;
	reg.reaper_running = false; /* threads are not inherited */
	reg.watched = 0;
	reg.by_fd = NULL; /* the parent's memory: leaked on purpose, see above */
	reg.by_fd_len = 0;
	reg.all = NULL;
	memcpy(&reg.lock, &fresh, sizeof(fresh));
	memcpy(&reaped, &(pthread_cond_t)PTHREAD_COND_INITIALIZER, sizeof(reaped));
}

/*
 * Lock order: the registry's, then the monitors' image pipe's (a record is
 * freed, and its monitor with it, under the registry lock).
 */
static void atfork_prepare(void)
{
	registry_lock();
	monitor_atfork_prepare();
}

static void atfork_parent(void)
{
	monitor_atfork_parent();
	registry_unlock();
}

static void atfork_child(void)
{
	registry_forget_in_child();
	monitor_atfork_child();
}

/*
 * At load, not at a first call: a fork() from another thread must find
 * every lock of the library taken care of from the very first call on.
 */
__attribute__((constructor)) static void atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static int slot_reserve(int fd)
{
	if ((size_t)fd >= reg.by_fd_len) {
		size_t n = reg.by_fd_len ? reg.by_fd_len : 64;
		struct child_record **p;
		while (n <= (size_t)fd)
			n *= 2;
		p = realloc(reg.by_fd, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + reg.by_fd_len, 0, (n - reg.by_fd_len) * sizeof(*p));
		reg.by_fd = p;
		reg.by_fd_len = n;
	}
	return 0;
}

static void record_link(struct child_record *rec)
{
	rec->next = reg.all;
	if (reg.all)
		reg.all->prev = rec;
	reg.all = rec;
}

/* fd moved to REAPER_FD_FLOOR or above, close-on-exec; as it is where that cannot be. */
static int fd_move_up(int fd)
{
	int up = fcntl(fd, F_DUPFD_CLOEXEC, REAPER_FD_FLOOR);

	if (up < 0)
		return fd;
	close(fd);
	return up;
}

static bool fd_is_pipe(int fd, dev_t dev, ino_t ino)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_dev == dev && st.st_ino == ino;
}

/* A file's identity, by which its descriptor is known after a sweep: 0 or -errno. */
static int fd_identify(int fd, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* The wake pipe: made with the first record or reaper, non-blocking both ways. */
static int wake_ensure_locked(void)
{
	int p[2], r;

	if (reg.wake_rd >= 0)
		return 0;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return negative_errno();
	p[0] = fd_move_up(p[0]);
	p[1] = fd_move_up(p[1]);
	r = fd_identify(p[0], &reg.wake_dev, &reg.wake_ino);
	if (r < 0) {
		close(p[0]);
		close(p[1]);
		return r;
	}
	reg.wake_rd = p[0];
	reg.wake_wr = p[1];
	return 0;
}

/* ... and gone with the last of them: no descriptor stays while no emulated child lives. */
static void wake_release_locked(void)
{
	if (reg.all || reg.reaper_running || reg.epfd >= 0 || reg.wake_rd < 0)
		return;
	close(reg.wake_rd);
	close(reg.wake_wr);
	reg.wake_rd = reg.wake_wr = -1;
}

static void record_free(struct child_record *rec)
{
	if (rec->caller_fd >= 0 && (size_t)rec->caller_fd < reg.by_fd_len &&
	    reg.by_fd[rec->caller_fd] == rec)
		reg.by_fd[rec->caller_fd] = NULL;
	if (rec->prev)
		rec->prev->next = rec->next;
	else
		reg.all = rec->next;
	if (rec->next)
		rec->next->prev = rec->prev;
	safe_close(rec->own_fd);
	safe_close(rec->handle_fd);
	safe_close(rec->hangup_fd);
	monitor_free(rec->mon);
	free(rec);
	wake_release_locked();
}

/*
 * The record is no longer wanted. One still in the reaper's set stays until
 * the reaper has taken it out (it may hold an event for it already): only
 * the reaper frees those.
 */
static void record_drop(struct child_record *rec)
{
	if (rec->pinned)
		rec->drop_wanted = true;
	else if (!rec->in_epoll && !rec->mon_in_epoll && !rec->late)
		record_free(rec);
}

/* kcmp() of two things of this process: one getpid() (glibc caches no pid). */
static long kcmp_self(int type, unsigned long idx1, unsigned long idx2)
{
	pid_t self = getpid();

	return syscall(SYS_kcmp, self, self, type, idx1, idx2);
}

/* Whether fd is the very file this record refers to (not a reused number). */
static bool record_matches(const struct child_record *rec, int fd)
{
	struct stat st;

	if (rec->ino)
		return fstat(fd, &st) == 0 && st.st_ino == rec->ino;
	return rec->own_fd >= 0 && kcmp_self(KCMP_FILE, (unsigned long)fd, (unsigned long)rec->own_fd) == 0;
}

static struct child_record *record_find(int fd)
{
	struct child_record *rec;

	if (fd < 0 || (size_t)fd >= reg.by_fd_len)
		return NULL;
	rec = reg.by_fd[fd];
	return rec && record_matches(rec, fd) ? rec : NULL;
}

/* The child is reaped: keep what the caller may still ask for. Under the lock. */
static void reap_finish(struct child_record *rec, const siginfo_t *si)
{
	pthread_cond_broadcast(&reaped);
	/* The autokill handle stays open although the child is dead: the
	 * caller may hold its number (tether_autokill_fd()) until
	 * tether_pidfd_close(), and a number closed under it could be reused
	 * by any file. It has nothing left to kill. */
	rec->exited = true;
	/* si_code 0: someone reaped it with __WALL first; the status is not ours.
	 * Kept even where the kernel keeps it too: between our reap and the
	 * kernel publishing it, the kernel may answer ESRCH. */
	if (rec->caller_fd < 0 || si->si_code == 0) {
		record_drop(rec);
		return;
	}
	rec->status = status_from_siginfo(si);
	if (rec->ino && !rec->in_epoll) { /* the inode identifies the file; the fd is no longer needed */
		safe_close(rec->own_fd);
		rec->own_fd = -1;
	}
}

/* Make the reaper look at its state (it ends when nothing is left). */
static void reaper_wake_locked(void)
{
	if (reg.reaper_running && reg.wake_wr >= 0)
		(void)!write(reg.wake_wr, "", 1);
}

static void registry_enter(void);

/*
 * A traced child's exit polls readable before its real parent may reap it:
 * a short-lived thread waits for the tracer to let go, so that the reaper
 * neither blocks nor spins. Only ptrace takes this path.
 */
static void *late_reaper_main(void *arg)
{
	struct child_record *rec = arg;
	siginfo_t si = {};

	pidfd_reap(rec->own_fd, &si);
	registry_enter();
	rec->late = false;
	reap_finish(rec, &si);
	reg.watched--;
	reaper_wake_locked();
	registry_unlock();
	return NULL;
}

struct thread_start {
	void *(*fn)(void *);
	void *arg;
	sem_t started;
};

static void *thread_trampoline(void *p)
{
	struct thread_start *ts = p;
	void *(*fn)(void *) = ts->fn;
	void *arg = ts->arg;

	sem_post(&ts->started);
	return fn(arg);
}

/*
 * Start one of our threads, taking no signals (they are the application's),
 * and return only once it runs: until then glibc marks it "being created",
 * and a child cloned from this process in that window (tether_clone3 makes
 * them with clone3, not fork) would wait forever in setuid() and friends.
 * The stack is the C library's default size, which accounts for the
 * program's TLS (a fixed small stack fails or overflows with large TLS).
 */
static int thread_start_nosignals(void *(*fn)(void *), void *arg)
{
	struct thread_start ts = { .fn = fn, .arg = arg };
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all;
	int r;

	sigfillset(&all);
	sem_init(&ts.started, 0, 0);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setsigmask_np(&attr, &all);
	r = -pthread_create(&thread, &attr, thread_trampoline, &ts);
	pthread_attr_destroy(&attr);
	if (r == 0)
		while (sem_wait(&ts.started) < 0 && errno == EINTR)
			;
	sem_destroy(&ts.started);
	return r;
}

/*
 * A child's exit wakes its pidfd's pollers and the reaper together; the
 * kernel records the exit only at the reap, so a caller that reads
 * PIDFD_GET_INFO straight after POLLIN finds it only if the reaper ran
 * first. Give the reaper the best claim to a CPU that this process may give
 * (the highest nice value it is allowed: needs CAP_SYS_NICE or RLIMIT_NICE,
 * else nothing changes). Its work per wake-up is a few system calls.
 */
#define REAPER_NICE (-20)

static void reaper_prefer(void)
{
	int saved = errno;

	for (int nice = REAPER_NICE; nice < 0; nice += 5)
		if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) == 0)
			break;
	errno = saved;
}

/* A child's pidfd polled readable: reap it. Under the lock. */
static void reap_one(struct child_record *rec)
{
	siginfo_t si = {};

	epoll_ctl(reg.epfd, EPOLL_CTL_DEL, rec->own_fd, NULL);
	rec->in_epoll = false;
	if (rec->exited) {
		/* A caller's thread reaped it first (registry_exit_status()). */
		reg.watched--;
		if (rec->caller_fd < 0)
			record_drop(rec);
		else if (rec->ino)
			safe_close(rec->own_fd), rec->own_fd = -1;
		return;
	}
	if (sys_waitid(P_PIDFD, rec->own_fd, &si, WEXITED | __WALL | WNOHANG) == 0 && si.si_pid == 0) {
		rec->late = true;
		if (thread_start_nosignals(late_reaper_main, rec) == 0)
			return; /* exited but traced: still counted in watched until the late reap */
		rec->late = false;
	}
	reg.watched--;
	reap_finish(rec, &si);
}

/*
 * A monitor has ended (or, killed by us, ends now): reap it. One that ended
 * before its program or child did was killed: fail closed, the child dies
 * too (a spawned program has already had PR_SET_PDEATHSIG). Under the lock.
 */
static void monitor_gone_locked(struct child_record *rec)
{
	monitor_finish(rec->mon, -1);
	if (!monitor_done(rec->mon) && !rec->exited && rec->own_fd >= 0 && !rec->spawned)
		sys_pidfd_send_signal(rec->own_fd, SIGKILL, NULL, 0);
	if (rec->spawned) {
		rec->exited = true;
		pthread_cond_broadcast(&reaped);
	}
	if (rec->caller_fd < 0)
		record_drop(rec);
}

/* A monitor's pidfd polled readable. Under the lock. */
static void reap_monitor(struct child_record *rec)
{
	epoll_ctl(reg.epfd, EPOLL_CTL_DEL, monitor_pidfd(rec->mon), NULL);
	rec->mon_in_epoll = false;
	reg.watched--;
	monitor_gone_locked(rec);
}

/* The reaper's set is gone: no epoll, and no pipe if no record is left. */
static void reaper_end_locked(void)
{
	safe_close(reg.epfd);
	reg.epfd = -1;
	reg.reaper_running = false;
	wake_release_locked();
}

static bool registry_intact_locked(void);
static void registry_recover_locked(bool from_reaper);

static void *reaper_main(void *arg)
{
	const unsigned int gen = (unsigned int)(uintptr_t)arg;
	bool lingered = false;

	reaper_prefer();
	registry_lock();
	for (;;) {
		struct epoll_event ev[64];
		struct pollfd pfd[2];
		int n;

		if (reg.reaper_gen != gen)
			break; /* retired by another thread's recovery: nothing here is ours now */
		if (!registry_intact_locked())
			registry_recover_locked(true);
		if (reg.epfd < 0 || (reg.watched == 0 && lingered)) {
			/* None came: end, and let the next child start a new reaper. */
			reaper_end_locked();
			break;
		}
		/* Nothing left to reap: wait a little for the next child. */
		n = reg.watched == 0 ? REAPER_LINGER_MS : -1;
		pfd[0] = (struct pollfd){ .fd = reg.epfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = reg.wake_rd, .events = POLLIN };
		registry_unlock();
		/* poll(), not epoll_wait(): it holds both files while it waits (see the top). */
		n = poll(pfd, 2, n);
		registry_lock();
		lingered = n == 0;
		if (n <= 0 || reg.reaper_gen != gen || !registry_intact_locked())
			continue; /* recovered, or ended, at the top */
		if (pfd[1].revents & POLLIN) {
			char buf[64];
			while (read(reg.wake_rd, buf, sizeof(buf)) > 0)
				;
		}
		n = epoll_wait(reg.epfd, ev, ELEMENTSOF(ev), 0);
		for (int i = 0; i < n; i++) {
			uintptr_t d = (uintptr_t)ev[i].data.ptr;

			if (ev[i].data.ptr == &wake_tag)
				continue; /* drained above */
			if (d & TAG_MONITOR)
				reap_monitor((struct child_record *)(d & ~TAG_MONITOR));
			else
				reap_one(ev[i].data.ptr);
		}
	}
	registry_unlock();
	return NULL;
}

/* Watch fd (a pidfd) with the reaper, starting it if need be. Under the lock. */
static int reaper_watch_locked(int fd, void *data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = data };
	int r;

	if (reg.epfd < 0) {
		struct epoll_event wev = { .events = EPOLLIN, .data.ptr = &wake_tag };
		int epfd;

		r = wake_ensure_locked();
		if (r < 0)
			return r;
		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0)
			return negative_errno();
		epfd = fd_move_up(epfd);
		/* The wake pipe's read end in the set is also what tells the
		 * epoll from any other (registry_intact_locked()). */
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, reg.wake_rd, &wev) < 0) {
			r = negative_errno();
			close(epfd);
			return r;
		}
		reg.epfd = epfd;
	}
	if (epoll_ctl(reg.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = negative_errno();
		goto idle;
	}
	reg.watched++;
	if (!reg.reaper_running) {
		unsigned int gen = ++reg.reaper_gen;
		r = thread_start_nosignals(reaper_main, (void *)(uintptr_t)gen);
		if (r < 0) {
			epoll_ctl(reg.epfd, EPOLL_CTL_DEL, fd, NULL);
			reg.watched--;
			goto idle;
		}
		reg.reaper_running = true;
	}
	return 0;
idle:
	if (!reg.reaper_running)
		reaper_end_locked();
	return r;
}

/*
 * Whether the pidfd fd names process pid, by /proc's fdinfo ("Pid:", on
 * every kernel with pidfds). Only after a sweep: it reads a file. Without
 * /proc, or from another pid namespace's /proc, the answer is no: the
 * descriptor is then forgotten (left open), never closed or used.
 */
static bool pidfd_names(int fd, pid_t pid)
{
	return pidfd_fdinfo_names(fd, pid) == 1;
}

/* Without kcmp() (a seccomp filter may refuse it): whether /proc's fdinfo of
 * epfd lists the wake pipe's read end, by number, inode and our tag. */
static bool epoll_lists_wake(int epfd)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/thread-self/fdinfo/%d", epfd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long data;
		unsigned long ino;
		unsigned int events;
		int tfd;

		if (sscanf(line, "tfd: %d events: %x data: %llx %*s ino:%lx", &tfd, &events, &data, &ino) == 4)
			found = tfd == reg.wake_rd && data == (uintptr_t)&wake_tag && ino == (unsigned long)reg.wake_ino;
	}
	fclose(f);
	return found;
}

/* Whether epfd is our epoll: it holds our wake pipe's read end, under its number. */
static bool epoll_is_ours(int epfd)
{
	struct kcmp_epoll_slot slot = { .efd = (__u32)epfd, .tfd = (__u32)reg.wake_rd, .toff = 0 };
	long r = kcmp_self(KCMP_EPOLL_TFD, (unsigned long)reg.wake_rd, (unsigned long)&slot);

	if (r >= 0 || (errno != ENOSYS && errno != EPERM && errno != EACCES))
		return r == 0;
	return epoll_lists_wake(epfd);
}

/* Whether the registry's own descriptors are still its own (the cheap check at each entry). */
static bool registry_intact_locked(void)
{
	if (reg.wake_rd < 0)
		return true; /* no record, no reaper: nothing of ours to lose */
	return fd_is_pipe(reg.wake_rd, reg.wake_dev, reg.wake_ino) &&
	       fd_is_pipe(reg.wake_wr, reg.wake_dev, reg.wake_ino) && (reg.epfd < 0 || epoll_is_ours(reg.epfd));
}

/* A child the reaper cannot watch again must not become a zombie for good:
 * it is killed and reaped (fail closed). Under the lock. */
static void child_fail_closed_locked(struct child_record *rec, bool reaped_by_other)
{
	siginfo_t si = {};

	if (rec->own_fd >= 0)
		pidfd_kill_and_reap(rec->own_fd, &si);
	else if (!reaped_by_other)
		pid_kill_and_reap(rec->pid, &si); /* our child, not reaped: its pid is still its own */
	/* else a __WALL wait of the application's reaped it: si_code 0, the status is not ours */
	reap_finish(rec, &si);
}

/*
 * One record after a sweep (see the top). Under the lock, the reaper's set
 * being made anew (reg.watched counts what is watched again).
 */
static void record_recover_locked(struct child_record *rec)
{
	bool watch_child = rec->in_epoll && !rec->exited, watch_mon = rec->mon_in_epoll, caller_ok;

	rec->pinned = true;
	rec->drop_wanted = false;
	rec->in_epoll = rec->mon_in_epoll = false;
	if (rec->late)
		reg.watched++;
	if (rec->own_fd >= 0 && !pidfd_names(rec->own_fd, rec->pid))
		rec->own_fd = -1;
	if (rec->handle_fd >= 0 && !fd_is_pipe(rec->handle_fd, rec->handle_dev, rec->handle_ino))
		rec->handle_fd = -1;
	if (rec->hangup_fd >= 0 && !fd_is_pipe(rec->hangup_fd, rec->handle_dev, rec->handle_ino))
		rec->hangup_fd = -1;
	if (rec->mon && !pidfd_names(monitor_pidfd(rec->mon), monitor_pid(rec->mon)))
		monitor_pidfd_lost(rec->mon);

	caller_ok = rec->caller_fd >= 0 &&
		    (rec->ino ? record_matches(rec, rec->caller_fd) : pidfd_names(rec->caller_fd, rec->pid));
	if (rec->caller_fd >= 0 && !caller_ok) {
		/* The caller's pidfd went too: nobody can ask for this child any
		 * more. As after a release: a spawned program's monitor is the
		 * reaper's to collect when it ends. */
		if ((size_t)rec->caller_fd < reg.by_fd_len && reg.by_fd[rec->caller_fd] == rec)
			reg.by_fd[rec->caller_fd] = NULL;
		rec->caller_fd = -1;
		if (rec->spawned && !rec->exited && rec->mon)
			watch_mon = true;
	}
	if (!rec->ino && rec->own_fd < 0 && rec->caller_fd >= 0) /* kcmp()'s reference: the caller's file again */
		rec->own_fd = fcntl(rec->caller_fd, F_DUPFD_CLOEXEC, 3);

	if (watch_mon && rec->mon && !monitor_is_reaped(rec->mon) &&
	    reaper_watch_locked(monitor_pidfd(rec->mon), (void *)((uintptr_t)rec | TAG_MONITOR)) == 0)
		rec->mon_in_epoll = true;
	else if (watch_mon && rec->mon) {
		/* Not watched again (or reaped already): never a zombie monitor. */
		if (!monitor_is_reaped(rec->mon))
			sys_pidfd_send_signal(monitor_pidfd(rec->mon), SIGKILL, NULL, 0);
		monitor_gone_locked(rec);
	}
	if (watch_child) {
		bool reaped_by_other = false;
		if (rec->own_fd < 0) {
			rec->own_fd = sys_pidfd_open(rec->pid, 0);
			reaped_by_other = rec->own_fd < 0 && errno == ESRCH;
		}
		if (rec->own_fd >= 0 && reaper_watch_locked(rec->own_fd, rec) == 0)
			rec->in_epoll = true;
		else
			child_fail_closed_locked(rec, reaped_by_other);
	}
	rec->pinned = false;
	if (rec->drop_wanted || rec->caller_fd < 0)
		record_drop(rec);
}

/*
 * Some of the registry's descriptors were closed under it: keep what is
 * still ours, forget the rest, and watch again what was watched. From the
 * reaper thread, which carries on with the new set; from another thread,
 * the running reaper is retired (it may wait on the old files, which our
 * close of the pipe's write end, or the sweep's, wakes) and a new one starts.
 */
static void registry_recover_locked(bool from_reaper)
{
	bool rd = fd_is_pipe(reg.wake_rd, reg.wake_dev, reg.wake_ino);
	bool wr = fd_is_pipe(reg.wake_wr, reg.wake_dev, reg.wake_ino);
	struct child_record *rec, *next;

	if (reg.epfd >= 0 && rd && epoll_is_ours(reg.epfd))
		close(reg.epfd);
	if (rd)
		close(reg.wake_rd);
	if (wr)
		close(reg.wake_wr);
	reg.epfd = reg.wake_rd = reg.wake_wr = -1;
	reg.watched = 0;
	if (!from_reaper && reg.reaper_running) {
		reg.reaper_gen++;
		reg.reaper_running = false;
	}
	for (rec = reg.all; rec; rec = next) {
		next = rec->next;
		record_recover_locked(rec);
	}
	if (reg.all)
		(void)wake_ensure_locked(); /* without it, the next sweep goes unnoticed */
}

/* Under the lock, at every entry from a caller's thread: recover from a sweep first. */
static void registry_check_locked(void)
{
	if (!registry_intact_locked())
		registry_recover_locked(false);
}

static void registry_enter(void)
{
	registry_lock();
	registry_check_locked();
}

static int record_set_caller_fd(struct child_record *rec, int caller_fd, int id_fd)
{
	struct stat st;
	int r;

	rec->caller_fd = caller_fd;
	if (caller_fd < 0)
		return 0;
	r = slot_reserve(caller_fd);
	if (r < 0)
		return r;
	if (feature_has(TETHER_FEATURE_PIDFS) && fstat(id_fd, &st) == 0)
		rec->ino = st.st_ino;
	return 0;
}

static void record_index(struct child_record *rec)
{
	int fd = rec->caller_fd;

	if (fd < 0)
		return;
	/* A stale record under this number belongs to a pidfd closed with
	 * plain close(): the number is reused, so the record goes. */
	if (reg.by_fd[fd]) {
		struct child_record *old = reg.by_fd[fd];
		old->caller_fd = -1;
		if (old->exited)
			record_drop(old);
	}
	reg.by_fd[fd] = rec;
}

/* The autokill handle's pipe, by which its ends are known after a sweep. */
static int record_set_handle(struct child_record *rec, int handle_fd, int hangup_fd)
{
	rec->handle_fd = handle_fd;
	rec->hangup_fd = hangup_fd;
	return handle_fd < 0 ? 0 : fd_identify(handle_fd, &rec->handle_dev, &rec->handle_ino);
}

int registry_add_locked(pid_t pid, int caller_fd, int own_fd, int handle_fd, int hangup_fd, struct monitor *mon)
{
	struct child_record *rec;
	int r;

	registry_check_locked();
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->pid = pid;
	rec->own_fd = own_fd;
	r = record_set_handle(rec, handle_fd, hangup_fd);
	if (r < 0)
		goto fail;
	r = record_set_caller_fd(rec, caller_fd, own_fd);
	if (r < 0)
		goto fail;
	r = reaper_watch_locked(own_fd, rec);
	if (r < 0)
		goto fail;
	rec->in_epoll = true;
	if (mon) {
		/* The watcher too: if it is killed, the child must not live on. */
		r = reaper_watch_locked(monitor_pidfd(mon), (void *)((uintptr_t)rec | TAG_MONITOR));
		if (r < 0) {
			epoll_ctl(reg.epfd, EPOLL_CTL_DEL, own_fd, NULL);
			reg.watched--;
			goto fail;
		}
		rec->mon_in_epoll = true;
		rec->mon = mon;
	}
	record_link(rec);
	record_index(rec);
	return 0;
fail:
	free(rec); /* the fds stay the caller's on failure */
	wake_release_locked();
	return r;
}

int registry_add_spawned(pid_t pid, int caller_fd, int handle_fd, int hangup_fd, struct monitor *mon)
{
	struct child_record *rec;
	int r;

	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->spawned = true;
	rec->pid = pid;
	rec->own_fd = -1;
	registry_enter();
	r = record_set_caller_fd(rec, caller_fd, caller_fd);
	if (r == 0 && !rec->ino) {
		/* No pidfs: kcmp() needs a file of ours to compare with. */
		rec->own_fd = fcntl(caller_fd, F_DUPFD_CLOEXEC, 3);
		if (rec->own_fd < 0)
			r = negative_errno();
	}
	if (r == 0)
		r = record_set_handle(rec, handle_fd, hangup_fd);
	if (r == 0)
		r = wake_ensure_locked(); /* the sweep canary, while the record lives */
	if (r < 0) {
		safe_close(rec->own_fd);
		registry_unlock();
		free(rec);
		return r;
	}
	rec->mon = mon;
	record_link(rec);
	record_index(rec);
	registry_unlock();
	return 0;
}

/*
 * A spawned program's end, seen from a caller's thread: reap its monitor
 * (it exits right after the program) and take the status it recorded.
 * Under the lock. true once the monitor is reaped.
 */
static bool spawned_collect_locked(struct child_record *rec, int timeout_ms)
{
	int st;

	if (rec->exited)
		return true;
	if (rec->mon_in_epoll)
		return false; /* the reaper's now */
	if (monitor_is_tree(rec->mon) && monitor_status(rec->mon, &st) == 0) {
		/* A tree's monitor lives on after the root (tree.c): its status is there. */
		rec->status = st;
		rec->exited = true;
		pthread_cond_broadcast(&reaped);
		return true;
	}
	if (!monitor_finish(rec->mon, timeout_ms))
		return false;
	if (monitor_status(rec->mon, &st) == 0)
		rec->status = st;
	else
		rec->status = -1;
	rec->exited = true;
	pthread_cond_broadcast(&reaped);
	return true;
}

static bool pidfd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

void registry_spawned_ended(int pidfd)
{
	struct child_record *rec;

	registry_enter();
	rec = record_find(pidfd);
	if (rec && rec->spawned && !rec->exited && pidfd_readable(pidfd))
		spawned_collect_locked(rec, 0);
	registry_unlock();
}

int registry_exit_status(int pidfd, int *status)
{
	struct child_record *rec;
	int r = -ENOENT;

	registry_enter();
	rec = record_find(pidfd);
	if (rec && rec->spawned) {
		/* Ended: its monitor has the status (or has it soon: it reaps the
		 * program and exits). Kernels that keep the status answer before
		 * this is asked. */
		if (!rec->exited && pidfd_readable(pidfd) && !spawned_collect_locked(rec, 0) && !rec->mon_in_epoll &&
		    monitor_is_tree(rec->mon)) {
			/* A tree's monitor reaps the root at once and records its
			 * status, but lives on with the tree: wait for the status. */
			struct monitor *m = rec->mon;
			registry_unlock();
			monitor_wait_status(m, 5000);
			registry_enter();
			if ((rec = record_find(pidfd)) && rec->spawned)
				spawned_collect_locked(rec, 0);
		} else if (!rec->exited && pidfd_readable(pidfd) && !spawned_collect_locked(rec, 0) &&
			   !rec->mon_in_epoll) {
			/* Its monitor is on its way out: wait for it without the lock
			 * (a stopped monitor must not stop every other caller). */
			struct pollfd pfd = { .fd = monitor_pidfd(rec->mon), .events = POLLIN };
			registry_unlock();
			while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
				;
			registry_enter();
			if ((rec = record_find(pidfd)) && rec->spawned)
				spawned_collect_locked(rec, 0);
		}
		if (rec && rec->exited && rec->status >= 0) {
			*status = rec->status;
			r = 1;
		} else if (rec && rec->exited && !feature_has(TETHER_FEATURE_EXIT_INFO)) {
			/* Its monitor was killed before it could say (the program
			 * died with it, PR_SET_PDEATHSIG, and init reaped it): on a
			 * kernel that keeps no exit status, nobody has it now.
			 * Where the kernel keeps it, the caller asks the kernel
			 * (once init has reaped the program). */
			r = -ECHILD;
		}
		registry_unlock();
		return r;
	}
	if (rec && !rec->exited && !rec->late && rec->in_epoll) {
		/* Exited already? Then reap it here, not after a wake-up of the
		 * reaper's: the caller is waiting for it now. */
		siginfo_t si = {};
		if (sys_waitid(P_PIDFD, rec->own_fd, &si, WEXITED | WNOHANG | __WALL) == 0 && si.si_pid != 0)
			reap_finish(rec, &si); /* kept: the caller's pidfd names it */
	}
	if (rec && rec->exited) {
		*status = rec->status;
		r = 1;
	} else if (rec && rec->own_fd >= 0) {
		siginfo_t si = {};
		if (sys_waitid(P_PIDFD, rec->own_fd, &si, WEXITED | WNOWAIT | WNOHANG | __WALL) == 0 &&
		    si.si_pid != 0) {
			/* Exited, not yet reaped: natively it would be reaped already.
			 * The reaper is on its way (the pidfd is readable); wait for it,
			 * so that the kernel's own record, where it keeps one, is
			 * complete when the caller asks it next. A traced child waits
			 * for its tracer instead: its status is read, not waited for.
			 * Looked up afresh after each wake: the record may be gone. */
			*status = status_from_siginfo(&si);
			r = 0;
			while ((rec = record_find(pidfd)) && !rec->exited && !rec->late)
				pthread_cond_wait(&reaped, &reg.lock);
		}
	}
	registry_unlock();
	return r;
}

int registry_child_event(int pidfd, uint32_t *event)
{
	struct child_record *rec;
	int r = -ENOENT;

	registry_enter();
	rec = record_find(pidfd);
	if (rec && rec->spawned && rec->mon) {
		*event = monitor_take_event(rec->mon);
		r = 0;
	}
	registry_unlock();
	return r;
}

struct monitor *registry_tree_monitor(int pidfd)
{
	struct child_record *rec;
	struct monitor *m = NULL;

	registry_enter();
	rec = record_find(pidfd);
	if (rec && rec->spawned && monitor_is_tree(rec->mon))
		m = rec->mon;
	registry_unlock();
	return m;
}

int registry_autokill_fd(int pidfd)
{
	struct child_record *rec;
	int r;

	registry_enter();
	rec = record_find(pidfd);
	r = rec && rec->handle_fd >= 0 ? rec->handle_fd : -ENOENT;
	registry_unlock();
	return r;
}

/*
 * The caller's pidfd goes (number_ours), or its number was found to hold
 * another file by now (a descriptor sweep the registry had not seen yet):
 * then the number is never used, only the library's own descriptors.
 */
static int release_record(int pidfd, bool number_ours)
{
	struct child_record *rec;

	registry_enter();
	rec = record_find(pidfd);
	if (rec) {
		reg.by_fd[pidfd] = NULL;
		rec->caller_fd = -1;
		if (rec->handle_fd >= 0) {
			/* Our reference to the autokill file goes: if it was the
			 * last one, the monitor kills the child now. So do we, at
			 * once, where we can tell (no writer left on the pipe):
			 * the kill then waits for no other process, not even a
			 * monitor that is stopped or not yet scheduled. */
			struct pollfd hup = { .fd = rec->hangup_fd, .events = 0 };
			safe_close(rec->handle_fd);
			rec->handle_fd = -1;
			if (number_ours && rec->hangup_fd >= 0 && poll(&hup, 1, 0) == 1 && (hup.revents & POLLHUP) &&
			    !rec->exited)
				sys_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			safe_close(rec->hangup_fd);
			rec->hangup_fd = -1;
		}
		if (rec->spawned && rec->mon && monitor_is_tree(rec->mon) && !rec->mon_in_epoll &&
		    !monitor_is_reaped(rec->mon)) {
			/* A tree lives on without its handle (unless autokill ended
			 * it): its monitor is the reaper's to collect when it ends. */
			if (monitor_ended(rec->mon, 0))
				monitor_finish(rec->mon, -1), rec->exited = true;
			else if (reaper_watch_locked(monitor_pidfd(rec->mon), (void *)((uintptr_t)rec | TAG_MONITOR)) == 0)
				rec->mon_in_epoll = true;
			else
				monitor_free(rec->mon), rec->mon = NULL, rec->exited = true; /* fail closed */
		} else if (rec->spawned && !rec->exited && !rec->mon_in_epoll) {
			/* Its monitor ends after the program: reap it now if the
			 * program has ended (it follows at once), else the reaper
			 * will when it does. */
			bool ended = number_ours && pidfd_readable(pidfd);
			if (!(ended && spawned_collect_locked(rec, RELEASE_MONITOR_WAIT_MS)) &&
			    reaper_watch_locked(monitor_pidfd(rec->mon), (void *)((uintptr_t)rec | TAG_MONITOR)) == 0)
				rec->mon_in_epoll = true;
			else if (!rec->exited)
				monitor_free(rec->mon), rec->mon = NULL, rec->exited = true; /* fail closed */
		}
		if (rec->exited)
			record_drop(rec);
	}
	registry_unlock();
	return rec ? 0 : -ENOENT;
}

_public_ int tether_autokill_fd(int pidfd)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	int r = registry_autokill_fd(pidfd);

	/* Not an emulated child: natively the pidfd is the autokill file
	 * itself, if tether_clone3() made it so (not just any descriptor). */
	if (r == -ENOENT && native_autokill_has(pidfd))
		return pidfd;
	return r;
}

int registry_release(int pidfd)
{
	return release_record(pidfd, true);
}

/* A handle's pidfd whose number holds another file by now: what the library
 * keeps for it goes, as at its close, without touching the number. */
void pidfd_records_forget(int pidfd)
{
	release_record(pidfd, false);
	native_autokill_forget(pidfd);
}

_public_ int tether_pidfd_close(int pidfd)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	if (pidfd < 0)
		return -EBADF;
	registry_release(pidfd);
	native_autokill_forget(pidfd);
	return close(pidfd) < 0 ? negative_errno() : 0;
}

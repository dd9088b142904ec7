/* SPDX-License-Identifier: MIT */
/*
 * Emulated CLONE_AUTOREAP and CLONE_PIDFD_AUTOKILL for spawned children: a
 * monitor process per child.
 *
 * execve() sets a process's exit signal back to SIGCHLD (fs/exec.c), so a
 * spawned child created with exit_signal 0 would become an ordinary child
 * of the caller the moment it execs: SIGCHLD, wait(-1) and all. So the
 * caller does not create the program itself. It creates a monitor:
 *
 *  - clone3(CLONE_VM | CLONE_PIDFD, exit_signal 0) on a small stack of its
 *    own: the monitor shares the caller's memory (nothing is copied, and it
 *    starts as fast in a large process as in a small one), is invisible to
 *    wait(-1), waitpid(-1) and waitid(P_ALL) without __WALL, sends no
 *    SIGCHLD, and never execs while the caller's image lives, so it stays
 *    so; every signal is blocked in it (a service stop's SIGTERM to every
 *    process of a cgroup is for the program, not for it);
 *  - the monitor creates the program vfork-style, exactly as tether_spawn
 *    does without it, and is its parent. Once the caller holds its own
 *    pidfd of the program, the monitor gives SIGCHLD SA_NOCLDWAIT where the
 *    kernel keeps exit statuses after the reap (6.15+), so that the *kernel*
 *    reaps the program the moment it exits (kernel/signal.c,
 *    do_notify_parent(): the path CLONE_AUTOREAP takes), with the native
 *    timing for PIDFD_GET_INFO. Elsewhere it reaps the program with
 *    waitid() and writes the status into the page it shares with the
 *    caller, where tether_child_wait() and tether_pidfd_get_info() read it;
 *  - stops: the kernel reports the program's stops and continues to its
 *    parent, the monitor (do_notify_parent_cldstop(): a SIGCHLD, which
 *    SIG_IGN would drop but SA_NOCLDWAIT keeps). The monitor reads it from
 *    a signalfd, takes the waitid(WSTOPPED | WCONTINUED) report, leaves it
 *    in the shared page and sends the caller a SIGCHLD, as the kernel would
 *    a parent; tether_child_event() takes it;
 *  - autokill: the handle is the write end of a pipe, the monitor holds the
 *    read end and the program's pidfd, and kills the program when the read
 *    end hangs up (the last reference to the handle is gone: dup(), fork()
 *    and SCM_RIGHTS share it, as they share the kernel's file). The program
 *    has PR_SET_PDEATHSIG(SIGKILL) relative to the monitor (a process of one
 *    thread: the "parent thread" trap of PDEATHSIG does not apply), so a
 *    killed monitor, or the creator and the monitor killed together, kill
 *    the program: it fails closed;
 *  - when the caller's image is gone (it exited, or exec'd: the write end of
 *    an O_CLOEXEC pipe the library holds hangs up, and kcmp(KCMP_VM) says
 *    that the creator no longer runs in this memory), the monitor execs a
 *    small embedded program (monitor_main.c) that carries on watching, so
 *    that no memory of a dead image stays pinned.
 *
 * The monitor ends right after its program; the caller reaps it (it is the
 * caller's child, with no exit signal) in tether_child_wait() or at the
 * release, or hands it to the reaper thread (emulate_registry.c) if the
 * program still runs when the handle is released.
 *
 * Fork-like tether_clone3() children with CLONE_PIDFD_AUTOKILL get a monitor
 * in watch mode: the child is the caller's (it runs the caller's code), and
 * the monitor only holds the handle's read end and a pidfd of the child.
 *
 * The page shared with the monitor is MAP_SHARED, so that the same protocol
 * works where CLONE_VM is refused (valgrind) and the monitor is a copy.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <linux/futex.h>
#include <linux/kcmp.h>

#include "emulate.h"
#include "monitor.h"
#include "spawn.h"
#include "syscalls.h"

/* How long the caller sleeps at a time while its monitor starts, before it
 * looks whether the monitor died: only a killed monitor ever needs that. */
#define MONITOR_START_RECHECK_NS (20 * 1000 * 1000)
/* How long a monitor whose descriptor table is gone may take to be seen
 * ended: the rest of its do_exit(), microseconds; generous for TCG VMs. */
#define MONITOR_EXIT_WAIT_MS 2000
/* How long a tree's monitor may take to kill its tree and end before the
 * caller kills it all the same (monitor_tree_end_unwatched()). */
#define MONITOR_TREE_END_WAIT_MS 10000


struct monitor {
	void *map;  /* guard page, stack, shared page */
	struct monitor_shared *sh;
	int pidfd;  /* the monitor's, in the caller's table */
	pid_t pid;
	bool reaped;
	int tree_evfd; /* tree mode: wakes the monitor for a command, else -1 */
	struct monitor_tree *tree; /* tree mode only: 56 bytes fewer for every other child */
};

/* What only a tree's monitor needs. */
struct monitor_tree {
	pthread_mutex_t lock; /* one command at a time */
	dev_t evfd_dev;       /* the command eventfd's inode (every eventfd shares */
	ino_t evfd_ino;       /* one): a file on its number with another is not ours */
};

/* The embedded monitor program (monitor_main.c). */
extern const unsigned char tether_monitor_blob[], tether_monitor_blob_end[];

static size_t page_size(void)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

static size_t map_size(void)
{
	return page_size() + MONITOR_STACK_SIZE + page_size();
}

/* Where the monitor's stack starts (its lowest address) and how long it is:
 * up to the sharer's stack, below the shared page (monitor.h). */
static char *stack_base(void *map)
{
	return (char *)map + page_size();
}

static size_t stack_len(void)
{
	return map_size() - page_size() - MONITOR_SHARED_SIZE - MONITOR_SHARER_STACK_SIZE;
}

static struct monitor_shared *shared_of(void *map)
{
	return (struct monitor_shared *)((char *)map + map_size() - MONITOR_SHARED_SIZE);
}

/* One mapping kept for the next monitor, as tether_spawn keeps a stack. */
static void *map_cache;

static void *map_get(void)
{
	void *p = __atomic_exchange_n(&map_cache, NULL, __ATOMIC_ACQUIRE);

	if (p) {
		memset(shared_of(p), 0, MONITOR_SHARED_SIZE);
		return p;
	}
	p = mmap(NULL, map_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, page_size(), PROT_NONE) < 0) { /* a stack overflow faults */
		munmap(p, map_size());
		return NULL;
	}
	return p;
}

static void map_put(void *p)
{
	void *expected = NULL;

	if (!__atomic_compare_exchange_n(&map_cache, &expected, p, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		munmap(p, map_size());
}

/*
 * The creator-image pipe: the library holds both ends (O_CLOEXEC); every
 * monitor holds a copy of the read end, which hangs up when the process
 * exits or execs. Checked by identity before each use: a program that closed
 * it (a descriptor sweep) gets a new one, and its number is never touched
 * again (it may be the program's own descriptor by now).
 */
static struct {
	pthread_mutex_t lock;
	int rd, wr;
	dev_t dev;
	ino_t ino;
	size_t monitors; /* monitors alive: the pipe exists only while there are */
} image = { .lock = PTHREAD_MUTEX_INITIALIZER, .rd = -1, .wr = -1 };

static bool fd_is(int fd, dev_t dev, ino_t ino)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

static int image_read_end_locked(void)
{
	struct stat st;
	int fds[2];

	if (fd_is(image.rd, image.dev, image.ino))
		return image.rd;
	/* Never made, or closed under us: the old numbers are not ours now. */
	image.rd = image.wr = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return negative_errno();
	if (fstat(fds[0], &st) < 0) {
		int r = negative_errno();
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	image.rd = fds[0];
	image.wr = fds[1];
	image.dev = st.st_dev;
	image.ino = st.st_ino;
	return image.rd;
}

/* One monitor fewer: the last one takes the pipe with it (no descriptor of
 * the library stays open while no emulated child lives). */
static void image_put(void)
{
	pthread_mutex_lock(&image.lock);
	if (image.monitors > 0 && --image.monitors == 0 && fd_is(image.rd, image.dev, image.ino)) {
		close(image.rd);
		close(image.wr);
		image.rd = image.wr = -1;
	}
	pthread_mutex_unlock(&image.lock);
}

void monitor_atfork_prepare(void)
{
	pthread_mutex_lock(&image.lock);
}

void monitor_atfork_parent(void)
{
	pthread_mutex_unlock(&image.lock);
}

/* A fork's child is another image: it must not keep this one's monitors
 * pinned to our memory, nor use our pipe as its own, nor our cached map:
 * that is MAP_SHARED, so the child's next monitor would run its stack and
 * keep its state in the very page our next monitor uses (a monitor of ours
 * then read another's state, or ran on a stack another was using). Only
 * raw system calls: this also runs in a fork-like child of tether_clone3(). */
void monitor_atfork_child(void)
{
	void *cached = map_cache;

	map_cache = NULL;
	if (cached)
		raw_syscall(SYS_munmap, (long)cached, (long)map_size(), 0);
	if (fd_is(image.rd, image.dev, image.ino)) {
		raw_close(image.rd);
		raw_close(image.wr);
	}
	image.rd = image.wr = -1;
	image.monitors = 0;
	memcpy(&image.lock, &(pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER, sizeof(image.lock));
}

static long futex_wait(uint32_t *word, uint32_t val, long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };

	return syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1 << 30, NULL, NULL, 0);
}

/* Reap the monitor (it has exited, or is about to). */
static void monitor_reap_blocking(struct monitor *m)
{
	siginfo_t si;

	if (m->reaped)
		return;
	pidfd_reap(m->pidfd, &si);
	m->reaped = true;
}

/*
 * Whether our tree command eventfd is still the file the monitor holds:
 * every eventfd has the same inode, so kcmp(KCMP_FILE) against the
 * monitor's own reference (its number is in the shared page). 1: ours; 0:
 * not (closed, or another file on its number after a descriptor sweep);
 * -1: unknown (the monitor is gone, or kcmp() is refused).
 */
static int tree_evfd_ours(const struct monitor *m)
{
	struct stat st;
	long r;

	if (m->tree_evfd < 0)
		return 0;
	r = syscall(SYS_kcmp, getpid(), m->pid, KCMP_FILE, m->tree_evfd, m->sh->tree_evfd);
	if (r == 0)
		return 1;
	if (r > 0)
		return 0;
	/*
	 * EBADF: our number is closed, or the monitor's reference is gone. It
	 * never closes it while it runs; its descriptor table goes in do_exit()
	 * (exit_files()), before its pidfd reports the exit: a tree that ends
	 * on its own is in that state for a moment, and a zombie monitor stays
	 * in it. Then (and where kcmp() is refused) all that can be told is
	 * whether our number holds a file of another inode.
	 */
	if (fstat(m->tree_evfd, &st) < 0)
		return 0;
	if (st.st_dev != m->tree->evfd_dev || st.st_ino != m->tree->evfd_ino)
		return 0;
	return -1;
}

void monitor_free(struct monitor *m)
{
	int evfd_ours;

	if (!m)
		return;
	/* Asked while the monitor lives: kcmp() cannot compare with a reaped one. */
	evfd_ours = tree_evfd_ours(m);
	if (!m->reaped) {
		/* Never a monitor left unreaped: it must not outlive its record. */
		sys_pidfd_send_signal(m->pidfd, SIGKILL, NULL, 0);
		monitor_reap_blocking(m);
	}
	safe_close(m->pidfd);
	if (evfd_ours != 0)
		close(m->tree_evfd); /* not a number known to be the application's by now */
	if (m->tree) {
		pthread_mutex_destroy(&m->tree->lock);
		free(m->tree);
	}
	map_put(m->map);
	free(m);
	image_put();
}

/* Wait for the monitor's start-up; its state. */
static uint32_t monitor_await_start(struct monitor *m)
{
	for (;;) {
		uint32_t s = __atomic_load_n(&m->sh->state, __ATOMIC_ACQUIRE);

		if (s != MONITOR_PENDING)
			return s;
		futex_wait(&m->sh->state, MONITOR_PENDING, MONITOR_START_RECHECK_NS);
		if (__atomic_load_n(&m->sh->state, __ATOMIC_ACQUIRE) == MONITOR_PENDING && pidfd_exited(m->pidfd, 0)) {
			/* Its state is read again only now that it has exited: it may
			 * have said READY and ended (its program too) in between. */
			s = __atomic_load_n(&m->sh->state, __ATOMIC_ACQUIRE);
			if (s != MONITOR_PENDING)
				return s;
			/* Killed before it said anything. */
			m->sh->err = EIO;
			return MONITOR_FAILED;
		}
	}
}

/*
 * MONITOR_EXEC_WAKES_CREATOR: wait until the program has exec'd or exited
 * (the kernel clears program_tid then, and wakes us), or the monitor said
 * it made none. A monitor killed before it made the program says nothing:
 * its end is looked for now and then, as in monitor_await_start().
 */
static void monitor_await_exec(struct monitor *m)
{
	while (__atomic_load_n(&m->sh->program_tid, __ATOMIC_ACQUIRE) != 0) {
		futex_wait(&m->sh->program_tid, 1, MONITOR_START_RECHECK_NS);
		if (__atomic_load_n(&m->sh->program_tid, __ATOMIC_ACQUIRE) != 0 && pidfd_exited(m->pidfd, 0) &&
		    __atomic_load_n(&m->sh->state, __ATOMIC_ACQUIRE) != MONITOR_READY)
			return; /* monitor_await_start() tells what happened */
	}
}

/*
 * CLONE_VM refused: from then on the monitor is a copy. valgrind does not
 * refuse it, it ends the whole process ("Unsupported clone() flags"), so
 * under valgrind the copy is used from the start.
 */
static bool clone_vm_refused;
static pthread_once_t clone_vm_once = PTHREAD_ONCE_INIT;

static void clone_vm_check(void)
{
	/* valgrind puts its own libraries into the program's LD_PRELOAD. */
	const char *preload = getenv("LD_PRELOAD");

	if (preload && strstr(preload, "vgpreload"))
		__atomic_store_n(&clone_vm_refused, true, __ATOMIC_RELAXED);
}

static int monitor_start(struct monitor *m, bool clear_sighand)
{
	/*
	 * A watching monitor needs nothing of our memory but the shared page,
	 * so it is a copy: before Linux 5.16 a core dump kills every process
	 * sharing the dumping process's memory (zap_threads()), and a crashing
	 * creator would take its watchers, and with them the autokill of its
	 * fork-like children, along.
	 */
	bool vm = (pthread_once(&clone_vm_once, clone_vm_check), !__atomic_load_n(&clone_vm_refused, __ATOMIC_RELAXED)) &&
		  m->sh->mode == MONITOR_SPAWN;
	struct clone_args a = {
		/* A monitor that shares our memory shares our descriptor table
		 * until it has made the program: the program's pidfd is then ours
		 * from the start (monitor_body.c). A copy cannot (valgrind refuses
		 * CLONE_FILES without CLONE_VM). */
		.flags = (vm ? CLONE_VM | CLONE_FILES : 0) | CLONE_PIDFD | (clear_sighand ? CLONE_CLEAR_SIGHAND : 0),
		.pidfd = (uintptr_t)&m->pidfd,
		.exit_signal = 0, /* invisible to wait(-1), no SIGCHLD */
		.stack = (uintptr_t)stack_base(m->map),
		.stack_size = stack_len(),
	};
	uint64_t all = ~0ULL, saved;
	long pid;

	if (vm)
		m->sh->flags |= MONITOR_SHARED_VM | (m->sh->mode == MONITOR_SPAWN ? MONITOR_SHARED_FILES : 0);
	else
		m->sh->flags &= ~(MONITOR_SHARED_VM | MONITOR_SHARED_FILES);
	/* The program's exec wakes us itself where the monitor makes it with
	 * clone3() in our memory (monitor_body.c, mon_make_program()). */
	if ((m->sh->flags & (MONITOR_SHARED_FILES | MONITOR_CLONE3)) == (MONITOR_SHARED_FILES | MONITOR_CLONE3)) {
		m->sh->flags |= MONITOR_EXEC_WAKES_CREATOR;
		m->sh->program_tid = 1;
	} else {
		m->sh->flags &= ~MONITOR_EXEC_WAKES_CREATOR;
	}
	if (!(m->sh->flags & MONITOR_SHARED_FILES))
		a.flags &= ~(uint64_t)CLONE_FILES;
	/*
	 * The monitor starts on our CPU alone. We sleep while it makes the
	 * program and the program execs: on an idle second CPU the scheduler
	 * would place it there (fork balancing), and waking an idle CPU, above
	 * all a virtual one, costs more than the whole monitor's work. The
	 * monitor takes our affinity back just before it makes the program,
	 * which inherits it (monitor_body.c): the program may start on another
	 * CPU while the monitor finishes its own start on ours.
	 */
	cpu_set_t one;
	int cpu = -1;
	m->sh->cpu_mask_len = 0;
	if (m->sh->mode == MONITOR_SPAWN && sizeof(m->sh->cpu_mask) >= sizeof(cpu_set_t)) {
		long n = syscall(SYS_sched_getaffinity, 0, sizeof(cpu_set_t), m->sh->cpu_mask);
		cpu = sched_getcpu();
		if (n > 0 && cpu >= 0 && cpu < CPU_SETSIZE &&
		    CPU_COUNT_S((size_t)n, (cpu_set_t *)m->sh->cpu_mask) > 1) {
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			if (sched_setaffinity(0, sizeof(one), &one) == 0)
				m->sh->cpu_mask_len = (uint32_t)n;
		}
	}
	/* No handler of the caller's may run in the monitor: signals stay
	 * blocked in it for good (its mask is the one it is created with). */
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &saved, sizeof(all));
	if (feature_has(TETHER_FEATURE_CLONE3)) {
		pid = spawn_clone3(&a, CLONE_ARGS_SIZE_VER2, monitor_main, m->sh);
		if (pid == -EINVAL && clear_sighand) {
			a.flags &= ~(uint64_t)CLONE_CLEAR_SIGHAND;
			pid = spawn_clone3(&a, CLONE_ARGS_SIZE_VER2, monitor_main, m->sh);
		}
	} else {
		pid = spawn_clone((unsigned long)a.flags & ~(unsigned long)CLONE_CLEAR_SIGHAND,
				  stack_base(m->map) + stack_len(), &m->pidfd, monitor_main, m->sh);
	}
	if (pid == -EINVAL && vm) {
		__atomic_store_n(&clone_vm_refused, true, __ATOMIC_RELAXED);
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved, NULL, sizeof(saved));
		return monitor_start(m, clear_sighand);
	}
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved, NULL, sizeof(saved));
	if (m->sh->cpu_mask_len)
		syscall(SYS_sched_setaffinity, 0, m->sh->cpu_mask_len, m->sh->cpu_mask);
	if (pid < 0)
		return (int)pid;
	m->pid = (pid_t)pid;
	return 0;
}

static struct monitor *monitor_new(uint32_t mode, int handle_rd, uint64_t flags, int *err)
{
	struct monitor *m = calloc(1, sizeof(*m));
	size_t len = (size_t)(tether_monitor_blob_end - tether_monitor_blob);
	int image_rd;

	if (!m) {
		*err = -ENOMEM;
		return NULL;
	}
	m->pidfd = -1;
	m->tree_evfd = -1;
	m->map = map_get();
	if (!m->map) {
		*err = negative_errno();
		free(m);
		return NULL;
	}
	m->sh = shared_of(m->map);
	pthread_mutex_lock(&image.lock);
	image_rd = image_read_end_locked();
	image.monitors += image_rd >= 0;
	pthread_mutex_unlock(&image.lock);
	if (image_rd < 0) {
		*err = image_rd;
		map_put(m->map);
		free(m);
		return NULL;
	}
	*m->sh = (struct monitor_shared){
		.state = MONITOR_PENDING,
		.mode = mode,
		.flags = (flags & CLONE_PIDFD_AUTOKILL ? MONITOR_AUTOKILL : 0) |
			 (feature_has(TETHER_FEATURE_EXIT_INFO) ? MONITOR_IGNORE_SIGCHLD : 0) |
			 (feature_has(TETHER_FEATURE_CLONE3) ? MONITOR_CLONE3 : 0) | (len ? MONITOR_HAVE_PROGRAM : 0),
		.handle_rd = handle_rd,
		.image_rd = image_rd,
		.creator_pid = getpid(),
		.exit_signal = SIGCHLD,
		.program = tether_monitor_blob,
		.program_len = len,
	};
	return m;
}

int monitor_spawn(struct monitor **out, struct spawn_child_args *args, void *stack, size_t stack_size,
		  uint64_t clone_flags, uint64_t cgroup, bool clear_sighand, int handle_rd, uint64_t flags,
		  const struct tree_setup *tree, int *pidfd, pid_t *pid, int *stage)
{
	struct monitor *m;
	uint32_t state;
	int r, fd;

	*stage = TETHER_SPAWN_STAGE_PARENT;
	m = monitor_new(MONITOR_SPAWN, handle_rd, flags, &r);
	if (!m)
		return r;
	if (tree) {
		struct stat st;

		m->tree = malloc(sizeof(*m->tree));
		if (m->tree)
			pthread_mutex_init(&m->tree->lock, NULL);
		m->tree_evfd = m->tree ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
		if (m->tree_evfd < 0 || fstat(m->tree_evfd, &st) < 0) {
			r = m->tree ? negative_errno() : -ENOMEM;
			m->reaped = true;
			monitor_free(m);
			return r;
		}
		m->tree->evfd_dev = st.st_dev;
		m->tree->evfd_ino = st.st_ino;
		m->sh->flags |= MONITOR_TREE;
		m->sh->flags &= ~(uint32_t)MONITOR_IGNORE_SIGCHLD; /* it reaps, and so records the root's status */
		m->sh->tree_evfd = m->tree_evfd;
		m->sh->cg_dir = m->sh->cg_parent = -1;
		m->sh->cg_usage_usec = m->sh->cg_memory_peak = m->sh->cg_pids_peak = -1;
		if (tree->cg_dir >= 0) {
			m->sh->flags |= MONITOR_TREE_CGROUP;
			m->sh->cg_dir = tree->cg_dir;
			m->sh->cg_parent = tree->cg_parent;
			snprintf(m->sh->cg_name, sizeof(m->sh->cg_name), "%s", tree->cg_name);
		}
	}
	m->sh->args = args;
	m->sh->stack = stack;
	m->sh->stack_size = stack_size;
	m->sh->clone_flags = clone_flags;
	m->sh->cgroup = cgroup;
	m->sh->flags |= clear_sighand ? MONITOR_CLEAR_SIGHAND : 0;
	r = monitor_start(m, clear_sighand);
	if (r < 0) {
		m->reaped = true; /* never made */
		monitor_free(m);
		return r;
	}
	if (m->sh->flags & MONITOR_EXEC_WAKES_CREATOR)
		monitor_await_exec(m);
	state = monitor_await_start(m);
	if (state == MONITOR_READY && (m->sh->flags & MONITOR_EXEC_WAKES_CREATOR) && args->err) {
		/* The program could not be set up or exec'd: it has exited (its
		 * monitor sees that, and ends). No trace of it stays ours. */
		r = -args->err;
		*stage = args->stage;
		close(m->sh->pidfd);
		monitor_free(m);
		return r;
	}
	if (state != MONITOR_READY) {
		r = -(m->sh->err > 0 ? m->sh->err : EIO);
		if (m->sh->stage)
			*stage = m->sh->stage;
		monitor_reap_blocking(m);
		monitor_free(m);
		return r;
	}
	if (m->sh->flags & MONITOR_SHARED_FILES) {
		/* Made in our descriptor table by the monitor's clone. */
		*pidfd = m->sh->pidfd;
		*pid = m->sh->pid;
		*out = m;
		return 0;
	}
	/* Our own pidfd of the program: it cannot have been reaped (its parent,
	 * the monitor, neither ignores SIGCHLD nor waits until we answer). */
	fd = sys_pidfd_open(m->sh->pid, 0);
	if (fd < 0) {
		r = negative_errno();
		__atomic_store_n(&m->sh->go, MONITOR_GO_KILL, __ATOMIC_RELEASE);
		futex_wake(&m->sh->go);
		monitor_reap_blocking(m);
		monitor_free(m);
		*stage = TETHER_SPAWN_STAGE_PARENT;
		return r;
	}
	__atomic_store_n(&m->sh->go, MONITOR_GO_RUN, __ATOMIC_RELEASE);
	futex_wake(&m->sh->go);
	*pidfd = fd;
	*pid = m->sh->pid;
	*out = m;
	return 0;
}

int monitor_watch(struct monitor **out, pid_t pid, int handle_rd, uint64_t flags)
{
	struct monitor *m;
	int r;

	m = monitor_new(MONITOR_WATCH, handle_rd, flags, &r);
	if (!m)
		return r;
	m->sh->pid = pid;
	r = monitor_start(m, true);
	if (r < 0) {
		m->reaped = true;
		monitor_free(m);
		return r;
	}
	if (monitor_await_start(m) != MONITOR_READY) {
		r = -(m->sh->err > 0 ? m->sh->err : EIO);
		monitor_reap_blocking(m);
		monitor_free(m);
		return r;
	}
	*out = m;
	return 0;
}

int monitor_pidfd(const struct monitor *m)
{
	return m->pidfd;
}

/*
 * A tree's monitor that we are about to kill for want of a pidfd: the tree
 * must not outlive it (its members would go to init, unwatched). Ask it to
 * kill the tree and end: tree_end in the shared page, and a SIGCHLD (blocked
 * in it, read from its signalfd; by pid: it is our child without exit
 * signal, not reaped, so the pid is its own) to wake it; a monitor without a
 * signalfd looks every 50 ms. Bounded: after MONITOR_TREE_END_WAIT_MS the
 * caller kills it all the same.
 */
static void monitor_tree_end_unwatched(struct monitor *m)
{
	long long left_ns = (long long)MONITOR_TREE_END_WAIT_MS * 1000000;

	__atomic_store_n(&m->sh->tree_end, 1, __ATOMIC_RELEASE);
	kill(m->pid, SIGCHLD);
	while (!__atomic_load_n(&m->sh->done, __ATOMIC_ACQUIRE) && left_ns > 0) {
		futex_wait(&m->sh->done, 0, MONITOR_START_RECHECK_NS);
		left_ns -= MONITOR_START_RECHECK_NS;
	}
}

/*
 * The monitor's pidfd was closed under the library (a descriptor sweep): its
 * number may be the application's by now and is never used again. A monitor
 * not reaped yet gets a fresh pidfd, opened by pid: it is our child without
 * exit signal, which only a __WALL wait of the application's could reap, so
 * its pid is still its own (ESRCH: such a wait reaped it). Where no pidfd
 * can be had, it is killed (its program dies with it, a tree's whole tree
 * first: fail closed) and reaped by pid.
 */
void monitor_pidfd_lost(struct monitor *m)
{
	int fd;

	m->pidfd = -1;
	if (m->reaped)
		return;
	fd = sys_pidfd_open(m->pid, 0);
	if (fd >= 0) {
		m->pidfd = fd;
		return;
	}
	if (errno != ESRCH) {
		if (m->tree)
			monitor_tree_end_unwatched(m);
		pid_kill_and_reap(m->pid, NULL);
	}
	m->reaped = true;
}


/*
 * The program has ended: wait (at most timeout_ms, < 0 forever) for the
 * monitor to follow, and reap it. 1: reaped; 0: not yet.
 */
int monitor_finish(struct monitor *m, int timeout_ms)
{
	if (m->reaped)
		return 1;
	if (!pidfd_exited(m->pidfd, timeout_ms))
		return 0;
	monitor_reap_blocking(m);
	return 1;
}



/*
 * Wait at most timeout_ms until the monitor has recorded the program's
 * status (a futex wake when it has), or has ended. true once recorded.
 */
bool monitor_wait_status(struct monitor *m, int timeout_ms)
{
	long long left_ns = (long long)timeout_ms * 1000000;

	while (!__atomic_load_n(&m->sh->status_valid, __ATOMIC_ACQUIRE)) {
		if (monitor_ended(m, 0) || left_ns <= 0)
			return __atomic_load_n(&m->sh->status_valid, __ATOMIC_ACQUIRE) != 0;
		/* Bounded: the monitor ending without a word wakes nobody. */
		futex_wait(&m->sh->status_valid, 0, MONITOR_START_RECHECK_NS);
		left_ns -= MONITOR_START_RECHECK_NS;
	}
	return true;
}

/* The program's wait status as the monitor recorded it: 0, or -ENODATA. */
int monitor_status(const struct monitor *m, int *status)
{
	if (!__atomic_load_n(&m->sh->status_valid, __ATOMIC_ACQUIRE))
		return -ENODATA;
	*status = m->sh->status;
	return 0;
}

/* The program's latest stop or continue that nobody took yet (0: none):
 * taking it clears it, so each report goes to one caller. */
uint32_t monitor_take_event(struct monitor *m)
{
	return __atomic_exchange_n(&m->sh->event, 0, __ATOMIC_ACQ_REL);
}

/* Whether the monitor ended as it should (after its program). */
bool monitor_done(const struct monitor *m)
{
	return __atomic_load_n(&m->sh->done, __ATOMIC_ACQUIRE) != 0;
}

/* ---- Tree mode (tree.c) ---- */

bool monitor_is_tree(const struct monitor *m)
{
	return m && m->tree_evfd >= 0;
}

bool monitor_tree_has_cgroup(const struct monitor *m)
{
	return m->sh->flags & MONITOR_TREE_CGROUP;
}

pid_t monitor_pid(const struct monitor *m)
{
	return m->pid;
}

bool monitor_is_reaped(const struct monitor *m)
{
	return m->reaped;
}

/* Whether the monitor has ended (the tree is gone), waiting at most timeout_ms. */
bool monitor_ended(const struct monitor *m, int timeout_ms)
{
	return m->reaped || pidfd_exited(m->pidfd, timeout_ms);
}

/*
 * The eventfd that carries commands to a tree's monitor, checked by identity
 * under the tree lock: after a descriptor sweep its number may be the
 * application's, which must never get our 8 bytes (tree_evfd_ours()). Where
 * it is known not to be ours, the monitor's reference is copied back with
 * pidfd_getfd() (the monitor is our child; Linux 5.6). 0; -ESRCH: the
 * monitor is ending (the tree is gone); -EMFILE, -ENFILE, -ENOMEM: no room
 * for the copy; -EBADF: the channel cannot be had. On error the command is
 * not sent.
 */

static int tree_channel_locked(struct monitor *m)
{
	long fd;

	if (tree_evfd_ours(m) != 0)
		return 0; /* ours, or no way to tell (kcmp() refused, e.g. a caller that changed its
			   * credentials and is no longer dumpable): as before any sweep */
	fd = syscall(SYS_pidfd_getfd, m->pidfd, m->sh->tree_evfd, 0);
	if (fd < 0) {
		int e = errno;

		/* A monitor in do_exit() has no table to copy from (EBADF, ESRCH):
		 * it is about to be seen ended. EMFILE, ENFILE, ENOMEM: no room
		 * for the copy. EPERM (a monitor we may not ptrace-attach to, as
		 * under Yama's ptrace_scope 2): the channel cannot be had. */
		if (e == EBADF || e == ESRCH)
			return monitor_ended(m, MONITOR_EXIT_WAIT_MS) ? -ESRCH : -EBADF;
		return e == EMFILE || e == ENFILE || e == ENOMEM ? -e : -EBADF;
	}
	m->tree_evfd = (int)fd; /* close-on-exec (pidfd_getfd(2) sets it); the old number is left alone */
	return 0;
}

/*
 * Have the monitor send sig to every process of the tree (SIGKILL: until
 * none is left) and wait until it has. 0; -ESRCH: the tree is gone;
 * -EPERM: members the monitor may not signal are left (kill(2)'s EPERM).
 */
int monitor_tree_signal(struct monitor *m, int sig)
{
	const uint64_t one = 1;
	uint32_t ack;
	int r = 0;

	pthread_mutex_lock(&m->tree->lock);
	if (monitor_ended(m, 0)) {
		pthread_mutex_unlock(&m->tree->lock);
		return -ESRCH;
	}
	r = tree_channel_locked(m);
	if (r < 0) {
		pthread_mutex_unlock(&m->tree->lock);
		return r;
	}
	ack = __atomic_load_n(&m->sh->tree_ack, __ATOMIC_ACQUIRE);
	__atomic_store_n(&m->sh->tree_cmd, (uint32_t)sig, __ATOMIC_RELEASE);
	if (write(m->tree_evfd, &one, sizeof(one)) != sizeof(one))
		r = negative_errno();
	while (r == 0 && __atomic_load_n(&m->sh->tree_ack, __ATOMIC_ACQUIRE) == ack) {
		futex_wait(&m->sh->tree_ack, ack, MONITOR_START_RECHECK_NS);
		if (__atomic_load_n(&m->sh->tree_ack, __ATOMIC_ACQUIRE) == ack && monitor_ended(m, 0))
			break; /* it ended: the tree is gone (the last exit made it end) */
	}
	if (r == 0 && __atomic_load_n(&m->sh->tree_ack, __ATOMIC_ACQUIRE) != ack &&
	    __atomic_load_n(&m->sh->tree_err, __ATOMIC_RELAXED) == EPERM)
		r = -EPERM;
	pthread_mutex_unlock(&m->tree->lock);
	return r;
}

void monitor_tree_stats(const struct monitor *m, struct tether_tree_stats *st)
{
	const struct monitor_shared *sh = m->sh;

	st->signalled = __atomic_load_n(&sh->tree_signalled, __ATOMIC_RELAXED);
	st->kill_rounds = __atomic_load_n(&sh->tree_rounds, __ATOMIC_RELAXED);
	st->reaped = __atomic_load_n(&sh->tree_reaped, __ATOMIC_RELAXED);
	st->cgroup_removed = __atomic_load_n(&sh->cg_removed, __ATOMIC_ACQUIRE) != 0;
	st->cpu_usec = sh->cg_usage_usec;
	st->memory_peak = sh->cg_memory_peak;
	st->processes_at_kill = __atomic_load_n(&sh->tree_at_kill, __ATOMIC_RELAXED);
	st->pids_peak = sh->cg_pids_peak;
}

/* SPDX-License-Identifier: MIT */
/*
 * reap: N children released at once; when is each reaped?
 */
#include "common.h"

/*
 * N children exit at once; when is each reaped?
 *
 * Without hooks in the library, the reap itself is observable through the
 * kernel: a pidfd polls EPOLLIN when its process exits (a zombie) and
 * EPOLLIN|EPOLLHUP once the process is released, which is the reap, and the
 * kernel wakes the pidfd's pollers at both moments. A watcher process (our
 * own, forked before the children, so that it holds none of their fds and
 * has a descriptor table of its own) opens one pidfd per child with
 * pidfd_open() and waits on all of them in one edge-triggered epoll: the
 * first event is the exit, the one with EPOLLHUP the reap. Each child
 * writes CLOCK_MONOTONIC into a shared page right before _exit().
 * Per child: exit -> reap = HUP seen - exit written. Events are stamped when
 * epoll_wait() returns, so every figure is an upper bound; the watcher runs
 * SCHED_FIFO (where allowed) so that it is not one of N runnable tasks
 * sharing two CPUs. "zombie -> reap" reads 0 when both events were already
 * there at one epoll_wait().
 *
 * The children are fork-like tether_clone3(CLONE_AUTOREAP) children, each
 * blocked in read() on one pipe whose write end this process closes to
 * release them all at once. The caller's pidfd is closed at once
 * (tether_pidfd_close(): fire and forget; the library keeps its own). Each
 * child first closes every inherited descriptor except the pipe, so that its
 * exit costs the same whatever this process holds.
 *
 * Baseline, same children and watcher: raw clone3(exit_signal=0) children
 * reaped by a thread of ours doing what the emulation does and nothing
 * else: epoll_wait() on their pidfds, waitid(P_PIDFD) for each. (A thread
 * in waitid(P_ALL) is no baseline: the kernel walks the list of children
 * for every reap, O(N) each.)
 *
 * The reaper's CPU time per child comes from getrusage(): the process's
 * (which keeps the time of threads that have ended) minus the main
 * thread's, which sleeps in waitpid() meanwhile.
 */
struct reap_stats {
	bool watcher_not_rt;
	struct samples cpu_per_child; /* ns of reaper CPU per child, per repetition */
	struct samples exit_to_reap, zombie_to_reap;
	struct samples all_exited, all_reaped; /* per repetition, from the release */
};

struct reap_shared {
	unsigned int ready;   /* children blocked (about to block) in read() */
	unsigned int watcher_rt; /* the watcher runs SCHED_FIFO */
	uint64_t t[];         /* [0,n): exit; [n,2n): zombie seen; [2n,3n): reap seen; [3n,4n): pid */
};

struct raw_reaper {
	size_t n;
	const int *fds;
};

/* The least this design can do: epoll on the pidfds, waitid(P_PIDFD) each. */
static void *raw_reaper(void *p)
{
	struct raw_reaper *a = p;
	struct epoll_event evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	siginfo_t si;

	for (size_t i = 0; i < a->n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.fd = a->fds[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, a->fds[i], &ev) < 0)
			die("raw reaper: epoll_ctl: %s", strerror(errno));
	}
	for (size_t k = 0; k < a->n;) {
		int m = epoll_wait(ep, evs, 64, -1);
		for (int j = 0; j < m; j++)
			if (waitid_raw(P_PIDFD, evs[j].data.fd, &si, WEXITED | __WALL) == 0)
				k++;
	}
	close(ep);
	return NULL;
}

static _Noreturn void reap_child(int rd, uint64_t *slot, unsigned int *ready)
{
	char c;

	if (rd > 0)
		syscall(SYS_close_range, 0, rd - 1, 0);
	syscall(SYS_close_range, rd + 1, ~0U, 0);
	__atomic_fetch_add(ready, 1, __ATOMIC_SEQ_CST);
	while (read(rd, &c, 1) < 0 && errno == EINTR)
		;
	*slot = now_ns();
	_exit(0);
}

static _Noreturn void reap_watcher(struct reap_shared *sh, size_t n, int go, int ack)
{
	uint64_t *t_zombie = sh->t + n, *t_reap = sh->t + 2 * n, *pid = sh->t + 3 * n;
	struct epoll_event evs[1024];
	size_t reaped = 0;
	char c;
	int ep;

	if (read(go, &c, 1) != 1)
		_exit(2);
	/* Real-time, so that its stamps follow the events and not the run queue
	 * of N runnable children; the reapers measured keep normal priority. */
	sh->watcher_rt = sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 10 }) == 0;
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (size_t i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = i };
		int fd = pidfd_open((pid_t)pid[i]);

		if (fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			fprintf(stderr, "bench: watcher: child %zu: %s\n", i, strerror(errno));
			_exit(3);
		}
	}
	(void)!write(ack, "w", 1);
	while (reaped < n) {
		int k = epoll_wait(ep, evs, 1024, 60000);
		uint64_t t = now_ns();

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, "bench: watcher: %zu of %zu not reaped after 60 s\n", n - reaped, n);
			_exit(4);
		}
		for (int j = 0; j < k; j++) {
			size_t i = (size_t)evs[j].data.u64;
			if (!t_zombie[i])
				t_zombie[i] = t;
			if ((evs[j].events & EPOLLHUP) && !t_reap[i]) {
				t_reap[i] = t;
				reaped++;
			}
		}
	}
	_exit(0);
}

static void reap_once(size_t n, bool emulated, struct reap_stats *st)
{
	size_t shared_size = sizeof(struct reap_shared) + 4 * n * sizeof(uint64_t);
	struct reap_shared *sh = mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t *t_exit, *t_zombie, *t_reap, *pid, t_release, last_exit = 0, last_reap = 0;
	int *own = calloc(n, sizeof(*own)), rel[2], go[2], ack[2], wst;
	struct raw_reaper ra = { .n = n, .fds = own };
	struct rusage self0, self1, main0, main1;
	pthread_t reaper;
	pid_t watcher;
	char c;

	if (sh == MAP_FAILED || !own)
		die("out of memory");
	t_exit = sh->t;
	t_zombie = sh->t + n;
	t_reap = sh->t + 2 * n;
	pid = sh->t + 3 * n;
	if (pipe2(rel, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(ack, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	watcher = fork();
	if (watcher < 0)
		die("fork: %s", strerror(errno));
	if (watcher == 0) {
		close(rel[0]);
		close(rel[1]);
		close(go[1]);
		close(ack[0]);
		reap_watcher(sh, n, go[0], ack[1]);
	}
	close(go[0]);
	close(ack[1]);

	tether_set_backend(TETHER_BACKEND_EMULATE);
	for (size_t i = 0; i < n; i++) {
		int fd = -1;
		struct clone_args a = { .flags = CLONE_PIDFD | (emulated ? AR : 0), .pidfd = (uintptr_t)&fd };
		pid_t p = emulated ? tether_clone3(&a, sizeof(a)) : (pid_t)syscall(SYS_clone3, &a, sizeof(a));

		if (p == 0)
			reap_child(rel[0], &t_exit[i], &sh->ready);
		if (p < 0)
			die("%s child %zu: %s", emulated ? "tether_clone3" : "clone3", i, strerror(errno));
		pid[i] = (uint64_t)p;
		if (emulated) {
			tether_pidfd_close(fd);
			own[i] = -1;
		} else {
			own[i] = fd;
		}
	}
	if (!emulated && (errno = pthread_create(&reaper, NULL, raw_reaper, &ra)) != 0)
		die("pthread_create: %s", strerror(errno));
	if (write(go[1], "g", 1) != 1 || read(ack[0], &c, 1) != 1)
		die("the watcher failed");
	for (int i = 0; __atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < n; i++) {
		if (i > 30000)
			die("children did not start");
		sleep_ms(1);
	}
	sleep_ms(20); /* every child in read() */

	getrusage(RUSAGE_SELF, &self0);
	getrusage(RUSAGE_THREAD, &main0);
	t_release = now_ns();
	close(rel[1]);
	while (waitpid(watcher, &wst, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!emulated)
		pthread_join(reaper, NULL);
	getrusage(RUSAGE_THREAD, &main1);
	getrusage(RUSAGE_SELF, &self1);
	if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
		die("the watcher failed (status %#x)", wst);
	for (size_t i = 0; i < n; i++) {
		if (!t_exit[i])
			die("child %zu recorded no exit time", i);
		sadd(&st->exit_to_reap, t_reap[i] - t_exit[i]);
		sadd(&st->zombie_to_reap, t_reap[i] - t_zombie[i]);
		if (t_exit[i] > last_exit)
			last_exit = t_exit[i];
		if (t_reap[i] > last_reap)
			last_reap = t_reap[i];
	}
	if (!sh->watcher_rt)
		st->watcher_not_rt = true;
	sadd(&st->cpu_per_child, (uint64_t)((tv_ns(&self1.ru_utime) + tv_ns(&self1.ru_stime) - tv_ns(&self0.ru_utime) -
					     tv_ns(&self0.ru_stime) - (tv_ns(&main1.ru_utime) + tv_ns(&main1.ru_stime) -
					     tv_ns(&main0.ru_utime) - tv_ns(&main0.ru_stime))) / (int64_t)n));
	sadd(&st->all_exited, last_exit - t_release);
	sadd(&st->all_reaped, last_reap - t_release);

	if (!emulated)
		for (size_t i = 0; i < n; i++)
			close(own[i]);
	wait_single_threaded();
	close(rel[0]);
	close(go[1]);
	close(ack[0]);
	munmap(sh, shared_size);
	free(own);
}

void part_reap(int nn, char **ns, size_t reps)
{
	part = "reap";
	printf("\nN children released at once (%zu repetitions each, interleaved): times in µs, upper bounds;\n"
	       "reaper CPU/child: CPU time of the reaping thread per child\n\n", reps);
	printf("| children | reaper | all exited (median) | all reaped (median) | exit→reap p50 | exit→reap p99 | zombie→reap p50 | zombie→reap p99 | reaper CPU/child |\n");
	printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < nn; i++) {
		size_t n = (size_t)parse_size(ns[i]);
		struct reap_stats st[2] = { 0 };
		char param[32];

		raise_nofile(n + 256);
		for (size_t r = 0; r < reps; r++)
			for (int e = 0; e < 2; e++) {
				bool emulated = (e + r) % 2 == 0;
				reap_once(n, emulated, &st[emulated]);
			}
		snprintf(param, sizeof(param), "N=%zu", n);
		if (st[0].watcher_not_rt || st[1].watcher_not_rt)
			fprintf(stderr, "bench: reap: the watcher could not run SCHED_FIFO: its stamps lag more\n");
		for (int e = 1; e >= 0; e--) {
			const char *name = e ? "tether emulated reaper" : "baseline: epoll + waitid(P_PIDFD) thread";
			const char *be = e ? "emulate" : "-";
			char a[24], b[24], c[24], d[24], f[24], g[24], h[24];
			struct reap_stats *s = &st[e];

			printf("| %zu | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, name,
			       us(a, spct(&s->all_exited, .5)), us(b, spct(&s->all_reaped, .5)),
			       us(c, spct(&s->exit_to_reap, .5)), us(d, spct(&s->exit_to_reap, .99)),
			       us(f, spct(&s->zombie_to_reap, .5)), us(g, spct(&s->zombie_to_reap, .99)),
			       us(h, spct(&s->cpu_per_child, .5)));
			csv_num(name, be, param, "reaper_cpu_per_child", spct(&s->cpu_per_child, .5) / 1e3, "us");
			csv_num(name, be, param, "all_exited", spct(&s->all_exited, .5) / 1e3, "us");
			csv_num(name, be, param, "all_reaped", spct(&s->all_reaped, .5) / 1e3, "us");
			csv_num(name, be, param, "exit_to_reap_p50", spct(&s->exit_to_reap, .5) / 1e3, "us");
			csv_num(name, be, param, "exit_to_reap_p99", spct(&s->exit_to_reap, .99) / 1e3, "us");
			csv_num(name, be, param, "zombie_to_reap_p50", spct(&s->zombie_to_reap, .5) / 1e3, "us");
			csv_num(name, be, param, "zombie_to_reap_p99", spct(&s->zombie_to_reap, .99) / 1e3, "us");
		}
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * Autokill holds (0 survivors once every handle is released) in
 * applications that do what ordinary programs do to their children and
 * descriptors, each case in a fresh forked process:
 *  (a) "ignore":   SIGCHLD set to SIG_IGN (the daemon idiom);
 *  (b) "reaper":   a thread that reaps with waitpid(-1) all the time;
 *  (c) "sweep":    close_range(3, ~0U) right after the first autokill spawn
 *                  (a daemon's descriptor sweep). Later spawns work, their
 *                  children live until released and die then; the
 *                  application's own socket, dup'ed onto every number the
 *                  library had, is never written to or closed by the library
 *                  (the swept handle itself is not released: closing its
 *                  number would be the application's double close);
 *  (d) "nofile":   RLIMIT_NOFILE soft limit 32 at the first spawn, raised
 *                  afterwards, 30 more spawns: every one is armed.
 * Every autokill child must also stay alive while its handle is held.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "hostile_common.h"

#define N 5

enum mode { M_IGNORE, M_REAPER, M_SWEEP, M_NOFILE };
static const char *const mode_names[] = { "ignore", "reaper", "sweep", "nofile" };

static void *reaper_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int st;
		if (waitpid(-1, &st, 0) < 0)
			usleep(1000);
	}
	return NULL;
}

/* Spawn n sleepers into c[from..], watching each with a pidfd of our own. */
static void spawn_sleepers(const char *mode, struct tether_child **c, int *watch, int from, int n)
{
	for (int i = from; i < from + n; i++) {
		int r = hc_spawn(&c[i], HC_AUTOKILL_SPAWN, "sleep", NULL);
		T_ASSERT(r == 0, "%s: autokill spawn %d: %s", mode, i, strerror(-r));
		watch[i] = t_pidfd_open(tether_child_pid(c[i]));
		T_ASSERT(watch[i] >= 0, "%s: pidfd_open: %s", mode, strerror(errno));
	}
}

static void expect_alive_then_release(const char *mode, struct tether_child **c, int *watch, int from, int n)
{
	for (int i = from; i < from + n; i++)
		T_ASSERT(t_stays_alive(watch[i], i == from ? T_SETTLE_MS : 0),
			 "%s: autokill child %d died while its handle was held", mode, i);
	for (int i = from; i < from + n; i++)
		tether_child_release(c[i]);
	for (int i = from; i < from + n; i++) {
		if (!t_dies(watch[i], 20000)) {
			/* Never leave a survivor behind for the next test. */
			for (int j = from; j < from + n; j++)
				if (!t_dies(watch[j], 0))
					t_kill(tether_child_pid(c[j]), SIGKILL);
			t_fail("%s: autokill child %d (pid %d) survived the release of its handle", mode, i,
			       (int)tether_child_pid(c[i]));
		}
		close(watch[i]);
	}
}

static int run_case(void *arg)
{
	const enum mode mode = (enum mode)(intptr_t)arg;
	const char *name = mode_names[mode];
	struct tether_child *c[64];
	int watch[64];
	pthread_t th;

	switch (mode) {
	case M_IGNORE:
		signal(SIGCHLD, SIG_IGN);
		spawn_sleepers(name, c, watch, 0, N);
		expect_alive_then_release(name, c, watch, 0, N);
		break;
	case M_REAPER:
		T_ASSERT(pthread_create(&th, NULL, reaper_thread, NULL) == 0, "thread");
		spawn_sleepers(name, c, watch, 0, N);
		expect_alive_then_release(name, c, watch, 0, N);
		/* and once more, with the thread having had all the time it wanted */
		spawn_sleepers(name, c, watch, 0, N);
		usleep(200000);
		expect_alive_then_release(name, c, watch, 0, N);
		break;
	case M_SWEEP: {
		int sv[2], r, nlib = 0, lib[64];
		struct stat st0, st1, now;
		char buf[256], fds[1024];
		pid_t first;

		T_ASSERT(hc_spawn(&c[0], HC_AUTOKILL_SPAWN, "sleep", NULL) == 0, "sweep: first spawn");
		first = tether_child_pid(c[0]);
		/* The numbers the library holds now (ours are 0, 1, 2). */
		ts_fd_list(fds, sizeof(fds));
		for (char *p = fds, *end; nlib < 64; p = end) {
			long fd = strtol(p, &end, 10);
			if (end == p)
				break;
			if (fd > 2)
				lib[nlib++] = (int)fd;
		}
		T_ASSERT(syscall(SYS_close_range, 3U, ~0U, 0) == 0, "close_range: %s", strerror(errno));
		/* The application's own channel, on exactly the numbers that were
		 * the library's: anything the library writes to or closes by
		 * number now hits the application. */
		T_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
		T_ASSERT(fstat(sv[0], &st0) == 0 && fstat(sv[1], &st1) == 0, "fstat");
		{
			int hi[2];
			/* Move the pair above the library's numbers first. */
			hi[0] = fcntl(sv[0], F_DUPFD_CLOEXEC, 200);
			hi[1] = fcntl(sv[1], F_DUPFD_CLOEXEC, 200);
			T_ASSERT(hi[0] >= 0 && hi[1] >= 0, "dupfd");
			close(sv[0]);
			close(sv[1]);
			sv[0] = hi[0];
			sv[1] = hi[1];
		}
		for (int i = 0; i < nlib; i++)
			T_ASSERT(dup3(sv[i % 2], lib[i], O_CLOEXEC) == lib[i], "dup3 onto %d", lib[i]);
		t_info("sweep: the library's descriptors %s closed; %d of their numbers are the application's now", fds,
		       nlib);
		/* The first child's handle was closed under the library: as with the
		 * kernel's own autokill, its last reference is gone, so it dies. */
		T_ASSERT(t_wait_pid_gone(first, 20000), "sweep: the first child outlived its closed handle");
		spawn_sleepers(name, c, watch, 1, N);
		expect_alive_then_release(name, c, watch, 1, N);
		/* c[0] is never released: its pidfd was swept with the rest, and
		 * releasing it closes that number (as close(pidfd) would, natively
		 * too): the application's double close, not the library's. */
		spawn_sleepers(name, c, watch, 1, N);
		expect_alive_then_release(name, c, watch, 1, N);
		for (int i = 0; i < nlib; i++) {
			const struct stat *want = i % 2 ? &st1 : &st0;
			T_ASSERT(fstat(lib[i], &now) == 0 && now.st_ino == want->st_ino && now.st_dev == want->st_dev,
				 "sweep: the application's descriptor %d was closed or replaced by the library", lib[i]);
		}
		for (int i = 0; i < 2; i++) {
			r = (int)recv(sv[i], buf, sizeof(buf), MSG_DONTWAIT);
			T_ASSERT(r < 0 && errno == EAGAIN,
				 "sweep: the application's socket received %d byte(s) from the library", r);
		}
		break;
	}
	case M_NOFILE: {
		struct rlimit rl;
		T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
		rl.rlim_cur = 32;
		T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit 32");
		spawn_sleepers(name, c, watch, 0, 1);
		hc_nofile_at_least(4096);
		spawn_sleepers(name, c, watch, 1, 30);
		expect_alive_then_release(name, c, watch, 0, 31);
		break;
	}
	}
	t_info("%s: 0 survivors after release, every child alive while held", name);
	return 0;
}

int main(int argc, char **argv)
{
	hc_child_dispatch(argc, argv);
	t_require_flags(HC_AUTOKILL_SPAWN | CLONE_PIDFD);
	for (int m = M_IGNORE; m <= M_NOFILE; m++) {
		int st = t_in_subprocess(run_case, (void *)(intptr_t)m);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "case %s failed (status %#x)", mode_names[m], st);
	}
	t_pass("autokill holds in applications that ignore SIGCHLD, reap with waitpid(-1), sweep their descriptors "
	       "and raise RLIMIT_NOFILE (%s backend)",
	       t_backend_word(HC_AUTOKILL_SPAWN | CLONE_PIDFD));
}

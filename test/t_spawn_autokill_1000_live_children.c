/* SPDX-License-Identifier: MIT */
/*
 * An application holds many live autokill children at once (1 000 by
 * default; 250 in the test VMs, whose emulated CPUs make each of the 2 000
 * processes slow to start, and in the sanitizer and valgrind runs, which
 * look for memory errors (t_scaled()); TETHER_LIVE_CHILDREN to change it), raising
 * RLIMIT_NOFILE as a server does: every spawn succeeds, every child lives while its handle is
 * held, and once every handle is released there are 0 survivors.
 */
#include "hostile_common.h"

int main(int argc, char **argv)
{
	const int n = hc_env_int("TETHER_LIVE_CHILDREN", (int)t_scaled(1000, 250));
	struct tether_child **c;
	struct pollfd *pfd;
	pid_t *pid;
	int alive = 0, survivors = 0;
	long long end;

	hc_child_dispatch(argc, argv);
	t_require_flags(HC_AUTOKILL_SPAWN | CLONE_PIDFD);
	/* The handle's descriptors, the emulation's (one more per child where
	 * pidfds have no inode of their own), and our watch: room for all. */
	hc_nofile_at_least((rlim_t)n * 8 + 256);
	c = calloc((size_t)n, sizeof(*c));
	pfd = calloc((size_t)n, sizeof(*pfd));
	pid = calloc((size_t)n, sizeof(*pid));
	T_ASSERT(c && pfd && pid, "calloc");
	for (int i = 0; i < n; i++) {
		int r = hc_spawn(&c[i], HC_AUTOKILL_SPAWN, "sleep", NULL);
		T_ASSERT(r == 0, "autokill spawn %d of %d: %s", i, n, strerror(-r));
		pid[i] = tether_child_pid(c[i]);
		pfd[i].fd = t_pidfd_open(pid[i]);
		pfd[i].events = POLLIN;
		T_ASSERT(pfd[i].fd >= 0, "pidfd_open %d: %s", i, strerror(errno));
	}
	usleep(T_SETTLE_MS * 1000);
	T_ASSERT(poll(pfd, (nfds_t)n, 0) == 0, "autokill children died while their handles were held");
	for (int i = 0; i < n; i++)
		alive += t_proc_state(pid[i]) != 0;
	T_ASSERT(alive == n, "only %d of %d children alive", alive, n);
	t_info("%d autokill children alive, handles held", n);
	for (int i = 0; i < n; i++)
		tether_child_release(c[i]);
	end = t_now_ms() + 60000;
	for (int i = 0; i < n; i++) {
		int left = (int)(end - t_now_ms());
		if (!t_dies(pfd[i].fd, left > 0 ? left : 0)) {
			survivors++;
			t_kill(pid[i], SIGKILL); /* never left behind */
		}
		close(pfd[i].fd);
	}
	T_ASSERT(survivors == 0, "%d of %d autokill children survived the release of their handles", survivors, n);
	free(c);
	free(pfd);
	free(pid);
	t_pass("%d live autokill children: all alive while held, 0 survivors after release (%s backend)", n,
	       t_backend_word(HC_AUTOKILL_SPAWN | CLONE_PIDFD));
}

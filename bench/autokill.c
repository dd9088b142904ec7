/* SPDX-License-Identifier: MIT */
/*
 * autokill: handle release or creator SIGKILL -> the child's death.
 */
#include "common.h"

/*
 * The child's death is seen through a pidfd of our own (pidfd_open(),
 * another file than the handle's), which polls readable when it exits.
 * The clock starts right before the release (or the SIGKILL).
 */
enum ak_variant { AK_RELEASE, AK_RELEASE_AMID, AK_PIDFD_CLOSE, AK_CREATOR_KILL, AK_NVARIANTS };

static const char *const ak_name[AK_NVARIANTS] = {
	[AK_RELEASE] = "tether_child_release -> death",
	[AK_RELEASE_AMID] = "tether_child_release -> death (100 other autokill children)",
	[AK_PIDFD_CLOSE] = "tether_pidfd_close -> death (tether_clone3 child)",
	[AK_CREATOR_KILL] = "creator SIGKILL -> death",
};

/* After the death: wait for the reap too (a HUP on our pidfd), so that nothing piles up. */
static void wait_reaped(int fd)
{
	poll_one(fd, 0, 30000, "autokilled child not reaped");
	close(fd);
}

static uint64_t ak_release_once(bool clone3)
{
	const uint64_t flags = AR | NNP | AK;
	struct tether_child *c = NULL;
	struct tether_spawn_attr *attr;
	int pidfd = -1, fd;
	uint64_t t0, t1;
	pid_t pid;

	if (clone3) {
		struct clone_args a = { .flags = CLONE_PIDFD | flags, .pidfd = (uintptr_t)&pidfd };
		pid = tether_clone3(&a, sizeof(a));
		if (pid == 0)
			for (;;)
				pause();
		if (pid < 0)
			die("tether_clone3: %s", strerror(errno));
	} else {
		int r;
		if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, flags) < 0)
			die("attr");
		r = tether_spawn(&c, noop_path, NULL, attr, pause_argv, empty_env);
		tether_spawn_attr_destroy(attr);
		if (r < 0)
			die("tether_spawn: %s", strerror(-r));
		pid = tether_child_pid(c);
	}
	fd = pidfd_open(pid);
	if (fd < 0)
		die("pidfd_open: %s", strerror(errno));
	t0 = now_ns();
	if (clone3)
		tether_pidfd_close(pidfd);
	else
		tether_child_release(c);
	poll_one(fd, POLLIN, 10000, "autokill child still alive 10 s after the release");
	t1 = now_ns();
	wait_reaped(fd);
	return t1 - t0;
}

/* A creator process spawns an autokill child and is killed with SIGKILL. */
static uint64_t ak_creator_once(enum tether_backend be)
{
	int rp[2], gfd, cfd;
	pid_t creator, grandchild = 0, monitors[8];
	size_t nm;
	uint64_t t0, t1;
	siginfo_t si;

	if (pipe2(rp, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	creator = fork();
	if (creator < 0)
		die("fork: %s", strerror(errno));
	if (creator == 0) {
		struct tether_spawn_attr *attr;
		struct tether_child *c;
		pid_t gp;
		int r;

		close(rp[0]);
		tether_set_backend(be);
		r = tether_spawn_attr_init(&attr);
		if (r == 0)
			r = tether_spawn_attr_set_flags(attr, AR | NNP | AK);
		if (r == 0)
			r = tether_spawn(&c, noop_path, NULL, attr, pause_argv, empty_env);
		gp = r < 0 ? r : tether_child_pid(c);
		(void)!write(rp[1], &gp, sizeof(gp));
		for (;;)
			pause();
	}
	close(rp[1]);
	if (read(rp[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild) || grandchild <= 0)
		die("creator: tether_spawn: %s", strerror(grandchild < 0 ? -grandchild : EIO));
	close(rp[0]);
	gfd = pidfd_open(grandchild);
	cfd = pidfd_open(creator);
	if (gfd < 0 || cfd < 0)
		die("pidfd_open: %s", strerror(errno));
	nm = children_of(creator, MONITOR_COMM, monitors, 8);

	t0 = now_ns();
	pidfd_kill(cfd, SIGKILL);
	poll_one(gfd, POLLIN, 10000, "autokill child still alive 10 s after its creator's SIGKILL");
	t1 = now_ns();

	/* Reparented to us (a subreaper): the creator, then what it left (the
	 * program and its monitor, which ends right after it). */
	while (waitid_raw(P_PIDFD, cfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	while (waitid_raw(P_PIDFD, gfd, &si, WEXITED | __WALL) < 0 && errno == EINTR)
		;
	for (size_t i = 0; i < nm; i++)
		while (waitid_raw(P_PID, monitors[i], &si, WEXITED | __WALL) < 0 && errno == EINTR)
			;
	close(gfd);
	close(cfd);
	return t1 - t0;
}

void part_autokill(size_t iters)
{
	enum tether_backend bes[2] = { TETHER_BACKEND_EMULATE, TETHER_BACKEND_NATIVE };
	bool have_native = native_has(AR | NNP | AK);
	int nb = have_native ? 2 : 1;
	struct samples s[2][AK_NVARIANTS] = { 0 };
	struct tether_child *others[2][100];
	struct tether_spawn_attr *attr;

	part = "autokill";
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, AR | NNP | AK) < 0)
		die("attr");
	for (int v = 0; v < AK_NVARIANTS; v++) {
		if (v == AK_RELEASE_AMID)
			for (int b = 0; b < nb; b++) {
				tether_set_backend(bes[b]);
				for (int o = 0; o < 100; o++)
					if (tether_spawn(&others[b][o], noop_path, NULL, attr, pause_argv, empty_env) < 0)
						die("tether_spawn");
			}
		/* The backends alternate, each going first every other time. */
		for (size_t i = 0; i < iters; i++)
			for (int j = 0; j < nb; j++) {
				int b = (int)((j + i) % (size_t)nb);

				tether_set_backend(bes[b]);
				switch (v) {
				case AK_RELEASE:
				case AK_RELEASE_AMID:
					sadd(&s[b][v], ak_release_once(false));
					break;
				case AK_PIDFD_CLOSE:
					sadd(&s[b][v], ak_release_once(true));
					break;
				case AK_CREATOR_KILL:
					sadd(&s[b][v], ak_creator_once(bes[b]));
					break;
				}
			}
		if (v == AK_RELEASE_AMID)
			for (int b = 0; b < nb; b++)
				for (int o = 0; o < 100; o++) {
					tether_child_kill(others[b][o], SIGKILL);
					tether_wait_release(others[b][o], false);
				}
	}
	tether_spawn_attr_destroy(attr);

	printf("\nAutokill: time until the child is dead (its own pidfd polls readable), %zu each, in µs\n\n", iters);
	printf("| event | backend | p50 | p99 | max |\n|---|---|---:|---:|---:|\n");
	for (int v = 0; v < AK_NVARIANTS; v++)
		for (int b = 0; b < 2; b++) {
			char a[24], c[24], d[24];
			const char *be = b ? "native" : "emulate";

			if (b == 1 && !have_native) {
				printf("| %s | native | n/a | n/a | n/a |\n", ak_name[v]);
				csv_row(ak_name[v], be, "", "latency_p50", "n/a", "us");
				csv_row(ak_name[v], be, "", "latency_p99", "n/a", "us");
				continue;
			}
			printf("| %s | %s | %s | %s | %s |\n", ak_name[v], be, us(a, spct(&s[b][v], .5)),
			       us(c, spct(&s[b][v], .99)), us(d, spct(&s[b][v], 1)));
			csv_num(ak_name[v], be, "", "latency_p50", spct(&s[b][v], .5) / 1e3, "us");
			csv_num(ak_name[v], be, "", "latency_p99", spct(&s[b][v], .99) / 1e3, "us");
			csv_num(ak_name[v], be, "", "latency_max", spct(&s[b][v], 1) / 1e3, "us");
		}
	if (have_native) {
		printf("\nNative ÷ emulated:\n\n| event | p50 | p99 |\n|---|---:|---:|\n");
		for (int v = 0; v < AK_NVARIANTS; v++) {
			char a[24], b[24];
			double r50 = spct(&s[1][v], .5) / spct(&s[0][v], .5);
			double r99 = spct(&s[1][v], .99) / spct(&s[0][v], .99);
			printf("| %s | %s | %s |\n", ak_name[v], num(a, r50, "%.3f"), num(b, r99, "%.3f"));
			csv_num(ak_name[v], "native/emulate", "", "latency_p50_ratio", r50, "x");
			csv_num(ak_name[v], "native/emulate", "", "latency_p99_ratio", r99, "x");
		}
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * The emulation's per-child monitor is killed (SIGKILL: it blocks every
 * other signal): its child must die too, fork-like (tether_clone3: the
 * creator's reaper notices) and spawned (tether_spawn: the program has
 * PR_SET_PDEATHSIG relative to its monitor), and the library keeps working.
 */
#include "harness.h"

#define N 3

static int pause_child(struct tether_child **c, uint64_t flags)
{
	struct tether_spawn_attr *attr;
	char *argv[] = { (char *)"/proc/self/exe", (char *)"pause", NULL };
	int r;

	T_ASSERT(tether_spawn_attr_init(&attr) == 0, "attr");
	T_ASSERT(tether_spawn_attr_set_flags(attr, flags) == 0, "flags");
	r = tether_spawn(c, argv[0], NULL, attr, argv, NULL);
	tether_spawn_attr_destroy(attr);
	return r;
}

/* The monitors that are not in known[]. */
static int new_monitors(const pid_t *known, int nknown, pid_t *out, int max)
{
	pid_t all[64];
	int n = t_find_monitors(all, 64), k = 0;

	for (int i = 0; i < n && k < max; i++) {
		bool old = false;
		for (int j = 0; j < nknown; j++)
			old |= all[i] == known[j];
		if (!old)
			out[k++] = all[i];
	}
	return k;
}

int main(int argc, char **argv)
{
	const uint64_t spawn_flags = T_AUTOKILL_FLAGS & ~CLONE_PIDFD;
	int pidfd[N], watch[N];
	struct tether_child *c[N];
	pid_t mon[N];

	if (argc > 1 && strcmp(argv[1], "pause") == 0)
		for (;;)
			pause();
	t_require_flags(T_AUTOKILL_FLAGS);
	t_require_emulation(T_AUTOKILL_FLAGS);

	/* Fork-like children: a watching monitor each. */
	for (int i = 0; i < N; i++)
		t_autokill_sleeper(0, &pidfd[i], &watch[i]);
	T_ASSERT(t_find_monitors(mon, N) == N, "not one tether-monitor per fork-like autokill child");
	for (int i = 0; i < N; i++)
		T_ASSERT(t_kill(mon[i], SIGKILL) == 0, "kill monitor");
	for (int i = 0; i < N; i++) {
		T_ASSERT(t_dies(watch[i], 10000), "fork-like autokill child %d survived its monitor", i);
		close(watch[i]);
		tether_pidfd_close(pidfd[i]);
	}
	t_info("fork-like: %d monitors killed, their children died", N);

	/* Spawned programs: the monitor is the parent. */
	for (int i = 0; i < N; i++) {
		T_ASSERT(pause_child(&c[i], spawn_flags) == 0, "spawn");
		watch[i] = t_pidfd_open(tether_child_pid(c[i]));
	}
	for (long long end = t_now_ms() + 10000; t_find_monitors(mon, N) != N && t_now_ms() < end;)
		usleep(1000);
	T_ASSERT(t_find_monitors(mon, N) == N, "not one tether-monitor per spawned child");
	for (int i = 0; i < N; i++) {
		char path[64], buf[256];
		int fd;
		ssize_t len;
		/* The monitor is the program's parent. */
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)tether_child_pid(c[i]));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		T_ASSERT(fd >= 0, "stat");
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		T_ASSERT(len > 0, "read stat");
		buf[len] = '\0';
		int ppid = atoi(strchr(strrchr(buf, ')'), ' ') + 3);
		bool found = false;
		for (int j = 0; j < N; j++)
			found |= ppid == mon[j];
		T_ASSERT(found, "program %d's parent %d is not one of the monitors", (int)tether_child_pid(c[i]), ppid);
	}
	for (int i = 0; i < N; i++)
		T_ASSERT(t_kill(mon[i], SIGKILL) == 0, "kill monitor");
	for (int i = 0; i < N; i++) {
		struct tether_exit_info info;
		T_ASSERT(t_dies(watch[i], 10000), "spawned autokill program %d survived its monitor", i);
		int r = tether_child_wait(c[i], 10000, &info);
		if (tether_features() & TETHER_FEATURE_EXIT_INFO) {
			/* The kernel kept the status: it says how the program ended. */
			T_ASSERT(r == 0, "wait: %s", strerror(-r));
			T_ASSERT(info.signaled && info.signal == SIGKILL, "program %d: not killed by SIGKILL", i);
		} else {
			/* Only the monitor would have had it: a clear error, never an invented status. */
			T_ASSERT(r == -ECHILD, "wait: %s, expected ECHILD (status lost with the monitor)", strerror(-r));
		}
		close(watch[i]);
		tether_child_release(c[i]);
	}
	t_info("spawned: %d monitors killed, their programs died", N);

	/* Still working: a new child of each kind lives until released. */
	int p, w;
	struct tether_child *c2;
	t_autokill_sleeper(0, &p, &w);
	T_ASSERT(t_stays_alive(w, 50), "new fork-like child died at once");
	T_ASSERT(pause_child(&c2, spawn_flags) == 0, "spawn after");
	int w2 = t_pidfd_open(tether_child_pid(c2));
	T_ASSERT(t_stays_alive(w2, 50), "new spawned child died at once");
	tether_pidfd_close(p);
	tether_child_release(c2);
	T_ASSERT(t_dies(w, 10000) && t_dies(w2, 10000), "released children survived");
	(void)new_monitors;
	t_pass("monitors killed: their children died, fork-like and spawned; new children are protected");
}

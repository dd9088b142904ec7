/* SPDX-License-Identifier: MIT */
/*
 * A spawned program's monitor keeps a descriptor table of its own that is
 * no larger than what it watches, however many descriptors its creator
 * holds: a table never shrinks, and a copy of a creator's table of a few
 * thousand slots would cost every monitor tens of kilobytes of kernel
 * memory (a program with a thousand autokill children holds that many
 * descriptors itself). So with 1 500 descriptors open here, each monitor's
 * FDSize (/proc/PID/status) is the table a process starts with (64 slots),
 * it holds a handful of descriptors, and, once started, it runs one thread
 * (the thread that shares its table for a moment at its start is gone).
 * Under valgrind a monitor is a copy of the process, which keeps the
 * copied table: skipped there.
 */
#include <sys/resource.h>

#include "harness.h"

#define CREATOR_FDS 1500
#define DEFAULT_TABLE 64 /* NR_OPEN_DEFAULT on 64-bit kernels: the table inside files_struct */

static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");
	return preload && strstr(preload, "vgpreload");
}

static void check(const char *what, __u64 flags)
{
	char *cargv[] = { (char *)"/proc/self/exe", (char *)"sleep", NULL };
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	long size, threads = -1;
	pid_t mon;
	int fds;

	T_ASSERT(tether_spawn_attr_init(&attr) == 0 && tether_spawn_attr_set_flags(attr, flags) == 0, "attr");
	T_ASSERT(tether_spawn(&c, cargv[0], NULL, attr, cargv, NULL) == 0, "%s: spawn", what);
	mon = (pid_t)t_status_field(tether_child_pid(c), "PPid");
	T_ASSERT(mon > 0 && mon != getpid(), "%s: the program's parent is %d, not a monitor", what, (int)mon);
	size = t_status_field(mon, "FDSize");
	fds = t_count_fds_of(mon);
	for (int i = 0; i < 2000 && (threads = t_status_field(mon, "Threads")) != 1; i++)
		usleep(1000);
	T_ASSERT(size > 0 && size <= DEFAULT_TABLE,
		 "%s: the monitor's descriptor table has %ld slots (creator: %ld); at most %d expected", what, size,
		 t_status_field(getpid(), "FDSize"), DEFAULT_TABLE);
	T_ASSERT(fds >= 1 && fds <= 7, "%s: the monitor holds %d descriptors", what, fds);
	T_ASSERT(threads == 1, "%s: the monitor runs %ld threads 2 s after its start", what, threads);
	tether_child_kill(c, SIGKILL);
	T_ASSERT(tether_child_wait(c, 10000, NULL) == 0, "%s: wait", what);
	tether_child_release(c);
	tether_spawn_attr_destroy(attr);
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int base;

	if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
		sleep(120); /* bounded: a failed run leaves no program for good */
		_exit(0);
	}
	t_require_flags(CLONE_AUTOREAP);
	if (!t_emulated(CLONE_AUTOREAP))
		t_skip("native backend: no monitor");
	if (under_valgrind())
		t_skip("valgrind: the monitor is a copy of the process and keeps the copied table");
	T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	if (rl.rlim_cur < CREATOR_FDS + 64) {
		rl.rlim_cur = rl.rlim_max < CREATOR_FDS + 64 ? rl.rlim_max : CREATOR_FDS + 64;
		T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit");
	}
	if (rl.rlim_cur < CREATOR_FDS + 64)
		t_skip("RLIMIT_NOFILE's hard limit is %lu", (unsigned long)rl.rlim_max);
	base = open("/dev/null", O_RDONLY | O_CLOEXEC);
	T_ASSERT(base >= 0, "open");
	for (int i = 0; i < CREATOR_FDS; i++)
		T_ASSERT(fcntl(base, F_DUPFD_CLOEXEC, 0) >= 0, "dup %d", i);
	for (int round = 0; round < 5; round++) {
		check("autoreap", CLONE_AUTOREAP);
		check("autoreap+autokill", CLONE_AUTOREAP | CLONE_PIDFD_AUTOKILL);
		check("autoreap+nnp+autokill", CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL);
	}
	t_pass("with %d descriptors open in the creator, each monitor has a table of at most %d slots, "
	       "a handful of descriptors and one thread", CREATOR_FDS, DEFAULT_TABLE);
}

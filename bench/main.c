/* SPDX-License-Identifier: MIT */
/*
 * tether's benchmark: the dispatch. The parts are in the other files of
 * bench/ (one per part), the shared helpers in common.c. Not a test:
 * nothing here passes or fails; it measures and prints. bench/run.sh runs every part and evaluates the targets.
 *
 *   bench [--csv FILE] [--noop PATH] [--rss SIZE] PART [ARGS]
 *
 *   spawn [ROUNDS [K]]   spawn + wait latency (p50, p99) and throughput of
 *                        posix_spawn, fork+exec, vfork+exec and tether_spawn
 *                        with every valid lifecycle flag combination, native
 *                        and emulated: ROUNDS interleaved rounds, each running
 *                        every method K times, the order rotating per round
 *   spawn-1cpu [ROUNDS [K]]
 *                        posix_spawn, vfork+exec and tether_spawn (none,
 *                        emulated autoreap, emulated autoreap+nnp+autokill)
 *                        with this process and every process it makes on
 *                        the one CPU it runs on: what the scheduler's
 *                        placement across CPUs costs each method
 *   rss SIZE...          the same with a parent of SIZE (64M, 1G, 8G...) of
 *                        touched anonymous 4 KiB pages, sizes in one process
 *   clone3 [ROUNDS [K]]  fork-like create + exit: tether_clone3 with
 *                        CLONE_AUTOREAP vs raw clone3(exit_signal=0)+waitid
 *   reap N...            N concurrent emulated autoreap children released at
 *                        once: time until all are reaped, exit->reap latency
 *   autokill [ITERS]     handle release / creator SIGKILL -> child's death
 *   memory [N]           library heap, fds, threads and monitors per tracked
 *                        child
 *   kmem [N [REPS]]      the system's memory (MemAvailable, slab, kernel
 *                        stacks, page tables) before and after N more live
 *                        children: monitored tether children against the
 *                        same program posix_spawn'ed, bytes per child
 *   idle [N [SECONDS]]   CPU used while N autoreap+autokill children idle:
 *                        the caller and every monitor
 *   tree [ROUNDS [K [SIZE [REPS]]]]
 *                        tree spawn + wait against plain tether_spawn, per
 *                        mechanism; killing a tree of SIZE processes (p50,
 *                        p99 of REPS kills per mechanism)
 *   loop ID COUNT        run one method COUNT times (for strace, perf; with
 *                        --rss SIZE in a parent of that size)
 *   list                 the method IDs
 *
 * Started as PID 1 (the init of a VM) it mounts /proc, runs a reduced
 * spawn, clone3 and autokill, prints CSV lines prefixed "@@BENCH-CSV " and
 * powers the machine off.
 *
 * Every spawned program is bench-noop (noop.c, next to this binary): a
 * static program without C library, so that exec costs the same, and as
 * little as possible, for every method. Latencies are CLOCK_MONOTONIC
 * around the whole spawn + wait (+ release of the handle); throughput is
 * spawns per second of one method's K back-to-back spawns in a round, and
 * the ratio to the reference method is the median of the per-round ratios:
 * both ran in the same round, seconds apart, so drift of the machine
 * cancels out.
 */
#include "methods.h"

const char *noop_path;
char *noop_argv[] = { "bench-noop", NULL };
char *pause_argv[] = { "bench-noop", "pause", NULL };
char *empty_env[] = { NULL };
FILE *csv_out;
const char *csv_prefix = "";
const char *part = "";
bool in_vm;

/* loop, list, the VM */

static size_t all_methods(struct method *ms)
{
	size_t n = spawn_methods(ms, NULL, true);

	return n + clone3_methods(ms + n);
}

static void part_loop(const char *id, size_t count)
{
	struct method ms[96];
	size_t n = all_methods(ms);
	uint64_t t0;

	part = "loop";
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ms[i].id, id))
			continue;
		if (!ms[i].available)
			die("%s: %s", id, ms[i].na);
		t0 = now_ns();
		batch(&ms[i], count, UINT64_MAX, true);
		printf("%s: %zu in %.3f s, p50 %.1f µs\n", id, count, (double)(now_ns() - t0) / 1e9,
		       spct(&ms[i].lat, .5) / 1e3);
		return;
	}
	die("no method '%s' (bench list)", id);
}

static void part_list(void)
{
	struct method ms[96];
	size_t n = all_methods(ms);

	for (size_t i = 0; i < n; i++)
		printf("%-44s %s%s\n", ms[i].id, ms[i].label, ms[i].available ? "" : " (not available here)");
}

static void vm_mount(const char *src, const char *dir, const char *type, unsigned long flags)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, NULL) < 0 && errno != EBUSY)
		fprintf(stderr, "bench: mount %s: %s\n", dir, strerror(errno));
}

/* As the init of a VM: a reduced run, CSV lines on the console, power off. */
static int vm_main(void)
{
	struct utsname u;

	in_vm = true;
	vm_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID);
	vm_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
	vm_mount("tmpfs", "/tmp", "tmpfs", MS_NODEV);
	setvbuf(stdout, NULL, _IOLBF, 0);
	noop_path = "/bench-noop";
	csv_out = stdout;
	csv_prefix = "@@BENCH-CSV ";
	uname(&u);
	printf("@@BENCH-KERNEL %s\n", u.release);
	printf("@@BENCH-FEATURES %#x\n", tether_features());
	part_spawn(20, 5, false);
	part_clone3(20, 5);
	part_autokill(100);
	printf("@@BENCH-DONE\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}

/* The command line */

static _Noreturn void usage(void)
{
	fprintf(stderr,
		"usage: bench [--csv FILE] [--noop PATH] [--rss SIZE] PART [ARGS]\n"
		"  spawn [ROUNDS [K]] | spawn-1cpu [ROUNDS [K]] | rss SIZE... | clone3 [ROUNDS [K]] | reap N... [--reps R]\n"
		"  autokill [ITERS] | memory [N] | kmem [N [REPS]] | idle [N [SECONDS]]\n"
		"  tree [ROUNDS [K [SIZE [REPS]]]] | loop ID COUNT | list\n");
	exit(2);
}

static size_t arg_or(int argc, char **argv, int i, size_t def)
{
	return i < argc ? (size_t)parse_size(argv[i]) : def;
}

int main(int argc, char **argv)
{
	static char noop_buf[PATH_MAX + 16];
	const char *csv_path = NULL, *rss_arg = NULL;
	int i = 1;

	bench_tree_dispatch(argc, argv); /* a tree's root (tree.c) */
	if (getpid() == 1)
		return vm_main();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
			csv_path = argv[++i];
		else if (strcmp(argv[i], "--noop") == 0 && i + 1 < argc)
			noop_path = argv[++i];
		else if (strcmp(argv[i], "--rss") == 0 && i + 1 < argc)
			rss_arg = argv[++i];
		else
			usage();
	}
	if (i >= argc)
		usage();
	if (!noop_path) {
		ssize_t l = readlink("/proc/self/exe", noop_buf, PATH_MAX);
		char *slash;
		if (l < 0)
			die("/proc/self/exe: %s", strerror(errno));
		noop_buf[l] = 0;
		slash = strrchr(noop_buf, '/');
		strcpy(slash ? slash + 1 : noop_buf, "bench-noop");
		noop_path = noop_buf;
	}
	if (access(noop_path, X_OK) < 0)
		die("%s: %s", noop_path, strerror(errno));
	if (csv_path) {
		csv_out = fopen(csv_path, "a");
		if (!csv_out)
			die("%s: %s", csv_path, strerror(errno));
	}

	if (rss_arg) {
		/* A parent of this size for any part (loop under strace or perf). */
		uint64_t size = parse_size(rss_arg);
		char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED || madvise(mem, size, MADV_NOHUGEPAGE) < 0)
			die("--rss %s: %s", rss_arg, strerror(errno));
		for (uint64_t off = 0; off < size; off += 4096)
			mem[off] = 1;
	}

	const char *cmd = argv[i++];
	if (strcmp(cmd, "spawn") == 0) {
		part_spawn(arg_or(argc, argv, i, 40), arg_or(argc, argv, i + 1, 20), true);
	} else if (strcmp(cmd, "spawn-1cpu") == 0) {
		part_spawn_one_cpu(arg_or(argc, argv, i, 40), arg_or(argc, argv, i + 1, 20));
	} else if (strcmp(cmd, "rss") == 0) {
		if (i >= argc)
			usage();
		part_rss(argc - i, argv + i);
	} else if (strcmp(cmd, "clone3") == 0) {
		part_clone3(arg_or(argc, argv, i, 40), arg_or(argc, argv, i + 1, 20));
	} else if (strcmp(cmd, "reap") == 0) {
		size_t reps = 3;
		int n = argc - i;
		if (n >= 2 && strcmp(argv[argc - 2], "--reps") == 0) {
			reps = (size_t)parse_size(argv[argc - 1]);
			n -= 2;
		}
		if (n < 1)
			usage();
		part_reap(n, argv + i, reps);
	} else if (strcmp(cmd, "autokill") == 0) {
		part_autokill(arg_or(argc, argv, i, 300));
	} else if (strcmp(cmd, "memory") == 0) {
		part_memory(arg_or(argc, argv, i, 1000));
	} else if (strcmp(cmd, "kmem") == 0) {
		part_kmem(arg_or(argc, argv, i, 1000), arg_or(argc, argv, i + 1, 3));
	} else if (strcmp(cmd, "idle") == 0) {
		part_idle(arg_or(argc, argv, i, 100), (unsigned int)arg_or(argc, argv, i + 1, 2));
	} else if (strcmp(cmd, "tree") == 0) {
		part_tree(arg_or(argc, argv, i, 20), arg_or(argc, argv, i + 1, 20), arg_or(argc, argv, i + 2, 1000),
			  arg_or(argc, argv, i + 3, 20));
	} else if (strcmp(cmd, "loop") == 0 && i + 1 < argc) {
		part_loop(argv[i], (size_t)parse_size(argv[i + 1]));
	} else if (strcmp(cmd, "list") == 0) {
		part_list();
	} else {
		usage();
	}
	if (csv_out)
		fclose(csv_out);
	return 0;
}

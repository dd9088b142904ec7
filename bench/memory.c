/* SPDX-License-Identifier: MIT */
/*
 * memory: what the library holds per tracked emulated child (heap, fds,
 * threads, monitors and their descriptor tables).
 * kmem: what a live child costs the system, kernel included, measured as
 * the machine sees it (/proc/meminfo), monitored children against the same
 * program started by posix_spawn.
 */
#include "common.h"

struct variant {
	enum track_kind kind;
	uint64_t flags;
	const char *name;
};

static const struct variant tracked_variants[] = {
	{ TRACK_SPAWN, AR | NNP | AK, "tether_spawn autoreap+nnp+autokill" },
	{ TRACK_SPAWN, AR, "tether_spawn autoreap" },
	{ TRACK_CLONE3, AR | NNP | AK, "tether_clone3 autoreap+nnp+autokill" },
	{ TRACK_CLONE3, AR, "tether_clone3 autoreap" },
};

/* Our monitors (children named tether-monitor): how many, their open
 * descriptors and their descriptor tables' size (FDSize: the slots the
 * kernel allocated, which a CLONE_VM child without CLONE_FILES copies from
 * the caller's table as it is at the clone), summed. */
struct monitors {
	size_t count;
	long fds, fdsize;
};

static struct monitors monitors_of_ours(size_t max)
{
	pid_t *pids = calloc(max, sizeof(*pids));
	struct monitors m = { 0 };

	if (!pids)
		die("out of memory");
	m.count = children_of(getpid(), MONITOR_COMM, pids, max);
	for (size_t i = 0; i < m.count; i++) {
		long f = count_fds(pids[i]), s = proc_status(pids[i], "FDSize");

		m.fds += f > 0 ? f : 0;
		m.fdsize += s > 0 ? s : 0;
	}
	free(pids);
	return m;
}

static struct tether_spawn_attr *attr_for(uint64_t flags)
{
	struct tether_spawn_attr *attr;

	if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, flags) < 0)
		die("attr");
	return attr;
}

/*
 * Memory per tracked child: the heap in use (mallinfo2: every arena, and
 * mmapped blocks) before and after N more children exist, with one child
 * already there so that what exists once (the creator-image pipe, the
 * reaper's stack) is not counted. The handle (struct tether_child) is the
 * library's allocation too, and is counted; so is a monitor's record, but
 * not its stack and shared page (mmap'ed, not heap: kmem sees them).
 */
void part_memory(size_t n)
{
	const size_t nv = sizeof(tracked_variants) / sizeof(tracked_variants[0]);
	struct tracked *t = calloc(n + 1, sizeof(*t));

	part = "memory";
	if (!t)
		die("out of memory");
	raise_nofile(4 * n + 256);
	tether_set_backend(TETHER_BACKEND_EMULATE);
	printf("\nWhat the library holds per tracked emulated child (%zu children, all alive)\n\n", n);
	printf("| children | heap B/child | fds/child (ours) | threads before → after | monitors/child | fds per monitor | monitor fd table slots (FDSize, mean) |\n");
	printf("|---|---:|---:|---|---:|---:|---:|\n");
	for (size_t v = 0; v < nv; v++) {
		const struct variant *var = &tracked_variants[v];
		struct tether_spawn_attr *attr = attr_for(var->flags);
		size_t heap0, heap1;
		long fds0, fds1, thr0, thr1;
		struct monitors m0, m1;
		double heap_pc, fds_pc, mon_pc, mon_fds = NAN, mon_slots = NAN;
		char a[24], b[24], c[24], d[24], e[24];

		track_start(&t[n], var->kind, var->flags, attr);
		sleep_ms(50);
		heap0 = heap_in_use();
		fds0 = count_fds(getpid());
		thr0 = proc_status(getpid(), "Threads");
		m0 = monitors_of_ours(n + 64);
		for (size_t i = 0; i < n; i++)
			track_start(&t[i], var->kind, var->flags, attr);
		sleep_ms(100);
		heap1 = heap_in_use();
		fds1 = count_fds(getpid());
		thr1 = proc_status(getpid(), "Threads");
		m1 = monitors_of_ours(n + 64);
		heap_pc = ((double)heap1 - (double)heap0) / (double)n;
		fds_pc = (double)(fds1 - fds0) / (double)n;
		mon_pc = ((double)m1.count - (double)m0.count) / (double)n;
		if (m1.count) {
			mon_fds = (double)m1.fds / (double)m1.count;
			mon_slots = (double)m1.fdsize / (double)m1.count;
		}
		printf("| %s | %s | %s | %ld → %ld | %s | %s | %s |\n", var->name, num(a, heap_pc, "%.0f"),
		       num(b, fds_pc, "%.2f"), thr0, thr1, num(c, mon_pc, "%.2f"), num(d, mon_fds, "%.2f"),
		       num(e, mon_slots, "%.0f"));
		csv_num(var->name, "emulate", "", "heap_per_child", heap_pc, "B");
		csv_num(var->name, "emulate", "", "fds_per_child", fds_pc, "count");
		csv_num(var->name, "emulate", "", "threads_before", (double)thr0, "count");
		csv_num(var->name, "emulate", "", "threads_after", (double)thr1, "count");
		csv_num(var->name, "emulate", "", "monitors_per_child", mon_pc, "count");
		csv_num(var->name, "emulate", "", "monitor_fds", mon_fds, "count");
		csv_num(var->name, "emulate", "", "monitor_fd_slots", mon_slots, "count");
		for (size_t i = 0; i <= n; i++)
			track_stop(&t[i], var->kind);
		tether_spawn_attr_destroy(attr);
		wait_single_threaded();
	}
	free(t);
}

/*
 * kmem: N more live children, and the system's memory before, with them,
 * and after they are gone. The machine is shared: other processes allocate
 * and free meanwhile, so each figure is the "with" reading against the mean
 * of "before" and "after" (a linear drift cancels out), the variants run in
 * rotating order, and the median over repetitions is reported. What the
 * monitor costs is the difference to the same program without one:
 * posix_spawn for tether_spawn, a fork-like tether_clone3 without autokill
 * (no monitor) for one with it. Every variant runs bench-noop pause (the
 * fork-like ones pause in the copy of this process).
 */
enum { KV_POSIX, KV_SPAWN_AK, KV_SPAWN_AR, KV_CLONE3_AR, KV_CLONE3_AK, KV_N };

static const struct variant kmem_variants[KV_N] = {
	[KV_POSIX] = { TRACK_POSIX_SPAWN, 0, "posix_spawn" },
	[KV_SPAWN_AK] = { TRACK_SPAWN, AR | NNP | AK, "tether_spawn autoreap+nnp+autokill" },
	[KV_SPAWN_AR] = { TRACK_SPAWN, AR, "tether_spawn autoreap" },
	[KV_CLONE3_AR] = { TRACK_CLONE3, AR, "tether_clone3 autoreap" },
	[KV_CLONE3_AK] = { TRACK_CLONE3, AR | NNP | AK, "tether_clone3 autoreap+nnp+autokill" },
};

enum { KF_AVAIL, KF_FREE, KF_SLAB, KF_SUNRECLAIM, KF_KSTACK, KF_PAGETABLES, KF_SHMEM, KF_HEAP, KF_SUM, KF_N };

static const char *const kf_name[KF_N] = {
	"MemAvailable", "MemFree", "Slab", "SUnreclaim", "KernelStack", "PageTables", "Shmem", "heap",
	"Slab+KernelStack+PageTables+Shmem+heap",
};
static const char *const kf_metric[KF_N] = {
	"avail_per_child", "free_per_child", "slab_per_child", "sunreclaim_per_child",
	"kstack_per_child", "pagetables_per_child", "shmem_per_child", "heap_per_child", "sum_per_child",
};

/* Bytes of each field, as "used" (free memory counts down). */
static void kmem_sample(double *f)
{
	struct meminfo m = meminfo_read();

	f[KF_AVAIL] = -(double)m.avail * 1024;
	f[KF_FREE] = -(double)m.free * 1024;
	f[KF_SLAB] = (double)m.slab * 1024;
	f[KF_SUNRECLAIM] = (double)m.sunreclaim * 1024;
	f[KF_KSTACK] = (double)m.kstack * 1024;
	f[KF_PAGETABLES] = (double)m.pagetables * 1024;
	f[KF_SHMEM] = (double)m.shmem * 1024;
	f[KF_HEAP] = (double)heap_in_use();
	/* What a process is made of, each counted where the kernel keeps it:
	 * task, signal, files, pid and pidfs objects (slab), the kernel stack,
	 * page tables, the monitor's stack and shared page (MAP_SHARED
	 * anonymous: shmem) and the library's heap. Far less noisy than the
	 * free memory of a shared machine, which moves with everyone's page
	 * cache. */
	f[KF_SUM] = f[KF_SLAB] + f[KF_KSTACK] + f[KF_PAGETABLES] + f[KF_SHMEM] + f[KF_HEAP];
}

/* One repetition of one variant: bytes per child of each field. */
static void kmem_once(const struct variant *var, struct tracked *t, size_t n, double *per_child)
{
	struct tether_spawn_attr *attr = attr_for(var->flags);
	double before[KF_N], with[KF_N], after[KF_N];

	/* One child first: what exists once is not per child. */
	track_start(&t[n], var->kind, var->flags, attr);
	sleep_ms(200);
	kmem_sample(before);
	for (size_t i = 0; i < n; i++)
		track_start(&t[i], var->kind, var->flags, attr);
	sleep_ms(300); /* RCU-freed and per-CPU-cached objects settle */
	kmem_sample(with);
	for (size_t i = 0; i < n; i++)
		track_stop(&t[i], var->kind);
	sleep_ms(300);
	kmem_sample(after);
	track_stop(&t[n], var->kind);
	tether_spawn_attr_destroy(attr);
	wait_single_threaded();
	for (int f = 0; f < KF_N; f++)
		per_child[f] = (with[f] - (before[f] + after[f]) / 2) / (double)n;
}

void part_kmem(size_t n, size_t reps)
{
	struct tracked *t = calloc(n + 1, sizeof(*t));
	double *v[KV_N][KF_N], med[KV_N][KF_N];
	char param[32];

	part = "kmem";
	if (!t || reps == 0)
		die("out of memory");
	raise_nofile(4 * n + 256);
	tether_set_backend(TETHER_BACKEND_EMULATE);
	for (int k = 0; k < KV_N; k++)
		for (int f = 0; f < KF_N; f++)
			if (!(v[k][f] = calloc(reps, sizeof(double))))
				die("out of memory");
	for (size_t r = 0; r < reps; r++)
		for (int j = 0; j < KV_N; j++) {
			int k = (int)((j + r) % KV_N);
			double pc[KF_N];

			kmem_once(&kmem_variants[k], t, n, pc);
			for (int f = 0; f < KF_N; f++)
				v[k][f][r] = pc[f];
		}
	for (int k = 0; k < KV_N; k++)
		for (int f = 0; f < KF_N; f++)
			med[k][f] = dmedian(v[k][f], reps);

	snprintf(param, sizeof(param), "N=%zu", n);
	printf("\nThe system's memory per live child, %zu children (median of %zu; KiB per child; for MemAvailable\n"
	       "and MemFree how much they fell, against the mean of before and after; they move with every\n"
	       "process of this shared machine, the other columns much less): the program alone, with a monitor,\n"
	       "and the difference, which is the monitor's cost\n\n", n, reps);
	printf("| children |");
	for (int f = 0; f < KF_N; f++)
		printf(" %s |", kf_name[f]);
	printf("\n|---|");
	for (int f = 0; f < KF_N; f++)
		printf("---:|");
	printf("\n");
	for (int k = 0; k < KV_N; k++) {
		const char *be = kmem_variants[k].kind == TRACK_POSIX_SPAWN ? "-" : "emulate";

		printf("| %s |", kmem_variants[k].name);
		for (int f = 0; f < KF_N; f++) {
			char a[24];
			printf(" %s |", num(a, med[k][f] / 1024, "%.1f"));
			csv_num(kmem_variants[k].name, be, param, kf_metric[f], med[k][f], "B");
		}
		printf("\n");
	}
	/* The monitor's own cost: the same program with one, minus without. */
	{
		static const struct { int with, without; const char *name; } d[] = {
			{ KV_SPAWN_AK, KV_POSIX, "monitor: tether_spawn autoreap+nnp+autokill − posix_spawn" },
			{ KV_SPAWN_AR, KV_POSIX, "monitor: tether_spawn autoreap − posix_spawn" },
			{ KV_CLONE3_AK, KV_CLONE3_AR, "monitor (watch): tether_clone3 autoreap+nnp+autokill − autoreap" },
		};
		for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
			printf("| **%s** |", d[i].name);
			for (int f = 0; f < KF_N; f++) {
				char a[24];
				double x = med[d[i].with][f] - med[d[i].without][f];
				printf(" %s |", num(a, x / 1024, "%.1f"));
				csv_num(d[i].name, "emulate", param, kf_metric[f], x, "B");
			}
			printf("\n");
		}
	}
	for (int k = 0; k < KV_N; k++)
		for (int f = 0; f < KF_N; f++)
			free(v[k][f]);
	free(t);
}

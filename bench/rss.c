/* SPDX-License-Identifier: MIT */
/*
 * rss: the spawn methods again with a parent of growing RSS.
 */
#include "methods.h"

/*
 * The parent's size: one anonymous mapping, 4 KiB pages (no THP), every
 * page written once, grown from one size to the next in this process.
 */
void part_rss(int nsizes, char **sizes)
{
	struct combo_probe probe[8];
	uint64_t size[8], max = 0, touched = 0;
	struct method ms[8][64];
	size_t n = 0;
	long rss_kib[8];
	double ref_ratio;
	char *mem;

	part = "rss";
	if (nsizes > 8)
		die("at most 8 sizes");
	for (int i = 0; i < nsizes; i++) {
		size[i] = parse_size(sizes[i]);
		if (i && size[i] <= size[i - 1])
			die("sizes must grow");
		max = size[i];
	}
	probe_combos(probe);
	mem = mmap(NULL, max, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap %llu: %s", (unsigned long long)max, strerror(errno));
	if (madvise(mem, max, MADV_NOHUGEPAGE) < 0)
		die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	for (int s = 0; s < nsizes; s++) {
		char name[24];
		uint64_t t0 = now_ns();
		/* Fewer spawns where a fork costs a page table copy of gigabytes. */
		size_t rounds = size[s] >= (4ull << 30) ? 15 : 40, k = 10;
		uint64_t budget = size[s] >= (4ull << 30) ? 20 * MSEC : 60 * MSEC;

		for (; touched < size[s]; touched += 4096)
			mem[touched] = 1;
		rss_kib[s] = proc_status(getpid(), "VmRSS");
		n = spawn_methods(ms[s], probe, true);
		run_rounds(ms[s], n, rounds, k, budget);
		fprintf(stderr, "bench: rss %s: VmRSS %ld MiB, %.1f s\n", size_name(name, size[s]),
			rss_kib[s] >> 10, (double)(now_ns() - t0) / 1e9);
		csv_num("process", "-", name, "vmrss", (double)rss_kib[s] / 1024, "MiB");
		printf("\nParent of %s (VmRSS %ld MiB): %zu rounds × up to %zu per method, interleaved\n", name,
		       rss_kib[s] >> 10, rounds, k);
		report_methods(ms[s], n, name, "posix_spawn");
	}

	ref_ratio = spct(&ms[nsizes - 1][0].lat, .5) / spct(&ms[0][0].lat, .5);
	printf("\nspawn + wait p50 (p99) in µs vs the parent's RSS (touched 4 KiB pages):\n\n| method | backend |");
	for (int s = 0; s < nsizes; s++) {
		char name[24];
		printf(" %s (VmRSS %ld MiB) |", size_name(name, size[s]), rss_kib[s] >> 10);
	}
	printf(" %s ÷ %s | same, ÷ posix_spawn's |\n|---|---|", sizes[nsizes - 1], sizes[0]);
	for (int s = 0; s <= nsizes + 1; s++)
		printf("---:|");
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		char a[24], b[24], c[24], first[24], last[24], param[64];
		double r, rn;

		printf("| %s | %s |", ms[0][i].label, ms[0][i].backend);
		for (int s = 0; s < nsizes; s++)
			printf(" %s (%s) |", us(a, spct(&ms[s][i].lat, .5)), us(b, spct(&ms[s][i].lat, .99)));
		r = spct(&ms[nsizes - 1][i].lat, .5) / spct(&ms[0][i].lat, .5);
		/* The sizes ran one after the other: the machine may have drifted in
		 * between. posix_spawn (vfork-style, flat) in the same size is the
		 * yardstick of that drift. */
		rn = r / ref_ratio;
		printf(" %s | %s |\n", num(c, r, "%.2f"), num(a, rn, "%.2f"));
		snprintf(param, sizeof(param), "%s/%s", size_name(last, size[nsizes - 1]), size_name(first, size[0]));
		csv_num(ms[0][i].label, ms[0][i].backend, param, "latency_p50_ratio", r, "x");
		csv_num(ms[0][i].label, ms[0][i].backend, param, "latency_p50_ratio_vs_posix_spawn", rn, "x");
	}
	munmap(mem, max);
}

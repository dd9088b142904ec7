/* SPDX-License-Identifier: MIT */
/*
 * idle: N emulated autoreap+nnp+autokill children alive and asleep. What
 * does the library spend meanwhile? This process's CPU ticks (all threads),
 * the run time and context switches of its threads other than the main one
 * (which sleeps in nanosleep), and the same summed over every monitor.
 */
#include "common.h"

struct monitor_cpu {
	pid_t *pids;
	size_t n;
	struct cpu sum;
};

static void monitors_cpu(struct monitor_cpu *m, size_t max, bool find)
{
	if (find) {
		m->pids = calloc(max, sizeof(*m->pids));
		if (!m->pids)
			die("out of memory");
		m->n = children_of(getpid(), MONITOR_COMM, m->pids, max);
	}
	m->sum = (struct cpu){ 0 };
	for (size_t i = 0; i < m->n; i++) {
		struct cpu c = proc_cpu(m->pids[i], -1);

		m->sum.ticks += c.ticks;
		m->sum.run_ns += c.run_ns;
		m->sum.ctxsw += c.ctxsw;
		m->sum.tasks += c.tasks;
	}
}

void part_idle(size_t n, unsigned int secs)
{
	struct tracked *t = calloc(n, sizeof(*t));
	struct tether_spawn_attr *attr;
	struct monitor_cpu mon = { 0 };
	struct cpu s0, s1, m0;
	long thr;
	long hz = sysconf(_SC_CLK_TCK);

	part = "idle";
	if (!t)
		die("out of memory");
	raise_nofile(4 * n + 256);
	tether_set_backend(TETHER_BACKEND_EMULATE);
	if (tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_flags(attr, AR | NNP | AK) < 0)
		die("attr");
	for (size_t i = 0; i < n; i++)
		track_start(&t[i], TRACK_SPAWN, 0, attr);
	sleep_ms(500);
	thr = proc_status(getpid(), "Threads");
	monitors_cpu(&mon, n + 64, true);
	m0 = mon.sum;
	s0 = proc_cpu(getpid(), getpid());
	sleep_ms(secs * 1000);
	s1 = proc_cpu(getpid(), getpid());
	monitors_cpu(&mon, n + 64, false);

	printf("\nIdle: %zu emulated autoreap+nnp+autokill children alive for %u s (CLK_TCK %ld)\n\n", n, secs, hz);
	printf("| process | threads | CPU ticks | run time µs (not main thread) | context switches (not main thread) |\n");
	printf("|---|---:|---:|---:|---:|\n");
	printf("| this process | %ld | %llu | %.1f | %llu |\n", thr, s1.ticks - s0.ticks,
	       (double)(s1.run_ns - s0.run_ns) / 1e3, s1.ctxsw - s0.ctxsw);
	csv_num("caller process", "emulate", "", "cpu_ticks", (double)(s1.ticks - s0.ticks), "ticks");
	csv_num("caller process", "emulate", "", "library_threads_run", (double)(s1.run_ns - s0.run_ns) / 1e3, "us");
	csv_num("caller process", "emulate", "", "library_threads_ctxsw", (double)(s1.ctxsw - s0.ctxsw), "count");
	csv_num("caller process", "emulate", "", "threads", (double)thr, "count");
	printf("| %zu × tether-monitor (summed) | %d | %llu | %.1f | %llu |\n", mon.n, mon.sum.tasks,
	       mon.sum.ticks - m0.ticks, (double)(mon.sum.run_ns - m0.run_ns) / 1e3, mon.sum.ctxsw - m0.ctxsw);
	csv_num("tether-monitor (all)", "emulate", "", "count", (double)mon.n, "count");
	csv_num("tether-monitor (all)", "emulate", "", "cpu_ticks", (double)(mon.sum.ticks - m0.ticks), "ticks");
	csv_num("tether-monitor (all)", "emulate", "", "run", (double)(mon.sum.run_ns - m0.run_ns) / 1e3, "us");
	csv_num("tether-monitor (all)", "emulate", "", "ctxsw", (double)(mon.sum.ctxsw - m0.ctxsw), "count");
	for (size_t i = 0; i < n; i++)
		track_stop(&t[i], TRACK_SPAWN);
	tether_spawn_attr_destroy(attr);
	free(mon.pids);
	free(t);
}

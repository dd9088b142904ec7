/* SPDX-License-Identifier: MIT */
/*
 * spawn: spawn + wait latency and throughput of posix_spawn, fork+exec,
 * vfork+exec and tether_spawn with every valid lifecycle flag combination,
 * native and emulated, in interleaved rounds.
 */
#include <sched.h>

#include "methods.h"

/*
 * Every method of the spawn part: the reference first. Lifecycle
 * combinations that the kernel's rules reject (probe) are left out.
 */
size_t spawn_methods(struct method *ms, const struct combo_probe *probe, bool warm)
{
	size_t n = 0;

	method_add(ms, &n, K_POSIX_SPAWN, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_FORK_EXEC, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_VFORK_EXEC, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_SPAWN, 0, TETHER_BACKEND_AUTO, false);
	for (int i = 1; i < 8; i++) {
		uint64_t f = all_combos[i];
		if (probe && probe[i].emulate_err)
			continue;
		method_add(ms, &n, K_TETHER_SPAWN, f, TETHER_BACKEND_EMULATE, false);
		method_add(ms, &n, K_TETHER_SPAWN, f, TETHER_BACKEND_NATIVE, false);
	}
	if (warm)
		for (int i = 1; i < 8; i++) {
			uint64_t f = all_combos[i];
			if ((probe && probe[i].emulate_err) || !(f & AR))
				continue;
			method_add(ms, &n, K_TETHER_SPAWN, f, TETHER_BACKEND_EMULATE, true);
		}
	return n;
}

void part_spawn(size_t rounds, size_t k, bool warm)
{
	struct combo_probe probe[8];
	struct method ms[64];
	size_t n;
	uint64_t t0 = now_ns();

	part = "spawn";
	probe_combos(probe);
	print_combos(probe);
	n = spawn_methods(ms, probe, warm);
	run_rounds(ms, n, rounds, k, 5 * NSEC);
	printf("\nspawn + wait of bench-noop: %zu rounds × %zu per method, interleaved (%.1f s)\n", rounds, k,
	       (double)(now_ns() - t0) / 1e9);
	report_methods(ms, n, "", "posix_spawn");
	report_native_vs_emulated(ms, n, "");
}

/*
 * spawn-1cpu: the same measurement with this process, and so every process
 * it makes, on the one CPU it runs on. Nothing is moved between CPUs then
 * and no wake-up has to reach a CPU that sleeps; the difference from the
 * spawn part is what the scheduler's placement costs each method on this
 * machine (information; the targets are the spawn part's).
 */
void part_spawn_one_cpu(size_t rounds, size_t k)
{
	struct method ms[8];
	size_t n = 0;
	uint64_t t0 = now_ns();
	cpu_set_t saved, one;
	int cpu = sched_getcpu();

	part = "spawn-1cpu";
	if (cpu < 0 || sched_getaffinity(0, sizeof(saved), &saved) < 0)
		die("sched_getcpu/sched_getaffinity: %s", strerror(errno));
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		die("sched_setaffinity: %s", strerror(errno));
	method_add(ms, &n, K_POSIX_SPAWN, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_VFORK_EXEC, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_SPAWN, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_SPAWN, AR, TETHER_BACKEND_EMULATE, false);
	method_add(ms, &n, K_TETHER_SPAWN, AR | CLONE_NNP | CLONE_PIDFD_AUTOKILL, TETHER_BACKEND_EMULATE, false);
	run_rounds(ms, n, rounds, k, 5 * NSEC);
	if (sched_setaffinity(0, sizeof(saved), &saved) < 0)
		die("sched_setaffinity: %s", strerror(errno));
	printf("\nspawn + wait of bench-noop, every process on CPU %d alone: %zu rounds × %zu per method, "
	       "interleaved (%.1f s)\n",
	       cpu, rounds, k, (double)(now_ns() - t0) / 1e9);
	report_methods(ms, n, "", "posix_spawn");
}

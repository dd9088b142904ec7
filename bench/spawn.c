/* SPDX-License-Identifier: MIT */
/*
 * spawn: spawn + wait latency and throughput of posix_spawn, fork+exec,
 * vfork+exec and tether_spawn with every valid lifecycle flag combination,
 * native and emulated, in interleaved rounds.
 */
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

/* SPDX-License-Identifier: MIT */
/*
 * clone3: fork-like create + exit: tether_clone3 vs raw clone3 + waitid.
 */
#include "methods.h"

size_t clone3_methods(struct method *ms)
{
	size_t n = 0;

	method_add(ms, &n, K_RAW_CLONE3, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_CLONE3, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR, TETHER_BACKEND_EMULATE, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR, TETHER_BACKEND_NATIVE, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR, TETHER_BACKEND_EMULATE, true);
	method_add(ms, &n, K_TETHER_CLONE3, AR | NNP | AK, TETHER_BACKEND_EMULATE, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR | NNP | AK, TETHER_BACKEND_NATIVE, false);
	method_add(ms, &n, K_TETHER_CLONE3, AR | NNP | AK, TETHER_BACKEND_EMULATE, true);
	return n;
}

void part_clone3(size_t rounds, size_t k)
{
	struct method ms[16];
	size_t n;
	uint64_t t0 = now_ns();

	part = "clone3";
	n = clone3_methods(ms);
	run_rounds(ms, n, rounds, k, 5 * NSEC);
	printf("\nfork-like create + exit + reap (no exec): %zu rounds × %zu, interleaved (%.1f s)\n", rounds, k,
	       (double)(now_ns() - t0) / 1e9);
	report_methods(ms, n, "", "raw clone3");
	report_native_vs_emulated(ms, n, "");
}

/* SPDX-License-Identifier: MIT */
/*
 * The emulation's helper, the warden, is killed: the documented safe outcome
 * is that every autokill child dies too (no autokill child may outlive its
 * guarantee), and the library keeps working: the next autokill child gets a
 * new warden.
 */
#include "harness.h"

#define N 3

int main(void)
{
	int pidfd[N], watch[N];

	t_require_flags(T_AUTOKILL_FLAGS);
	t_require_emulation(T_AUTOKILL_FLAGS);
	for (int i = 0; i < N; i++)
		t_autokill_sleeper(0, &pidfd[i], &watch[i]);
	pid_t warden = t_find_warden();
	T_ASSERT(warden > 0, "no tether-warden child found");
	t_info("warden is pid %d; killing it", warden);
	T_ASSERT(kill(warden, SIGKILL) == 0, "kill warden");
	for (int i = 0; i < N; i++) {
		T_ASSERT(t_dies(watch[i], 10000), "autokill child %d survived its warden", i);
		close(watch[i]);
		tether_pidfd_close(pidfd[i]);
	}
	t_info("all %d autokill children were killed", N);

	int p, w;
	t_autokill_sleeper(0, &p, &w);
	/* The new warden names itself as it starts: give it a moment. */
	pid_t again = 0;
	for (long long end = t_now_ms() + 10000; (again = t_find_warden()) <= 0 && t_now_ms() < end;)
		usleep(1000);
	T_ASSERT(again > 0 && again != warden, "no new warden");
	T_ASSERT(t_stays_alive(w, 50), "new child died at once");

	/* Kill this warden and create a child at once, before the reaper can
	 * notice. Either the child finds the warden gone while arming (the
	 * dead warden is replaced and the child lives, protected), or it armed
	 * with the dying warden and is killed with its other children: never
	 * alive and unprotected. */
	T_ASSERT(kill(again, SIGKILL) == 0, "kill second warden");
	int p2, w2;
	t_autokill_sleeper(0, &p2, &w2);
	T_ASSERT(t_dies(w, 10000), "child of the killed warden survived");
	if (t_stays_alive(w2, T_SETTLE_MS)) {
		tether_pidfd_close(p2);
		T_ASSERT(t_dies(w2, 10000), "the child made as its warden died is alive and unprotected");
		t_info("child made as its warden died: armed with a new warden, killed on close");
	} else {
		tether_pidfd_close(p2);
		t_info("child made as its warden died: armed with the dying warden, killed with it");
	}
	close(w2);
	tether_pidfd_close(p);
	t_pass("warden killed: its children died; a new warden serves new children");
}

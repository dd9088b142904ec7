/* SPDX-License-Identifier: MIT */
/*
 * Methods: one way of creating a process, measured create -> gone, and the
 * interleaved rounds that run them (methods.h).
 */
#include "methods.h"

static __attribute__((noinline)) pid_t vfork_exec(const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = vfork();

	if (pid == 0) {
		execve(path, argv, envp);
		_exit(127);
	}
	return pid;
}

static void waitpid_ok(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("child ended with status %#x", st);
}

void op_once(struct method *m)
{
	pid_t pid;
	int r;

	switch (m->kind) {
	case K_POSIX_SPAWN:
		r = posix_spawn(&pid, noop_path, NULL, NULL, noop_argv, empty_env);
		if (r)
			die("posix_spawn: %s", strerror(r));
		waitpid_ok(pid);
		break;
	case K_FORK_EXEC:
		pid = fork();
		if (pid == 0) {
			execve(noop_path, noop_argv, empty_env);
			_exit(127);
		}
		if (pid < 0)
			die("fork: %s", strerror(errno));
		waitpid_ok(pid);
		break;
	case K_VFORK_EXEC:
		pid = vfork_exec(noop_path, noop_argv, empty_env);
		if (pid < 0)
			die("vfork: %s", strerror(errno));
		waitpid_ok(pid);
		break;
	case K_TETHER_SPAWN: {
		struct tether_child *c;
		r = tether_spawn(&c, noop_path, NULL, m->attr, noop_argv, empty_env);
		if (r < 0)
			die("tether_spawn %s: %s", m->id, strerror(-r));
		tether_wait_release(c, true);
		break;
	}
	case K_RAW_CLONE3: {
		int fd = -1;
		struct clone_args a = { .flags = CLONE_PIDFD, .pidfd = (uintptr_t)&fd, .exit_signal = 0 };
		siginfo_t si = { 0 };
		long p = syscall(SYS_clone3, &a, sizeof(a));
		if (p == 0)
			_exit(0);
		if (p < 0)
			die("clone3: %s", strerror(errno));
		while (waitid_raw(P_PIDFD, fd, &si, WEXITED | __WALL) < 0)
			if (errno != EINTR)
				die("waitid: %s", strerror(errno));
		if (si.si_code != CLD_EXITED || si.si_status != 0)
			die("clone3 child: code %d status %d", si.si_code, si.si_status);
		close(fd);
		break;
	}
	case K_TETHER_CLONE3: {
		int fd = -1;
		struct clone_args a = { .flags = CLONE_PIDFD | m->flags, .pidfd = (uintptr_t)&fd, .exit_signal = 0 };
		pid_t p = tether_clone3(&a, sizeof(a));
		if (p == 0)
			_exit(0);
		if (p < 0)
			die("tether_clone3 %s: %s", m->id, strerror(errno));
		if (m->flags & AR) {
			autoreap_wait_close(fd, true);
		} else {
			siginfo_t si = { 0 };
			while (waitid_raw(P_PIDFD, fd, &si, WEXITED | __WALL) < 0)
				if (errno != EINTR)
					die("waitid: %s", strerror(errno));
			tether_pidfd_close(fd);
		}
		break;
	}
	}
}

/*
 * "Warm": another child of the same kind lives meanwhile, so what the
 * library keeps while any emulated child exists (the creator-image pipe
 * every monitor watches, the reaper thread of fork-like children) is
 * already there. Without one, sequential spawn + wait makes it anew for
 * every child.
 */
static void anchor_start(struct method *m)
{
	int r;

	if (!m->warm)
		return;
	if (m->kind == K_TETHER_SPAWN) {
		r = tether_spawn(&m->anchor, noop_path, NULL, m->attr, pause_argv, empty_env);
		if (r < 0)
			die("anchor: tether_spawn: %s", strerror(-r));
	} else {
		struct clone_args a = { .flags = CLONE_PIDFD | m->flags, .pidfd = (uintptr_t)&m->anchor_fd };
		pid_t p = tether_clone3(&a, sizeof(a));
		if (p == 0) {
			/* Exec'd, so that it shares no page with us: a fork-like
			 * anchor would make every later fork copy more. */
			execve(noop_path, pause_argv, empty_env);
			for (;;)
				pause();
		}
		if (p < 0)
			die("anchor: tether_clone3: %s", strerror(errno));
	}
}

static void anchor_stop(struct method *m)
{
	if (!m->warm)
		return;
	if (m->kind == K_TETHER_SPAWN) {
		tether_child_kill(m->anchor, SIGKILL);
		tether_wait_release(m->anchor, false);
		m->anchor = NULL;
	} else {
		pidfd_kill(m->anchor_fd, SIGKILL);
		autoreap_wait_close(m->anchor_fd, false);
		m->anchor_fd = -1;
	}
}

static void method_use_backend(const struct method *m)
{
	tether_set_backend(m->be);
}

/*
 * CPU time and context switches of this process and everything it creates
 * (inherited software counters: a child's count is added to ours when it
 * exits, and a read includes live children). Unlike wall time, CPU time
 * hardly depends on how many other processes compete for the CPUs, so its
 * ratios stay meaningful on a loaded machine. -1: no counter (no
 * perf_event_open, or not allowed).
 */
static int cpu_fd = -2, ctxsw_fd = -2;

static int sw_counter(uint64_t config)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(a),
		.config = config,
		.inherit = 1,
		.exclude_hv = 1,
	};

	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static bool counters(uint64_t *cpu_ns, uint64_t *ctxsw)
{
	if (cpu_fd == -2) {
		cpu_fd = sw_counter(PERF_COUNT_SW_TASK_CLOCK);
		ctxsw_fd = sw_counter(PERF_COUNT_SW_CONTEXT_SWITCHES);
	}
	return cpu_fd >= 0 && ctxsw_fd >= 0 && read(cpu_fd, cpu_ns, sizeof(*cpu_ns)) == sizeof(*cpu_ns) &&
	       read(ctxsw_fd, ctxsw, sizeof(*ctxsw)) == sizeof(*ctxsw);
}

/* Up to k operations, stopping early once budget_ns have passed (at least one). */
void batch(struct method *m, size_t k, uint64_t budget_ns, bool record)
{
	uint64_t start, t0, t1, elapsed;
	size_t done = 0;

	uint64_t cpu0 = 0, cpu1 = 0, sw0 = 0, sw1 = 0;
	bool counted;

	method_use_backend(m);
	anchor_start(m);
	counted = counters(&cpu0, &sw0);
	start = now_ns();
	while (done < k) {
		t0 = now_ns();
		op_once(m);
		t1 = now_ns();
		if (record)
			sadd(&m->lat, t1 - t0);
		done++;
		if (t1 - start >= budget_ns)
			break;
	}
	elapsed = now_ns() - start;
	counted = counted && counters(&cpu1, &sw1);
	anchor_stop(m);
	if (record) {
		m->busy_ns += elapsed;
		m->count += done;
		m->tput = realloc(m->tput, (m->ntput + 1) * sizeof(*m->tput));
		m->cpu = realloc(m->cpu, (m->ntput + 1) * sizeof(*m->cpu));
		if (!m->tput || !m->cpu)
			die("out of memory");
		m->cpu[m->ntput] = counted ? (double)(cpu1 - cpu0) / (double)done : NAN;
		if (counted) {
			m->cpu_ns += cpu1 - cpu0;
			m->ctxsw += sw1 - sw0;
		}
		m->tput[m->ntput++] = (double)done * 1e9 / (double)elapsed;
	}
}

/* Interleaved rounds: every method K times per round, the order rotating. */
void run_rounds(struct method *ms, size_t n, size_t rounds, size_t k, uint64_t budget_ns)
{
	struct method *run[64];
	size_t nr = 0;

	for (size_t i = 0; i < n && nr < 64; i++)
		if (ms[i].available)
			run[nr++] = &ms[i];
	for (size_t i = 0; i < nr; i++)
		batch(run[i], 2, budget_ns, false); /* warm-up: page cache, allocator, code */
	for (size_t r = 0; r < rounds; r++)
		for (size_t j = 0; j < nr; j++)
			batch(run[(j + r) % nr], k, budget_ns, true);
}

/* Median over rounds of m's throughput divided by ref's in the same round. */
double tput_ratio(const struct method *m, const struct method *ref)
{
	size_t n = m->ntput < ref->ntput ? m->ntput : ref->ntput;
	double *v, med;

	if (!m->available || !ref->available || n == 0)
		return NAN;
	v = malloc(n * sizeof(*v));
	if (!v)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = m->tput[i] / ref->tput[i];
	med = dmedian(v, n);
	free(v);
	return med;
}

/* Median over rounds of ref's CPU per operation divided by m's (> 1: m
 * costs less CPU), NAN without counters. */
double cpu_ratio(const struct method *m, const struct method *ref)
{
	size_t n = m->ntput < ref->ntput ? m->ntput : ref->ntput, k = 0;
	double *v, med;

	if (!m->available || !ref->available || n == 0)
		return NAN;
	v = malloc(n * sizeof(*v));
	if (!v)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		if (!isnan(m->cpu[i]) && !isnan(ref->cpu[i]) && m->cpu[i] > 0)
			v[k++] = ref->cpu[i] / m->cpu[i];
	med = dmedian(v, k);
	free(v);
	return med;
}

struct method *method_add(struct method *ms, size_t *n, enum kind kind, uint64_t flags,
				 enum tether_backend be, bool warm)
{
	struct method *m = &ms[(*n)++];
	static const char *const kind_name[] = {
		[K_POSIX_SPAWN] = "posix_spawn", [K_FORK_EXEC] = "fork+exec", [K_VFORK_EXEC] = "vfork+exec",
		[K_TETHER_SPAWN] = "tether_spawn", [K_RAW_CLONE3] = "clone3 exit_signal=0+waitid",
		[K_TETHER_CLONE3] = "tether_clone3",
	};
	bool tether = kind == K_TETHER_SPAWN || kind == K_TETHER_CLONE3;
	bool lifecycle = flags != 0;

	*m = (struct method){ .kind = kind, .flags = flags, .be = be, .warm = warm, .available = true,
			      .anchor_fd = -1 };
	m->backend = !tether || !lifecycle ? "-" : be == TETHER_BACKEND_NATIVE ? "native" : "emulate";
	if (tether)
		snprintf(m->label, sizeof(m->label), "%s %s%s", kind_name[kind], flags_name(flags),
			 warm ? " (warm)" : "");
	else
		snprintf(m->label, sizeof(m->label), "%s", kind_name[kind]);
	if (tether)
		snprintf(m->id, sizeof(m->id), "%s/%s/%s%s",
			 kind == K_TETHER_SPAWN ? "spawn" : "clone3", flags_name(flags),
			 lifecycle ? m->backend : "kernel", warm ? "/warm" : "");
	else
		snprintf(m->id, sizeof(m->id), "%s",
			 kind == K_POSIX_SPAWN ? "posix_spawn" : kind == K_FORK_EXEC ? "fork+exec" :
			 kind == K_VFORK_EXEC ? "vfork+exec" : "clone3/raw");
	if (kind == K_TETHER_SPAWN) {
		if (tether_spawn_attr_init(&m->attr) < 0 || tether_spawn_attr_set_flags(m->attr, flags) < 0)
			die("tether_spawn_attr");
	}
	if (tether && lifecycle && be == TETHER_BACKEND_NATIVE && !native_has(flags)) {
		struct utsname u;

		m->available = false;
		snprintf(m->na, sizeof(m->na), "kernel %.40s lacks the flags", uname(&u) == 0 ? u.release : "?");
	}
	return m;
}

/* ------------------------------------------------------------------ */
/* Lifecycle flag combinations                                         */

const uint64_t all_combos[8] = { 0, AR, NNP, AR | NNP, AK, AK | NNP, AR | AK, AR | NNP | AK };

static int probe_spawn(uint64_t flags, enum tether_backend be)
{
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	int r;

	tether_set_backend(be);
	if (tether_spawn_attr_init(&attr) < 0)
		die("attr");
	r = tether_spawn_attr_set_flags(attr, flags);
	if (r == 0)
		r = tether_spawn(&c, noop_path, NULL, attr, noop_argv, empty_env);
	tether_spawn_attr_destroy(attr);
	if (r == 0)
		tether_wait_release(c, true);
	return -r;
}

void probe_combos(struct combo_probe *p)
{
	for (int i = 0; i < 8; i++) {
		uint64_t f = all_combos[i];
		p[i].flags = f;
		p[i].emulate_err = probe_spawn(f, TETHER_BACKEND_EMULATE);
		p[i].native_err = !f || native_has(f) ? probe_spawn(f, TETHER_BACKEND_NATIVE) : -1;
		if ((f & AK) && !(f & AR))
			p[i].rule = "R5: AUTOKILL needs AUTOREAP (and CLONE_PIDFD, implied)";
		else if ((f & AK) && !(f & NNP))
			p[i].rule = geteuid() == 0 ? "R6: needs NNP or CAP_SYS_ADMIN (have it)"
						   : "R6: needs NNP or CAP_SYS_ADMIN";
		else
			p[i].rule = "valid";
	}
	tether_set_backend(TETHER_BACKEND_AUTO);
}

void print_combos(const struct combo_probe *p)
{
	printf("\nLifecycle flag combinations (tether_spawn, as root):\n\n");
	printf("| flags | rule | emulate | native |\n|---|---|---|---|\n");
	for (int i = 0; i < 8; i++) {
		char e[40], n[40];
		snprintf(e, sizeof(e), "%s", p[i].emulate_err ? strerror(p[i].emulate_err) : "ok");
		if (p[i].native_err < 0)
			snprintf(n, sizeof(n), "n/a (kernel lacks flags)");
		else
			snprintf(n, sizeof(n), "%s", p[i].native_err ? strerror(p[i].native_err) : "ok");
		printf("| %s | %s | %s | %s |\n", flags_name(p[i].flags), p[i].rule, e, n);
		csv_row(flags_name(p[i].flags), "emulate", "", "valid", p[i].emulate_err ? "0" : "1", "bool");
		csv_row(flags_name(p[i].flags), "native", "", "valid",
			p[i].native_err < 0 ? "n/a" : p[i].native_err ? "0" : "1", "bool");
	}
}

void report_methods(struct method *ms, size_t n, const char *param, const char *ref_name)
{
	char a[24], b[24], c[24], d[24], e[24], f[24], g[24];

	printf("\n| method | backend | p50 µs | p99 µs | per s | × %s | n | CPU µs/op | CPU: %s ÷ method | context switches/op |\n",
	       ref_name, ref_name);
	printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < n; i++) {
		struct method *m = &ms[i];
		double p50 = spct(&m->lat, 0.50), p99 = spct(&m->lat, 0.99);
		double tp = m->count ? (double)m->count * 1e9 / (double)m->busy_ns : NAN;
		double ratio = tput_ratio(m, &ms[0]);
		double cpu = m->count && m->cpu_ns ? (double)m->cpu_ns / (double)m->count : NAN;
		double cr = cpu_ratio(m, &ms[0]);
		double sw = m->count && m->cpu_ns ? (double)m->ctxsw / (double)m->count : NAN;

		if (!m->available) {
			printf("| %s | %s | n/a | n/a | n/a | n/a | %s | n/a | n/a | n/a |\n", m->label, m->backend, m->na);
			csv_row(m->label, m->backend, param, "latency_p50", "n/a", "us");
			csv_row(m->label, m->backend, param, "latency_p99", "n/a", "us");
			csv_row(m->label, m->backend, param, "throughput", "n/a", "1/s");
			csv_row(m->label, m->backend, param, "throughput_ratio", "n/a", "x");
			continue;
		}
		printf("| %s | %s | %s | %s | %s | %s | %zu | %s | %s | %s |\n", m->label, m->backend, us(a, p50),
		       us(b, p99), num(c, tp, "%.0f"), num(d, ratio, "%.3f"), m->lat.n, us(e, cpu), num(f, cr, "%.3f"),
		       num(g, sw, "%.2f"));
		csv_num(m->label, m->backend, param, "latency_p50", p50 / 1e3, "us");
		csv_num(m->label, m->backend, param, "latency_p99", p99 / 1e3, "us");
		csv_num(m->label, m->backend, param, "throughput", tp, "1/s");
		csv_num(m->label, m->backend, param, "throughput_ratio", ratio, "x");
		csv_num(m->label, m->backend, param, "samples", (double)m->lat.n, "count");
		csv_num(m->label, m->backend, param, "cpu_per_op", cpu / 1e3, "us");
		csv_num(m->label, m->backend, param, "cpu_ratio", cr, "x");
		csv_num(m->label, m->backend, param, "ctxsw_per_op", sw, "count");
	}
}

/* Native vs emulated, where both ran (the VM): ratios only. */
void report_native_vs_emulated(struct method *ms, size_t n, const char *param)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		struct method *nat = &ms[i], *emu = NULL;
		char a[24], b[24], c[24];

		if (strcmp(nat->backend, "native") || !nat->available || nat->warm)
			continue;
		for (size_t j = 0; j < n; j++)
			if (ms[j].kind == nat->kind && ms[j].flags == nat->flags && !ms[j].warm &&
			    strcmp(ms[j].backend, "emulate") == 0)
				emu = &ms[j];
		if (!emu || !emu->available)
			continue;
		if (!any)
			printf("\nNative ÷ emulated (same run):\n\n| method | p50 | p99 | throughput |\n|---|---:|---:|---:|\n");
		any = true;
		{
			double r50 = spct(&nat->lat, .5) / spct(&emu->lat, .5);
			double r99 = spct(&nat->lat, .99) / spct(&emu->lat, .99);
			double rt = tput_ratio(nat, emu);
			printf("| %s | %s | %s | %s |\n", nat->label, num(a, r50, "%.3f"), num(b, r99, "%.3f"),
			       num(c, rt, "%.3f"));
			csv_num(nat->label, "native/emulate", param, "latency_p50_ratio", r50, "x");
			csv_num(nat->label, "native/emulate", param, "latency_p99_ratio", r99, "x");
			csv_num(nat->label, "native/emulate", param, "throughput_ratio", rt, "x");
		}
	}
}

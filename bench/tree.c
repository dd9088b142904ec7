/* SPDX-License-Identifier: MIT */
/*
 * tree: what a process tree (tether_spawn_attr_set_tree()) costs.
 *  - Spawn: spawn + wait of bench-noop as the root of a tree, for each
 *    mechanism the machine has, against plain tether_spawn (no flags, no
 *    monitor: the reference) and tether_spawn AUTOREAP|AUTOKILL emulated
 *    (a monitor, no tree), in interleaved rounds as the spawn part's.
 *  - Kill: a tree of N processes (the root, a copy of this program, and
 *    N-1 children of it that wait), killed with tether_child_kill_tree(
 *    SIGKILL), which returns once no process of the tree is left; then
 *    tether_child_wait_tree() until the monitor has ended and the cgroup
 *    (if any) is removed. p50 and p99 of each, per mechanism.
 */
#include "methods.h"

/* "bench __tree-root N": fork N-1 waiting children, say so on stdout, wait. */
static _Noreturn void tree_root(size_t n)
{
	for (size_t i = 1; i < n; i++) {
		pid_t p = fork();
		if (p == 0)
			for (;;)
				pause();
		if (p < 0)
			_exit(1);
	}
	if (write(1, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

void bench_tree_dispatch(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "__tree-root") == 0)
		tree_root((size_t)parse_size(argv[2]));
}

static const char *tree_word(enum tether_tree t)
{
	return t == TETHER_TREE_CGROUP ? "cgroup" : "subreaper";
}

/* The mechanisms this machine can serve, best first. */
static size_t tree_mechanisms(enum tether_tree *out)
{
	size_t n = 0;

	if (tether_tree_probe() == TETHER_TREE_CGROUP)
		out[n++] = TETHER_TREE_CGROUP;
	out[n++] = TETHER_TREE_SUBREAPER;
	return n;
}

static struct method *tree_method(struct method *ms, size_t *n, uint64_t flags, enum tether_tree tree)
{
	struct method *m = method_add(ms, n, K_TETHER_SPAWN, flags, TETHER_BACKEND_EMULATE, false);

	if (tether_spawn_attr_set_tree(m->attr, tree) < 0)
		die("tether_spawn_attr_set_tree");
	snprintf(m->label, sizeof(m->label), "tree (%s) %s", tree_word(tree), flags_name(flags));
	snprintf(m->id, sizeof(m->id), "tree/%s/%s", tree_word(tree), flags_name(flags));
	m->backend = flags ? "emulate" : "-";
	return m;
}

static void tree_spawn(size_t rounds, size_t k)
{
	enum tether_tree mech[2];
	size_t nm = tree_mechanisms(mech), n = 0;
	struct method ms[8];
	uint64_t t0 = now_ns();

	method_add(ms, &n, K_TETHER_SPAWN, 0, TETHER_BACKEND_AUTO, false);
	method_add(ms, &n, K_TETHER_SPAWN, AR | AK, TETHER_BACKEND_EMULATE, false);
	for (size_t i = 0; i < nm; i++) {
		tree_method(ms, &n, 0, mech[i]);
		tree_method(ms, &n, AR | AK, mech[i]);
	}
	run_rounds(ms, n, rounds, k, 5 * NSEC);
	printf("\ntree spawn + wait of bench-noop (the root; the tree ends with it): %zu rounds × %zu, interleaved "
	       "(%.1f s)\n",
	       rounds, k, (double)(now_ns() - t0) / 1e9);
	report_methods(ms, n, "", "tether_spawn");
}

/* One tree of size processes under mech: the kill's and the wait's time, ns. */
static void tree_kill_once(enum tether_tree mech, size_t size, struct samples *kill, struct samples *gone)
{
	static char self[PATH_MAX];
	char count[32], byte;
	char *argv[] = { "bench", "__tree-root", count, NULL };
	struct tether_file_actions *fa;
	struct tether_spawn_attr *attr;
	struct tether_child *c;
	int p[2], r;
	uint64_t t0, t1, t2;

	if (!self[0] && readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		die("/proc/self/exe: %s", strerror(errno));
	snprintf(count, sizeof(count), "%zu", size);
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	if (tether_file_actions_init(&fa) < 0 || tether_file_actions_add_dup2(fa, p[1], 1) < 0 ||
	    tether_spawn_attr_init(&attr) < 0 || tether_spawn_attr_set_tree(attr, mech) < 0)
		die("tree attributes");
	r = tether_spawn(&c, self, fa, attr, argv, empty_env);
	if (r < 0)
		die("tether_spawn (tree %s): %s", tree_word(mech), strerror(-r));
	close(p[1]);
	poll_one(p[0], POLLIN, 60000, "the tree did not start");
	if (read(p[0], &byte, 1) != 1)
		die("the tree's root failed");
	close(p[0]);
	r = tether_child_tree_pids(c, NULL, 0);
	if (r != (int)size)
		die("tree %s: %d members, expected %zu", tree_word(mech), r, size);
	t0 = now_ns();
	r = tether_child_kill_tree(c, SIGKILL);
	t1 = now_ns();
	if (r < 0)
		die("tether_child_kill_tree: %s", strerror(-r));
	r = tether_child_wait_tree(c, 60000);
	t2 = now_ns();
	if (r < 0)
		die("tether_child_wait_tree: %s", strerror(-r));
	sadd(kill, t1 - t0);
	sadd(gone, t2 - t0);
	tether_wait_release(c, false);
	tether_spawn_attr_destroy(attr);
	tether_file_actions_destroy(fa);
}

/*
 * The reference: size children of this process, forked and waiting, each
 * sent SIGKILL by pid and reaped with waitpid(): the least any kill of
 * that many processes costs on this machine (every exit is the kernel's
 * work either way). "gone" once every one is reaped.
 */
static void plain_kill_once(size_t size, struct samples *killed, struct samples *gone)
{
	pid_t *p = calloc(size, sizeof(*p));
	uint64_t t0, t1;

	if (!p)
		die("out of memory");
	for (size_t i = 0; i < size; i++) {
		p[i] = fork();
		if (p[i] == 0)
			for (;;)
				pause();
		if (p[i] < 0)
			die("fork: %s", strerror(errno));
	}
	t0 = now_ns();
	for (size_t i = 0; i < size; i++)
		kill(p[i], SIGKILL); /* our own children, unreaped: the pids are theirs */
	t1 = now_ns();
	for (size_t i = 0; i < size; i++)
		while (waitpid(p[i], NULL, 0) < 0 && errno == EINTR)
			;
	sadd(killed, t1 - t0);
	sadd(gone, now_ns() - t0);
	free(p);
}

static void kill_row(const char *label, const char *param, struct samples *kill, struct samples *gone)
{
	char a[24], b[24], c[24], d[24];

	printf("| %s | %s | %s | %s | %s |\n", label, num(a, spct(kill, .5) / 1e6, "%.2f"),
	       num(b, spct(kill, .99) / 1e6, "%.2f"), num(c, spct(gone, .5) / 1e6, "%.2f"),
	       num(d, spct(gone, .99) / 1e6, "%.2f"));
	csv_num(label, "-", param, "kill_p50", spct(kill, .5) / 1e6, "ms");
	csv_num(label, "-", param, "kill_p99", spct(kill, .99) / 1e6, "ms");
	csv_num(label, "-", param, "gone_p50", spct(gone, .5) / 1e6, "ms");
	csv_num(label, "-", param, "gone_p99", spct(gone, .99) / 1e6, "ms");
	free(kill->v);
	free(gone->v);
}

static void tree_kill(size_t size, size_t reps)
{
	enum tether_tree mech[2];
	size_t nm = tree_mechanisms(mech);
	struct samples kill[3] = { 0 }, gone[3] = { 0 };
	char param[32], label[64];

	raise_nofile(64);
	snprintf(param, sizeof(param), "%zu", size);
	printf("\nkilling a tree of %zu processes (the root and %zu waiting children), %zu times per mechanism,\n"
	       "interleaved: tether_child_kill_tree(SIGKILL) returns once none is left; \"gone\" adds the\n"
	       "monitor's end and the cgroup's removal (tether_child_wait_tree()). The reference: %zu\n"
	       "children of the caller, SIGKILL by pid, \"gone\" once waitpid() has reaped each\n\n",
	       size, size - 1, reps, size);
	printf("| what | kill p50 ms | kill p99 ms | gone p50 ms | gone p99 ms |\n|---|---:|---:|---:|---:|\n");
	tether_set_backend(TETHER_BACKEND_AUTO);
	for (size_t r = 0; r < reps; r++) {
		plain_kill_once(size, &kill[0], &gone[0]);
		for (size_t i = 0; i < nm; i++)
			tree_kill_once(mech[i], size, &kill[1 + i], &gone[1 + i]);
	}
	kill_row("kill(2) + waitpid() of own children", param, &kill[0], &gone[0]);
	for (size_t i = 0; i < nm; i++) {
		snprintf(label, sizeof(label), "tree (%s)", tree_word(mech[i]));
		kill_row(label, param, &kill[1 + i], &gone[1 + i]);
	}
}

void part_tree(size_t rounds, size_t k, size_t size, size_t reps)
{
	part = "tree";
	tree_spawn(rounds, k);
	tree_kill(size, reps);
}

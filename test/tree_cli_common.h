/* SPDX-License-Identifier: MIT */
/*
 * Shared by the t_tree_cli_* tests: tether(1) built in (cli_common.h) and
 * the tree child modes (tree_common.h).
 */
#ifndef TETHER_TEST_TREE_CLI_COMMON_H
#define TETHER_TEST_TREE_CLI_COMMON_H

#include "cli_common.h"
#include "tree_common.h"

static inline void ttc_dispatch(int argc, char **argv)
{
	tt_child_dispatch(argc, argv);
	tc_dispatch(argc, argv);
	tt_setup();
}

/*
 * A deadline that a tree of a few processes starts well within: 1 s on the
 * host, 5 s in the VMs (QEMU's TCG runs a setsid() + double fork in
 * seconds when the machine is busy) and under the memory checkers.
 */
static inline const char *ttc_deadline(void)
{
	return t_env_is_1("TETHER_TEST_VM") || t_env_is_1("TETHER_TEST_REDUCED") ? "5" : "1";
}

/* "--tree=MECHANISM" for mech. */
static inline const char *ttc_tree_option(enum tether_tree mech)
{
	return mech == TETHER_TREE_CGROUP ? "--tree=cgroup" : "--tree=subreaper";
}

/*
 * Start "tether ARGS... (NULL)"; read n pids from the command's output
 * (the tree's members say theirs); *t is the running tether.
 */
static inline void ttc_start(struct tc_cli *t, pid_t *pids, int n, const char *first, ...)
{
	const char *args[TC_MAX_ARGS];
	va_list ap;

	va_start(ap, first);
	tc_collect(args, first, ap);
	va_end(ap);
	tc_start_v(t, NULL, args);
	if (n > 0 && tt_read_pids(t->out, pids, n) != n) {
		char err[2048];
		struct pollfd p = { t->err, POLLIN, 0 };
		ssize_t len = poll(&p, 1, 0) == 1 ? read(t->err, err, sizeof(err) - 1) : 0;
		err[len > 0 ? len : 0] = '\0';
		t_fail("the tree under tether(1) did not start; tether said: %s", err);
	}
}

/* Wait (bounded) for tether to end without reading its output to the end; its status as a shell shows it. */
static inline int ttc_wait(struct tc_cli *t)
{
	struct tether_exit_info info;
	int r = tether_child_wait(t->child, 30000, &info);

	T_ASSERT(r == 0, "tether(1) did not end: %s", strerror(-r));
	close(t->out);
	close(t->err);
	tether_child_release(t->child);
	return info.exited ? info.exit_code : 128 + info.signal;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * tether init: a grandchild orphaned by its parent's exit, which then exits
 * itself, is reaped at once: the command sees no trace of it left (not even
 * a zombie) and exits 0, so tether init does.
 */
#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	ttc_dispatch(argc, argv);
	tt_flagless_one_pass(); /* no --autokill, no --nnp */
	int status = tc_run("init", "--", TS_SELF, "child", "tree-orphan-exit", tt_mark(), NULL);
	T_ASSERT(status == 0, "tether init exited %d (3: the orphan stayed a zombie); stderr: %s", status, tc_err);
	t_pass("tether init reaps an adopted orphan's zombie");
}

/* SPDX-License-Identifier: MIT */
/* tether init exits with its command's status (the root's), though the tree had another member. */
#include "tree_cli_common.h"

int main(int argc, char **argv)
{
	ttc_dispatch(argc, argv);
	tt_flagless_one_pass(); /* no --autokill, no --nnp */
	int status = tc_run("init", "--", TS_SELF, "child", "tree-exit-after", tt_mark(), "7", NULL);
	T_ASSERT(status == 7, "tether init exited %d, expected the command's 7; stderr: %s", status, tc_err);
	t_pass("tether init exits with the command's status");
}

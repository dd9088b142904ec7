/* SPDX-License-Identifier: MIT */
/* tether(1): run a command as a child whose lifecycle tether controls. See tether-cli.c. */
#include "tether-cli.h"

int main(int argc, char **argv)
{
	return tether_cli_main(argc, argv);
}

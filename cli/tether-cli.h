/* SPDX-License-Identifier: MIT */
#ifndef TETHER_CLI_H
#define TETHER_CLI_H

/* The whole of tether(1): argv as main() gets it; returns the exit status. */
int tether_cli_main(int argc, char **argv);

#endif

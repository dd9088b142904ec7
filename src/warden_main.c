/* SPDX-License-Identifier: MIT */
/*
 * tether-warden: the warden as a program of its own, embedded in libtether
 * and exec'd from a memfd, so that it holds no copy of its creator's memory.
 * Usage: tether-warden FD (the channel, inherited).
 */
#include <stdlib.h>

#include "warden.h"

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	warden_loop(atoi(argv[1]));
}

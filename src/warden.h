/* SPDX-License-Identifier: MIT */
#ifndef TETHER_WARDEN_H
#define TETHER_WARDEN_H

/* warden_loop.c: the warden's body, on the channel's fd; never returns. */
_Noreturn void warden_loop(int sock);

#endif

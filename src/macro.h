/* SPDX-License-Identifier: MIT */
/* Small helpers in the style of systemd's macro.h. */
#ifndef TETHER_MACRO_H
#define TETHER_MACRO_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _public_ __attribute__((visibility("default")))
#define _hidden_ __attribute__((visibility("hidden")))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unlikely_(x) __builtin_expect(!!(x), 0)
#define _likely_(x) __builtin_expect(!!(x), 1)
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* close() that keeps errno, for cleanup paths. */
static inline void safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
}

static inline void closep(int *fd)
{
	safe_close(*fd);
	*fd = -1;
}
#define _cleanup_close_ _cleanup_(closep)

/* Take ownership of a value, leaving the sentinel behind (so cleanup does nothing). */
#define TAKE_FD(fd)                  \
	({                           \
		int _fd_ = (fd);     \
		(fd) = -1;           \
		_fd_;                \
	})

/* Negative errno of the last failed libc call. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif

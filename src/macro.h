/* SPDX-License-Identifier: MIT */
/* Small helpers in the style of systemd's macro.h. */
#ifndef TETHER_MACRO_H
#define TETHER_MACRO_H

#include <errno.h>
#include <pthread.h>
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


/*
 * Every public call but tether_clone3() (which follows the system call)
 * leaves errno as it found it: PRESERVE_ERRNO at the top of the function
 * restores it whenever the function returns. Async-signal-safe.
 */
static inline void errno_restore(const int *saved)
{
	errno = *saved;
}
#define PRESERVE_ERRNO int _saved_errno_ __attribute__((unused)) _cleanup_(errno_restore) = errno

/*
 * Public calls that may block or take a lock are no cancellation point: a
 * thread cancelled inside one would leave a lock held or a child half-made.
 * NO_CANCELLATION disables cancellation until the function returns (a
 * pending request acts at the caller's next cancellation point), as
 * posix_spawn() does. Put it after PRESERVE_ERRNO.
 */
static inline int cancel_disable(void)
{
	int old = PTHREAD_CANCEL_ENABLE;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return old;
}
static inline void cancel_restore(const int *old)
{
	pthread_setcancelstate(*old, NULL);
}
#define NO_CANCELLATION int _cancel_state_ __attribute__((unused)) _cleanup_(cancel_restore) = cancel_disable()

#endif

/* SPDX-License-Identifier: MIT */
#ifndef TETHER_INTERNAL_H
#define TETHER_INTERNAL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tether.h"
#include "macro.h"

/* A small file (in /proc) into buf, NUL-terminated: its length, or -1 (also for an empty one). */
static inline ssize_t read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/*
 * Whether the pidfd fd names process pid, by /proc's fdinfo ("Pid:", on
 * every kernel with pidfds): 1 yes, 0 no, -1 unknown: no /proc, or "Pid:"
 * is -1 (the process has been reaped) or 0 (not in the /proc mount's pid
 * namespace; kernel/pid.c, pidfd_show_fdinfo()), whoever's pidfd it is.
 */
static inline int pidfd_fdinfo_names(int fd, pid_t pid)
{
	char path[64], buf[512], *p;

	if (fd < 0 || pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/thread-self/fdinfo/%d", fd);
	if (read_small_file(path, buf, sizeof(buf)) < 0) {
		/* ENOENT: the number is closed, if /proc is there at all. No
		 * descriptor free to read it (EMFILE...): nothing is known. */
		if (errno != ENOENT)
			return -1;
		return access("/proc/thread-self/fdinfo", F_OK) == 0 ? 0 : -1;
	}
	p = strstr(buf, "\nPid:");
	if (!p)
		return 0;
	long v = strtol(p + 5, NULL, 10);
	return v <= 0 ? -1 : v == pid;
}

/* ioctl(PIDFD_GET_INFO) carries the struct size in its number: one per version. */
#define PIDFS_IOCTL_MAGIC 0xFF
#define PIDFD_GET_INFO_SIZED(size) _IOC(_IOC_READ | _IOC_WRITE, PIDFS_IOCTL_MAGIC, 11, (size))

/* features.c */
_hidden_ unsigned int features_get(void);
_hidden_ bool features_info_supported_at_72(void);
static inline bool feature_has(unsigned int f)
{
	return (features_get() & f) == f;
}

/* backend.c */
_hidden_ enum tether_backend backend_resolve(uint64_t clone_flags);


/* validate.c: the kernel's checks, in the kernel's order. */
_hidden_ int clone_args_copy(const struct clone_args *uargs, size_t size, struct clone_args *kargs);
_hidden_ int lifecycle_flags_validate(const struct clone_args *kargs);
_hidden_ bool self_is_autoreap(void);

/* emulate_clone3.c */
_hidden_ pid_t emulate_clone3(const struct clone_args *kargs, size_t size);

/* emulate_registry.c: what the library keeps about emulated children. */
/* 1: reaped (the kernel's own record, where it keeps one, is complete);
 * 0: exited, not reaped yet (traced); -ENOENT: no emulated child that ended. */
_hidden_ int registry_exit_status(int pidfd, int *status);
_hidden_ int registry_autokill_fd(int pidfd);
_hidden_ int registry_release(int pidfd);
_hidden_ void pidfd_records_forget(int pidfd);
/* The handle's pidfd while its number still holds it, else -EBADF (handle.c). */
_hidden_ int child_pidfd(const struct tether_child *child);
/* A spawned program's pending stop or continue from its monitor (monitor.h's
 * MONITOR_EVENT() form, 0: none); -ENOENT: not a program with a monitor. */
_hidden_ int registry_child_event(int pidfd, uint32_t *event);
/* tether_child_wait() collected the exit of a spawned program: reap its monitor. */
_hidden_ void registry_spawned_ended(int pidfd);

#endif

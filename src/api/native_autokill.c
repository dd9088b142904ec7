/* SPDX-License-Identifier: MIT */
/*
 * Which pidfds of this process are the kernel's autokill files: the ones
 * tether_clone3() got from a native CLONE_PIDFD_AUTOKILL call. The kernel
 * marks the file, but says so to nobody, and a pidfd of the same process
 * from pidfd_open() is another file that must not be mistaken for it (B14):
 * tether_autokill_fd() answers -ENOENT for it, as the header promises.
 *
 * Kept by descriptor number and pidfs inode (the running kernel has pidfs:
 * the flag came long after it), until tether_pidfd_close(). Guarded by the
 * registry's lock, which the library's fork handlers already take care of.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "emulate.h"

struct entry {
	int fd;
	ino_t ino;
};

static struct entry *entries;
static size_t n_entries, cap_entries;

static bool fd_ino(int fd, ino_t *ino)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return false;
	*ino = st.st_ino;
	return true;
}

/* Under the lock: the slot of fd, or n_entries. */
static size_t find_locked(int fd)
{
	size_t i;

	for (i = 0; i < n_entries; i++)
		if (entries[i].fd == fd)
			break;
	return i;
}

void native_autokill_add(int pidfd)
{
	ino_t ino;
	size_t i;

	if (!fd_ino(pidfd, &ino))
		return;
	registry_lock();
	i = find_locked(pidfd);
	if (i == n_entries && n_entries == cap_entries) {
		size_t cap = cap_entries ? 2 * cap_entries : 16;
		struct entry *p = realloc(entries, cap * sizeof(*p));
		if (!p) {
			/* Unknown then: tether_autokill_fd() answers -ENOENT for it. */
			registry_unlock();
			return;
		}
		entries = p;
		cap_entries = cap;
	}
	entries[i] = (struct entry){ .fd = pidfd, .ino = ino };
	if (i == n_entries)
		n_entries++;
	registry_unlock();
}

bool native_autokill_has(int pidfd)
{
	ino_t ino;
	size_t i;
	bool r;

	if (!fd_ino(pidfd, &ino))
		return false;
	registry_lock();
	i = find_locked(pidfd);
	r = i < n_entries && entries[i].ino == ino;
	registry_unlock();
	return r;
}

void native_autokill_forget(int pidfd)
{
	size_t i;

	registry_lock();
	i = find_locked(pidfd);
	if (i < n_entries)
		entries[i] = entries[--n_entries];
	registry_unlock();
}

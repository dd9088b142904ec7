/* SPDX-License-Identifier: MIT */
/* struct tether_spawn_attr: how a spawned child starts. */
#include <stdlib.h>
#include <string.h>

#include "spawn.h"

_public_ int tether_spawn_attr_init(struct tether_spawn_attr **attr)
{
	PRESERVE_ERRNO;
	struct tether_spawn_attr *a;

	if (!attr)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cgroup_fd = -1;
	a->foreground_tty = -1;
	sigemptyset(&a->sigmask);
	sigemptyset(&a->sigdefault);
	*attr = a;
	return 0;
}

_public_ void tether_spawn_attr_destroy(struct tether_spawn_attr *attr)
{
	PRESERVE_ERRNO;
	free(attr);
}

_public_ int tether_spawn_attr_set_flags(struct tether_spawn_attr *attr, __u64 flags)
{
	PRESERVE_ERRNO;
	if (!attr || (flags & ~(TETHER_CLONE_FLAGS | (__u64)CLONE_PIDFD)))
		return -EINVAL;
	attr->flags = flags & TETHER_CLONE_FLAGS; /* CLONE_PIDFD: always there */
	return 0;
}

_public_ int tether_spawn_attr_set_setsid(struct tether_spawn_attr *attr, bool setsid)
{
	PRESERVE_ERRNO;
	if (!attr)
		return -EINVAL;
	attr->setsid = setsid;
	return 0;
}

_public_ int tether_spawn_attr_set_pgroup(struct tether_spawn_attr *attr, pid_t pgroup)
{
	PRESERVE_ERRNO;
	if (!attr || pgroup < -1)
		return -EINVAL;
	attr->set_pgroup = pgroup >= 0;
	attr->pgroup = pgroup >= 0 ? pgroup : 0;
	return 0;
}

_public_ int tether_spawn_attr_set_foreground(struct tether_spawn_attr *attr, int tty_fd)
{
	PRESERVE_ERRNO;
	if (!attr || tty_fd < -1)
		return -EINVAL;
	attr->foreground_tty = tty_fd;
	return 0;
}

_public_ int tether_spawn_attr_set_sigmask(struct tether_spawn_attr *attr, const sigset_t *mask)
{
	PRESERVE_ERRNO;
	if (!attr)
		return -EINVAL;
	attr->set_sigmask = mask != NULL;
	if (mask)
		attr->sigmask = *mask;
	else
		sigemptyset(&attr->sigmask);
	return 0;
}

_public_ int tether_spawn_attr_set_sigdefault(struct tether_spawn_attr *attr, const sigset_t *set)
{
	PRESERVE_ERRNO;
	if (!attr)
		return -EINVAL;
	attr->set_sigdefault = set != NULL;
	if (set)
		attr->sigdefault = *set;
	else
		sigemptyset(&attr->sigdefault);
	return 0;
}

_public_ int tether_spawn_attr_set_cgroup(struct tether_spawn_attr *attr, int cgroup_fd)
{
	PRESERVE_ERRNO;
	if (!attr || cgroup_fd < -1)
		return -EINVAL;
	attr->cgroup_fd = cgroup_fd;
	return 0;
}

_public_ int tether_spawn_attr_set_umask(struct tether_spawn_attr *attr, mode_t mask)
{
	PRESERVE_ERRNO;
	if (!attr || (mask & ~(mode_t)0777))
		return -EINVAL;
	attr->set_umask = true;
	attr->umask = mask;
	return 0;
}

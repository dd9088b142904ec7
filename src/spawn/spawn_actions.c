/* SPDX-License-Identifier: MIT */
/* struct tether_file_actions: what the child does to its descriptors and directory, in order. */
#include <stdlib.h>
#include <string.h>

#include "spawn.h"

_public_ int tether_file_actions_init(struct tether_file_actions **actions)
{
	PRESERVE_ERRNO;
	struct tether_file_actions *fa;

	if (!actions)
		return -EINVAL;
	fa = calloc(1, sizeof(*fa));
	if (!fa)
		return -ENOMEM;
	*actions = fa;
	return 0;
}

_public_ void tether_file_actions_destroy(struct tether_file_actions *actions)
{
	PRESERVE_ERRNO;
	if (!actions)
		return;
	for (size_t i = 0; i < actions->n; i++) {
		free(actions->v[i].path);
		free(actions->v[i].keep);
	}
	free(actions->v);
	free(actions);
}

/* Append a, taking ownership of its allocations on success only. */
static int action_append(struct tether_file_actions *fa, const struct file_action *a)
{
	if (fa->n == fa->cap) {
		size_t cap = fa->cap ? fa->cap * 2 : 8;
		struct file_action *v = realloc(fa->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fa->v = v;
		fa->cap = cap;
	}
	fa->v[fa->n++] = *a;
	return 0;
}

static int action_append_path(struct tether_file_actions *fa, struct file_action *a, const char *path)
{
	int r;

	if (!path)
		return -EINVAL;
	a->path = strdup(path);
	if (!a->path)
		return -ENOMEM;
	r = action_append(fa, a);
	if (r < 0)
		free(a->path);
	return r;
}

_public_ int tether_file_actions_add_dup2(struct tether_file_actions *actions, int fd, int newfd)
{
	PRESERVE_ERRNO;
	if (!actions)
		return -EINVAL;
	if (fd < 0 || newfd < 0)
		return -EBADF;
	return action_append(actions, &(struct file_action){ .type = FILE_ACTION_DUP2, .fd = fd, .newfd = newfd });
}

_public_ int tether_file_actions_add_close(struct tether_file_actions *actions, int fd)
{
	PRESERVE_ERRNO;
	if (!actions)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	return action_append(actions, &(struct file_action){ .type = FILE_ACTION_CLOSE, .fd = fd });
}

_public_ int tether_file_actions_add_open(struct tether_file_actions *actions, int fd, const char *path,
					  int oflag, mode_t mode)
{
	PRESERVE_ERRNO;
	struct file_action a = { .type = FILE_ACTION_OPEN, .fd = fd, .oflag = oflag, .mode = mode };

	if (!actions)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	return action_append_path(actions, &a, path);
}

_public_ int tether_file_actions_add_chdir(struct tether_file_actions *actions, const char *path)
{
	PRESERVE_ERRNO;
	struct file_action a = { .type = FILE_ACTION_CHDIR, .fd = -1 };

	if (!actions)
		return -EINVAL;
	return action_append_path(actions, &a, path);
}

_public_ int tether_file_actions_add_fchdir(struct tether_file_actions *actions, int fd)
{
	PRESERVE_ERRNO;
	if (!actions)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	return action_append(actions, &(struct file_action){ .type = FILE_ACTION_FCHDIR, .fd = fd });
}

_public_ int tether_file_actions_add_close_range(struct tether_file_actions *actions, unsigned int first,
						 unsigned int last)
{
	PRESERVE_ERRNO;
	if (!actions || first > last)
		return -EINVAL;
	return action_append(actions, &(struct file_action){ .type = FILE_ACTION_CLOSE_RANGE, .fd = -1,
							     .first = first, .last = last });
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

_public_ int tether_file_actions_add_close_all_but(struct tether_file_actions *actions, const int *keep,
						   size_t n_keep)
{
	PRESERVE_ERRNO;
	struct file_action a = { .type = FILE_ACTION_CLOSE_ALL_BUT, .fd = -1 };
	size_t n = 0;
	int r;

	if (!actions || (n_keep > 0 && !keep))
		return -EINVAL;
	if (n_keep > 0) {
		/* Sorted and unique, without 0-2 (never closed anyway): the child
		 * then closes the gaps with one close_range() each. */
		if (n_keep > SIZE_MAX / sizeof(int))
			return -ENOMEM; /* no such array: its size in bytes would wrap */
		a.keep = malloc(n_keep * sizeof(int));
		if (!a.keep)
			return -ENOMEM;
		for (size_t i = 0; i < n_keep; i++) {
			if (keep[i] < 0) {
				free(a.keep);
				return -EBADF;
			}
			if (keep[i] > 2)
				a.keep[n++] = keep[i];
		}
		qsort(a.keep, n, sizeof(int), int_cmp);
		a.n_keep = 0;
		for (size_t i = 0; i < n; i++)
			if (a.n_keep == 0 || a.keep[a.n_keep - 1] != a.keep[i])
				a.keep[a.n_keep++] = a.keep[i];
	}
	r = action_append(actions, &a);
	if (r < 0)
		free(a.keep);
	return r;
}

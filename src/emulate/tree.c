/* SPDX-License-Identifier: MIT */
/*
 * Process trees: a spawned child and every process descended from it,
 * killed together and waited for together (tether.h, "Process trees").
 *
 * The mechanism is the monitor (monitor.c) in tree mode: it is the root's
 * parent and a child subreaper, so that every orphan of the tree is
 * re-parented to it (kernel/exit.c, find_new_reaper()) and reaped there, and
 * it kills the tree by walking /proc/PID/task/TID/children from itself,
 * again and again until it has no child left (monitor_body.c). Where the
 * caller may create a cgroup v2 directory, the tree also gets one of its
 * own: the root starts in it (CLONE_INTO_CGROUP, so every descendant is in
 * it from its first instruction), the monitor writes cgroup.kill before
 * walking, keeps cpu.stat and memory.peak once the tree is gone, and
 * removes the directory. This file is the caller's side: choosing and
 * creating the cgroup, and the public calls.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "emulate.h"
#include "spawn.h"
#include "syscalls.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK /* include/uapi/linux/pidfd.h */
#endif

_public_ int tether_spawn_attr_set_tree(struct tether_spawn_attr *attr, enum tether_tree mode)
{
	PRESERVE_ERRNO;
	if (!attr || (mode != TETHER_TREE_NONE && mode != TETHER_TREE_AUTO && mode != TETHER_TREE_SUBREAPER &&
		      mode != TETHER_TREE_CGROUP))
		return -EINVAL;
	attr->tree = mode;
	return 0;
}

/* The first line of f that starts with prefix, without it and its newline. */
static bool read_line_after(const char *file, const char *prefix, char *out, size_t len)
{
	char line[4096];
	size_t plen = strlen(prefix);
	FILE *f = fopen(file, "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, prefix, plen) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		found = snprintf(out, len, "%s", line + plen) < (int)len;
	}
	fclose(f);
	return found;
}

/* Where cgroup v2 is mounted (the first such mount), from /proc/self/mountinfo. */
static bool cgroup2_mount(char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char *sep = strstr(line, " - "), *mp, *end;
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		mp = line;
		for (int field = 0; field < 4 && mp; field++)
			mp = strchr(mp, ' '), mp = mp ? mp + 1 : NULL;
		if (!mp || !(end = strchr(mp, ' ')))
			continue;
		*end = '\0';
		/* Octal escapes (\040) in a mount point: not worth handling, skip it. */
		if (!strchr(mp, '\\'))
			found = snprintf(out, len, "%s", mp) < (int)len;
	}
	fclose(f);
	return found;
}

/* The caller's own cgroup v2 directory, opened. -errno if there is none. */
static int own_cgroup_dir(void)
{
	char mnt[2048], path[2048], full[4200];
	int fd;

	if (!cgroup2_mount(mnt, sizeof(mnt)) || !read_line_after("/proc/self/cgroup", "0::", path, sizeof(path)))
		return -ENOENT;
	snprintf(full, sizeof(full), "%s%s", mnt, strcmp(path, "/") == 0 ? "" : path);
	fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

static unsigned int tree_counter;

/* Make a directory of the tree's own under parent (consumed). */
static int cgroup_make(int parent, struct tree_setup *ts)
{
	unsigned int n = __atomic_add_fetch(&tree_counter, 1, __ATOMIC_RELAXED);
	int fd;

	snprintf(ts->cg_name, sizeof(ts->cg_name), "tether-tree-%d-%u", (int)getpid(), n);
	if (mkdirat(parent, ts->cg_name, 0755) < 0) {
		int r = negative_errno();
		close(parent);
		return r;
	}
	fd = openat(parent, ts->cg_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int r = negative_errno();
		unlinkat(parent, ts->cg_name, AT_REMOVEDIR);
		close(parent);
		return r;
	}
	ts->cg_dir = fd;
	ts->cg_parent = parent;
	return 0;
}

int tree_prepare(const struct tether_spawn_attr *attr, struct tree_setup *ts, enum tether_tree *mode)
{
	int parent, r;

	*ts = (struct tree_setup){ .cg_dir = -1, .cg_parent = -1 };
	*mode = attr->tree;
	if (attr->tree == TETHER_TREE_SUBREAPER)
		return 0;
	if (attr->cgroup_fd >= 0) {
		parent = fcntl(attr->cgroup_fd, F_DUPFD_CLOEXEC, 3);
		if (parent < 0)
			parent = negative_errno();
	} else {
		parent = own_cgroup_dir();
	}
	r = parent < 0 ? parent : cgroup_make(parent, ts);
	if (r < 0 && attr->tree == TETHER_TREE_AUTO) {
		*mode = TETHER_TREE_SUBREAPER; /* not allowed here: the subreaper alone */
		return 0;
	}
	if (r == 0)
		*mode = TETHER_TREE_CGROUP;
	return r;
}

void tree_setup_done(struct tree_setup *ts, bool failed)
{
	if (ts->cg_dir < 0)
		return;
	close(ts->cg_dir);
	if (failed)
		unlinkat(ts->cg_parent, ts->cg_name, AT_REMOVEDIR);
	close(ts->cg_parent);
	ts->cg_dir = ts->cg_parent = -1;
}

_public_ enum tether_tree tether_tree_probe(void)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	struct tether_spawn_attr a = { .cgroup_fd = -1, .tree = TETHER_TREE_CGROUP };
	struct tree_setup ts;
	enum tether_tree mode;

	if (tree_prepare(&a, &ts, &mode) < 0)
		return TETHER_TREE_SUBREAPER;
	tree_setup_done(&ts, true);
	return TETHER_TREE_CGROUP;
}

static struct monitor *tree_of(const struct tether_child *child)
{
	int fd = child ? child_pidfd(child) : -1;

	return fd >= 0 ? registry_tree_monitor(fd) : NULL;
}

_public_ enum tether_tree tether_child_tree(const struct tether_child *child)
{
	PRESERVE_ERRNO;
	struct monitor *m = tree_of(child);

	if (!m)
		return TETHER_TREE_NONE;
	return monitor_tree_has_cgroup(m) ? TETHER_TREE_CGROUP : TETHER_TREE_SUBREAPER;
}

_public_ int tether_child_kill_tree(struct tether_child *child, int sig)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	struct monitor *m;

	if (!child || sig < 0 || sig > 64)
		return -EINVAL;
	m = tree_of(child);
	if (!m)
		return -ENOTSUP;
	if (sig == 0)
		return monitor_ended(m, 0) ? -ESRCH : 0;
	return monitor_tree_signal(m, sig);
}

_public_ int tether_child_wait_tree(struct tether_child *child, int timeout_ms)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	struct monitor *m;

	if (!child)
		return -EINVAL;
	m = tree_of(child);
	if (!m)
		return -ENOTSUP;
	return monitor_ended(m, timeout_ms) ? 0 : -ETIMEDOUT;
}

/* The tree's monitor into *m: 1 while the tree lives, 0 once it is gone, -ENOTSUP (not a tree). */
static int live_tree(const struct tether_child *child, struct monitor **m)
{
	*m = tree_of(child);
	if (!*m)
		return -ENOTSUP;
	return monitor_ended(*m, 0) ? 0 : 1;
}

/*
 * Append the children of every thread of pid to out (any thread may have
 * forked); parent (may be NULL) gets parent_index for each.
 */
static size_t children_of(pid_t pid, pid_t *out, size_t *parent, size_t parent_index, size_t n, size_t max)
{
	char path[64], cpath[400];
	struct dirent *d;
	DIR *dir;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return n;
	while ((d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(cpath, sizeof(cpath), "%s/%s/children", path, d->d_name);
		f = fopen(cpath, "re");
		while (f && n < max && fscanf(f, "%ld", &v) == 1) {
			if (parent)
				parent[n] = parent_index;
			out[n++] = (pid_t)v;
		}
		if (f)
			fclose(f);
	}
	closedir(dir);
	return n;
}

_public_ int tether_child_tree_pids(struct tether_child *child, pid_t *pids, size_t max)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	/* The walk needs the pids themselves: past max, a scratch list. */
	enum { LIMIT = 1 << 16 };
	struct monitor *m;
	pid_t *q;
	size_t n;

	int r;

	if (!child || (!pids && max))
		return -EINVAL;
	r = live_tree(child, &m);
	if (r <= 0)
		return r;
	q = malloc(LIMIT * sizeof(*q));
	if (!q)
		return -ENOMEM;
	n = children_of(monitor_pid(m), q, NULL, 0, 0, LIMIT);
	for (size_t i = 0; i < n; i++)
		n = children_of(q[i], q, NULL, 0, n, LIMIT);
	for (size_t i = 0; i < n && i < max; i++)
		pids[i] = q[i];
	free(q);
	return (int)n;
}

/* The parent pid of pid from /proc/PID/stat (after the command's closing parenthesis), or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	long ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/*
 * A pidfd for the member found at pid as a child of the process behind
 * parent_fd (parent_pid); -ESRCH if pid is no longer that member, or
 * pidfd_open()'s -errno (EMFILE, ENFILE, ENOMEM).
 *
 * Why the order: pidfd_open() takes whatever process has the pid now. Its
 * parent is read after that; if the pidfd has not exited after the read,
 * the /proc entry read was that same process (a pid is not reused while
 * its process lives), and if the parent's pidfd has not exited either, the
 * parent pid read was the parent that was walked (or the monitor, which
 * adopts the tree's orphans). So a returned pidfd is a member's, never a
 * stranger's that took a dead member's pid.
 */
static int member_pidfd(pid_t pid, pid_t parent_pid, int parent_fd, pid_t monitor, int monitor_fd, unsigned int flags)
{
	int fd = sys_pidfd_open(pid, flags);
	pid_t ppid;

	if (fd < 0)
		return errno == ESRCH ? -ESRCH : negative_errno();
	ppid = parent_of(pid);
	if (ppid > 0 && !pidfd_exited(fd, 0) &&
	    ((ppid == parent_pid && !pidfd_exited(parent_fd, 0)) || (ppid == monitor && !pidfd_exited(monitor_fd, 0))))
		return fd;
	close(fd);
	return -ESRCH;
}

_public_ int tether_child_tree_pidfds(struct tether_child *child, int *pidfds, size_t max, unsigned int flags)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	enum { LIMIT = 1 << 16 };
	size_t n, stored = 0, *parent;
	int monitor_fd, *fds, r = 0;
	struct monitor *m;
	pid_t *q, mpid;

	if (!child || (!pidfds && max) || (flags & ~(unsigned int)PIDFD_NONBLOCK))
		return -EINVAL;
	r = live_tree(child, &m);
	if (r <= 0)
		return r;
	r = 0;
	q = malloc(LIMIT * sizeof(*q));
	parent = malloc(LIMIT * sizeof(*parent));
	fds = malloc(LIMIT * sizeof(*fds));
	if (!q || !parent || !fds) {
		free(q);
		free(parent);
		free(fds);
		return -ENOMEM;
	}
	mpid = monitor_pid(m);
	monitor_fd = monitor_pidfd(m);
	/* Breadth first, each member checked against its parent's pidfd: a
	 * parent opened before its children. */
	n = children_of(mpid, q, parent, SIZE_MAX, 0, LIMIT);
	for (size_t i = 0; i < n; i++) {
		pid_t ppid = parent[i] == SIZE_MAX ? mpid : q[parent[i]];
		int pfd = parent[i] == SIZE_MAX ? monitor_fd : fds[parent[i]];

		fds[i] = pfd < 0 ? -ESRCH : member_pidfd(q[i], ppid, pfd, mpid, monitor_fd, flags);
		if (fds[i] == -ESRCH)
			continue;
		if (fds[i] < 0) {
			/* No silently short list: the whole call fails. */
			r = fds[i];
			n = i; /* fds[0..i) are closed below */
			break;
		}
		n = children_of(q[i], q, parent, i, n, LIMIT);
		if (stored < max)
			pidfds[stored++] = fds[i];
		else
			stored++;
	}
	/* What the caller does not get, or a parent it did not ask for, is closed. */
	for (size_t i = 0, k = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		if (r < 0 || k++ >= max)
			close(fds[i]);
	}
	free(q);
	free(parent);
	free(fds);
	return r < 0 ? r : (int)stored;
}

_public_ int tether_child_tree_stats(struct tether_child *child, struct tether_tree_stats *st)
{
	PRESERVE_ERRNO;
	struct monitor *m;

	if (!child || !st)
		return -EINVAL;
	m = tree_of(child);
	if (!m)
		return -ENOTSUP;
	monitor_tree_stats(m, st);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The cgroup attribute (CLONE_INTO_CGROUP): the child starts in the given
 * cgroup v2 directory, with and without lifecycle flags. Skipped where no
 * cgroup v2 hierarchy can be used (not mounted and cannot be, or this
 * process's cgroup cannot get a child).
 */
#include <sys/mount.h>

#include "spawn_common.h"

/* The cgroup2 mount point, mounting one in the temporary directory if none. */
static bool cgroup2_root(char *root, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		/* "id parent maj:min root mountpoint opts ... - fstype source superopts" */
		char mnt[4096], *dash = strstr(line, " - ");
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strlen(mnt) < len) {
			memcpy(root, mnt, strlen(mnt) + 1);
			fclose(f);
			return true;
		}
	}
	if (f)
		fclose(f);
	snprintf(root, len, "%s/cgroup2", ts_tmpdir());
	if (mkdir(root, 0755) < 0 || mount("cgroup2", root, "cgroup2", 0, NULL) < 0)
		return false;
	return true;
}

static char mounted[512];
static void unmount_it(void)
{
	if (mounted[0])
		umount2(mounted, MNT_DETACH);
}

int main(int argc, char **argv)
{
	static const uint64_t variants[] = { 0, CLONE_AUTOREAP | CLONE_NNP };
	char root[512], self_cg[1024] = "", dir[2048], line[1024], out[4096];
	FILE *f;
	int dfd, r;

	ts_child_dispatch(argc, argv);
	if (!cgroup2_root(root, sizeof(root)))
		t_skip("no cgroup v2 hierarchy here, and mounting one failed: %s", strerror(errno));
	if (strstr(root, ts_tmpdir())) {
		snprintf(mounted, sizeof(mounted), "%s", root);
		atexit(unmount_it);
	}
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(self_cg, sizeof(self_cg), "%s", strcmp(line + 3, "/") == 0 ? "" : line + 3);
		}
	if (f)
		fclose(f);
	if (mounted[0])
		self_cg[0] = '\0'; /* a fresh mount shows this cgroup namespace's root */
	snprintf(dir, sizeof(dir), "%s%s/tether-spawn-%d", root, self_cg, (int)getpid());
	if (mkdir(dir, 0755) < 0)
		t_skip("cannot create a cgroup under %s%s: %s", root, self_cg, strerror(errno));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	T_ASSERT(dfd >= 0, "open %s: %s", dir, strerror(errno));

	for (size_t i = 0; i < TS_N(variants); i++) {
		struct tether_spawn_attr *a = ts_attr_flags(variants[i]);
		struct tether_exit_info info;
		char want[2100];

		if (variants[i] && t_native_without(variants[i])) {
			t_info("with flags %#llx: not checked (native backend, kernel without them)",
			       (unsigned long long)variants[i]);
			tether_spawn_attr_destroy(a);
			continue;
		}
		T_ASSERT(tether_spawn_attr_set_cgroup(a, dfd) == 0, "set_cgroup");
		r = ts_run_capture(NULL, a, out, sizeof(out), &info, "report", NULL);
		tether_spawn_attr_destroy(a);
		if (r == -EOPNOTSUPP || r == -EBUSY || r == -EACCES || r == -EPERM) {
			rmdir(dir);
			t_skip("the kernel refuses CLONE_INTO_CGROUP into %s: %s", dir, strerror(-r));
		}
		T_ASSERT(r == 0, "spawn into %s: %s", dir, strerror(-r));
		snprintf(want, sizeof(want), "%s/tether-spawn-%d", self_cg, (int)getpid());
		T_ASSERT(ts_report_value(out, "cgroup") && strcmp(ts_report_value(out, "cgroup"), want) == 0,
			 "child in cgroup '%s', expected '%s'", ts_report_value(out, "cgroup"), want);
		t_info("flags %#llx: the child started in %s", (unsigned long long)variants[i], want);
	}
	close(dfd);
	/* Empty once the children are reaped (an autoreap one a moment later). */
	long long end = t_now_ms() + 5000;
	while (rmdir(dir) < 0 && errno == EBUSY && t_now_ms() < end)
		usleep(2000);

	struct tether_spawn_attr *a;
	T_ASSERT(tether_spawn_attr_init(&a) == 0, "attr");
	T_ASSERT(tether_spawn_attr_set_cgroup(a, -2) == -EINVAL, "set_cgroup(-2)");
	T_ASSERT(tether_spawn_attr_set_cgroup(a, 1) == 0, "set_cgroup(stdout)");
	struct tether_child *c;
	r = ts_spawn_self(&c, NULL, a, "exit", "0", NULL);
	T_ASSERT(r < 0, "spawn into a cgroup that is no directory succeeded");
	tether_spawn_attr_destroy(a);
	t_info("not a cgroup directory: %s", strerror(-r));
	ts_assert_no_children("end");
	t_pass("CLONE_INTO_CGROUP through the cgroup attribute");
}

/* SPDX-License-Identifier: MIT */
/*
 * struct pidfd_info has grown: 64, 72, 80 and 88 bytes. For every size,
 * tether_pidfd_get_info() writes nothing beyond it and never sets a mask bit
 * whose field does not fit; sizes below the first version are refused with
 * EINVAL. Checked for a running autoreap child (no exit info yet) and for the
 * same child once it has exited (code 7) and been reaped. A supported_mask
 * that is returned must cover what the call filled and agree with
 * tether_features().
 */
#include <stddef.h>

#include "harness.h"

#define FLAGS (CLONE_AUTOREAP | CLONE_PIDFD)
#define WANT                                                                                   \
	(TETHER_PIDFD_INFO_PID | TETHER_PIDFD_INFO_CREDS | TETHER_PIDFD_INFO_EXIT |            \
	 TETHER_PIDFD_INFO_COREDUMP | TETHER_PIDFD_INFO_SUPPORTED_MASK)
#define CANARY 0xA5
#define BUF_SIZE 128

union info_buf {
	struct tether_pidfd_info info;
	unsigned char bytes[BUF_SIZE];
};

#define END_OF(field) (offsetof(struct tether_pidfd_info, field) + sizeof(((struct tether_pidfd_info *)0)->field))

/* Each mask bit and the end of the field(s) it vouches for. */
static const struct {
	__u64 bit;
	const char *name;
	size_t end;
} fields[] = {
	{ TETHER_PIDFD_INFO_PID, "PID", END_OF(ppid) },
	{ TETHER_PIDFD_INFO_CREDS, "CREDS", END_OF(fsgid) },
	{ TETHER_PIDFD_INFO_CGROUPID, "CGROUPID", END_OF(cgroupid) },
	{ TETHER_PIDFD_INFO_EXIT, "EXIT", END_OF(exit_code) },
	{ TETHER_PIDFD_INFO_COREDUMP, "COREDUMP", END_OF(coredump_mask) },
	{ TETHER_PIDFD_INFO_COREDUMP_SIGNAL, "COREDUMP_SIGNAL", END_OF(coredump_signal) },
	{ TETHER_PIDFD_INFO_COREDUMP_CODE, "COREDUMP_CODE", END_OF(coredump_code) },
	{ TETHER_PIDFD_INFO_SUPPORTED_MASK, "SUPPORTED_MASK", END_OF(supported_mask) },
};

static const size_t sizes[] = { TETHER_PIDFD_INFO_SIZE_VER0, TETHER_PIDFD_INFO_SIZE_VER1,
				TETHER_PIDFD_INFO_SIZE_VER2, TETHER_PIDFD_INFO_SIZE_VER3 };

/* tether_pidfd_get_info() into a canary-filled buffer; fails on any write beyond size. */
static int query(int pidfd, size_t size, union info_buf *u, const char *what)
{
	int r;

	memset(u, CANARY, sizeof(*u));
	u->info.mask = WANT;
	r = tether_pidfd_get_info(pidfd, &u->info, size);
	/* mask (the first 8 bytes) is the caller's request, so it is compared on its own */
	for (size_t i = size > sizeof(u->info.mask) ? size : sizeof(u->info.mask); i < sizeof(u->bytes); i++)
		T_ASSERT(u->bytes[i] == CANARY, "%s, size %zu: byte %zu beyond the struct was written (%#x)",
			 what, size, i, u->bytes[i]);
	return r;
}

static unsigned int violations;

/* ", supported_mask X" when the struct holds it and mask says it is filled. */
static const char *supported_words(const struct tether_pidfd_info *info, size_t size)
{
	static char buf[64];

	buf[0] = '\0';
	if ((info->mask & TETHER_PIDFD_INFO_SUPPORTED_MASK) && size >= END_OF(supported_mask))
		snprintf(buf, sizeof(buf), ", supported_mask %#llx", (unsigned long long)info->supported_mask);
	return buf;
}

/* No bit in mask may vouch for a field that lies (even partly) beyond size. */
static void check_mask_fits(const struct tether_pidfd_info *info, size_t size, const char *what)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((info->mask & fields[i].bit) && fields[i].end > size) {
			violations++;
			t_info("VIOLATION %s, size %zu: mask %#llx has %s, whose field ends at byte %zu", what,
			       size, (unsigned long long)info->mask, fields[i].name, fields[i].end);
		}
}

/*
 * A supported_mask that the struct holds must cover every bit the same call
 * filled, and must agree with what tether_features() found out.
 */
static void check_supported_mask(const struct tether_pidfd_info *info, size_t size, const char *what)
{
	static const struct {
		__u64 info_bit;
		unsigned int feature;
		const char *name;
	} agree[] = {
		{ TETHER_PIDFD_INFO_EXIT, TETHER_FEATURE_EXIT_INFO, "exit-info" },
		{ TETHER_PIDFD_INFO_COREDUMP, TETHER_FEATURE_COREDUMP_INFO, "coredump-info" },
		{ TETHER_PIDFD_INFO_COREDUMP_CODE, TETHER_FEATURE_COREDUMP_CODE, "coredump-code" },
	};
	unsigned int feat = tether_features();
	__u64 missing;

	if (!(info->mask & TETHER_PIDFD_INFO_SUPPORTED_MASK) || size < END_OF(supported_mask))
		return;
	missing = info->mask & ~info->supported_mask;
	if (missing) {
		violations++;
		t_info("VIOLATION %s, size %zu: supported_mask %#llx lacks bits %#llx that the same call filled",
		       what, size, (unsigned long long)info->supported_mask, (unsigned long long)missing);
	}
	for (size_t i = 0; i < sizeof(agree) / sizeof(agree[0]); i++)
		if (!(info->supported_mask & agree[i].info_bit) != !(feat & agree[i].feature)) {
			violations++;
			t_info("VIOLATION %s, size %zu: supported_mask %#llx %s %#llx, but tether_features() says %s %s",
			       what, size, (unsigned long long)info->supported_mask,
			       info->supported_mask & agree[i].info_bit ? "has" : "lacks",
			       (unsigned long long)agree[i].info_bit,
			       feat & agree[i].feature ? "has" : "lacks", agree[i].name);
		}
}

/* With the native backend, a kernel without the ioctl leaves nothing to check. */
static void skip_if_kernel_cannot(int r, bool emulated, const char *what)
{
	if (r < 0 && !emulated && !(tether_features() & TETHER_FEATURE_PIDFD_GET_INFO))
		t_skip("kernel has no PIDFD_GET_INFO and the native backend is in charge (%s: %s)", what,
		       strerror(-r));
}

static void check_small_sizes(int pidfd)
{
	static const size_t small[] = { 0, 1, 8, 32, 56, 63 };
	union info_buf u;

	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		int r = query(pidfd, small[i], &u, "too small");
		T_ASSERT(r == -EINVAL, "size %zu: got %d (%s), expected -EINVAL", small[i], r,
			 r < 0 ? strerror(-r) : "success");
		T_ASSERT(u.info.mask == WANT, "size %zu: refused call changed mask to %#llx", small[i],
			 (unsigned long long)u.info.mask);
	}
	t_info("sizes 0, 1, 8, 32, 56, 63: -EINVAL, nothing written");
}

static void check_live(int pidfd, pid_t pid, bool emulated)
{
	union info_buf u;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int r = query(pidfd, sizes[i], &u, "running child");
		skip_if_kernel_cannot(r, emulated, "running child");
		if (r < 0 && !(tether_features() & TETHER_FEATURE_PIDFD_GET_INFO)) {
			/*
			 * Without the ioctl nothing is known about a running child;
			 * the kernel's error passes through (ENOTTY, or EINVAL where
			 * pidfd ioctls refuse an argument).
			 */
			t_info("running child, size %zu: %s (kernel has no PIDFD_GET_INFO)", sizes[i],
			       strerrorname_np(-r));
			continue;
		}
		T_ASSERT(r == 0, "running child, size %zu: %s", sizes[i], strerror(-r));
		check_mask_fits(&u.info, sizes[i], "running child");
		check_supported_mask(&u.info, sizes[i], "running child");
		T_ASSERT(!(u.info.mask & TETHER_PIDFD_INFO_EXIT),
			 "running child, size %zu: EXIT in mask %#llx (exit_code %#x) before it exited", sizes[i],
			 (unsigned long long)u.info.mask, u.info.exit_code);
		if (u.info.mask & TETHER_PIDFD_INFO_PID)
			T_ASSERT(u.info.pid == (__u32)pid, "running child, size %zu: pid %u, expected %d",
				 sizes[i], u.info.pid, (int)pid);
		t_info("running child, size %zu: mask %#llx, no EXIT%s", sizes[i],
		       (unsigned long long)u.info.mask, supported_words(&u.info, sizes[i]));
	}
}

static void check_reaped(int pidfd, bool emulated)
{
	unsigned int feat = tether_features();
	union info_buf u;

	if (!emulated && !(feat & TETHER_FEATURE_EXIT_INFO))
		t_skip("kernel keeps no exit info after the reap and the native backend is in charge");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int r = query(pidfd, sizes[i], &u, "reaped child");
		skip_if_kernel_cannot(r, emulated, "reaped child");
		T_ASSERT(r == 0, "reaped child, size %zu: %s", sizes[i], strerror(-r));
		check_mask_fits(&u.info, sizes[i], "reaped child");
		check_supported_mask(&u.info, sizes[i], "reaped child");
		T_ASSERT(u.info.mask & TETHER_PIDFD_INFO_EXIT, "reaped child, size %zu: no EXIT in mask %#llx",
			 sizes[i], (unsigned long long)u.info.mask);
		T_ASSERT(u.info.exit_code == 7 << 8, "reaped child, size %zu: exit_code %#x, expected %#x",
			 sizes[i], u.info.exit_code, 7 << 8);
		t_info("reaped child, size %zu: mask %#llx, exit_code %#x%s", sizes[i],
		       (unsigned long long)u.info.mask, u.info.exit_code, supported_words(&u.info, sizes[i]));
	}
}

int main(void)
{
	const bool emulated = t_emulated(FLAGS);
	struct t_gate g;
	int pidfd = -1;

	t_require_flags(FLAGS);
	t_info("%s backend; kernel pidfd-get-info %s, exit-info %s", t_backend_word(FLAGS),
	       tether_features() & TETHER_FEATURE_PIDFD_GET_INFO ? "yes" : "no",
	       tether_features() & TETHER_FEATURE_EXIT_INFO ? "yes" : "no");

	t_gate_open(&g);
	pid_t pid = t_clone_gated(FLAGS, 0, &pidfd, &g, 7);
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(g.rd);

	check_small_sizes(pidfd);
	check_live(pidfd, pid, emulated);

	t_gate_release(&g);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "pidfd never polled readable");
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "child %d not reaped", (int)pid);
	check_reaped(pidfd, emulated);
	check_small_sizes(pidfd);

	tether_pidfd_close(pidfd);
	if (violations)
		t_fail("%u VIOLATION(s) of the size rules (%s backend)", violations, t_backend_word(FLAGS));
	t_pass("every size version of struct pidfd_info (%s backend)", t_backend_word(FLAGS));
}

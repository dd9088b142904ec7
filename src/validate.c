/* SPDX-License-Identifier: MIT */
/*
 * The kernel's checks on struct clone_args, in the kernel's order, so that an
 * emulated call fails with the errno the 7.1 kernel would give and before
 * anything is created. Checks that the kernel makes later (namespaces,
 * cgroups, resources) are left to the real clone3() call that follows.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>
#include <linux/capability.h>

#include "internal.h"
#include "syscalls.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define CSIGNAL_MASK 0x000000ffULL
#define CLONE_LEGACY_FLAGS 0xffffffffULL
#define MAX_PID_NS_LEVEL 32
#define KERNEL_NSIG 64 /* the kernel's _NSIG; glibc's is 65 */

/* Copy from our own address space, failing with EFAULT where the kernel would. */
static int read_user(void *dst, const void *src, size_t n)
{
	struct iovec local = { dst, n };
	struct iovec remote = { (void *)src, n };
	ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	if (r == (ssize_t)n)
		return 0;
	if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
		/* process_vm_readv filtered away (seccomp): plain read, as libc would. */
		memcpy(dst, src, n);
		return 0;
	}
	return -EFAULT;
}

/* copy_clone_args_from_user(): sizes, trailing bytes, then the copy. */
int clone_args_copy(const struct clone_args *uargs, size_t size, struct clone_args *k)
{
	long page = sysconf(_SC_PAGESIZE);

	if (size > (size_t)page)
		return -E2BIG;
	if (size < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	if (size > sizeof(*k)) {
		/* Bytes we do not know must be zero (copy_struct_from_user). */
		unsigned char tail[256];
		size_t off = sizeof(*k);
		while (off < size) {
			size_t n = size - off < sizeof(tail) ? size - off : sizeof(tail);
			if (read_user(tail, (const char *)uargs + off, n) < 0)
				return -EFAULT;
			for (size_t i = 0; i < n; i++)
				if (tail[i])
					return -E2BIG;
			off += n;
		}
	}
	if (read_user(k, uargs, size < sizeof(*k) ? size : sizeof(*k)) < 0)
		return -EFAULT;

	if ((k->set_tid && k->set_tid_size == 0) || (!k->set_tid && k->set_tid_size > 0))
		return -EINVAL;
	if (k->set_tid && k->set_tid_size > MAX_PID_NS_LEVEL)
		return -EINVAL;
	if ((k->exit_signal & ~CSIGNAL_MASK) || k->exit_signal > KERNEL_NSIG)
		return -EINVAL;
	if ((k->flags & CLONE_INTO_CGROUP) && (k->cgroup > INT32_MAX || size < CLONE_ARGS_SIZE_VER2))
		return -EINVAL;
	return 0;
}

static bool has_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN);
}

/*
 * Whether this process is itself an autoreap child. Such a process has no
 * exit signal (field 38 of /proc/self/stat): the kernel's R3 exists because a
 * CLONE_PARENT sibling would inherit that and be invisible to wait().
 */
bool self_is_autoreap(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *p;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p)
		return false;
	/* A space precedes each field after ")": stop at the one before field 38. */
	for (int field = 3; field <= 38; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return false;
	}
	return strtol(p + 1, NULL, 10) == 0;
}

/* clone3_args_valid() and copy_process()'s flag checks, then R1-R6. */
int lifecycle_flags_validate(const struct clone_args *k)
{
	uint64_t f = k->flags;

	/* clone3_args_valid(): R0, flags this implementation does not know */
	if (f & ~(CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP | TETHER_CLONE_FLAGS))
		return -EINVAL;
	if (f & (CLONE_DETACHED | (CSIGNAL_MASK & ~(uint64_t)CLONE_NEWTIME)))
		return -EINVAL;
	if ((f & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) == (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND))
		return -EINVAL;
	if ((f & (CLONE_THREAD | CLONE_PARENT)) && k->exit_signal)
		return -EINVAL;
	if ((k->stack == 0) != (k->stack_size == 0))
		return -EINVAL;

	/* copy_process() */
	if ((f & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS))
		return -EINVAL;
	if ((f & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
		return -EINVAL;
	if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND))
		return -EINVAL;
	if ((f & CLONE_SIGHAND) && !(f & CLONE_VM))
		return -EINVAL;

	/* R1, R2 */
	if ((f & CLONE_AUTOREAP) && (k->exit_signal || (f & (CLONE_THREAD | CLONE_PARENT))))
		return -EINVAL;
	/* R3 */
	if ((f & CLONE_PARENT) && self_is_autoreap())
		return -EINVAL;
	/* R4 */
	if ((f & CLONE_NNP) && (f & CLONE_THREAD))
		return -EINVAL;
	/* R5 */
	if ((f & CLONE_PIDFD_AUTOKILL) &&
	    (!(f & CLONE_PIDFD) || !(f & CLONE_AUTOREAP) || (f & CLONE_THREAD)))
		return -EINVAL;
	/* R6 */
	if ((f & CLONE_PIDFD_AUTOKILL) && !(f & CLONE_NNP) && !has_cap_sys_admin())
		return -EPERM;
	return 0;
}

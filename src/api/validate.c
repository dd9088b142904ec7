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
#include <sys/mman.h>
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

/* copy_clone_args_from_user(): sizes, trailing bytes, the copy, set_tid. */
int clone_args_copy(const struct clone_args *uargs, size_t size, struct clone_args *k)
{
	long page = sysconf(_SC_PAGESIZE);

	if (size > (size_t)page)
		return -E2BIG;
	if (size < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	if (size > sizeof(*k)) {
		/* Bytes we do not know must be zero (copy_struct_from_user). The
		 * kernel scans them in order, so a non-zero byte before an
		 * unreadable page is E2BIG: never read across a page boundary. */
		unsigned char tail[256];
		size_t off = sizeof(*k);
		while (off < size) {
			uintptr_t at = (uintptr_t)uargs + off;
			size_t to_page = (size_t)page - (at & ((uintptr_t)page - 1));
			size_t n = size - off;
			if (n > sizeof(tail))
				n = sizeof(tail);
			if (n > to_page)
				n = to_page;
			if (read_user(tail, (const void *)at, n) < 0)
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
	/* Only the bits here; whether it is a valid signal is checked later. */
	if (k->exit_signal & ~CSIGNAL_MASK)
		return -EINVAL;
	if ((k->flags & CLONE_INTO_CGROUP) && (k->cgroup > INT32_MAX || size < CLONE_ARGS_SIZE_VER2))
		return -EINVAL;
	if (k->set_tid) {
		pid_t tids[MAX_PID_NS_LEVEL];
		if (read_user(tids, (const void *)(uintptr_t)k->set_tid, k->set_tid_size * sizeof(pid_t)) < 0)
			return -EFAULT;
	}
	return 0;
}

/*
 * The highest user address + 1 (the kernel's access_ok() limit for the
 * stack): with 5-level page tables the address space reaches past 1 << 47,
 * which a mapping attempt there tells.
 */
static uint64_t user_space_end(void)
{
	static uint64_t end;

	if (!end) {
		long page = sysconf(_SC_PAGESIZE);
		void *p = mmap((void *)(1ULL << 47), (size_t)page, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != MAP_FAILED) {
			munmap(p, (size_t)page);
			end = (1ULL << 56) - (uint64_t)page;
		} else {
			end = (1ULL << 47) - (uint64_t)page;
		}
	}
	return end;
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
	char buf[1024], *p;

	if (read_small_file("/proc/self/stat", buf, sizeof(buf)) < 0)
		return false;
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
	if (k->stack && (k->stack_size > user_space_end() || k->stack > user_space_end() - k->stack_size))
		return -EINVAL; /* clone3_stack_valid(): access_ok() */
	if (k->exit_signal > KERNEL_NSIG) /* kernel_clone(): valid_signal() */
		return -EINVAL;
	if ((f & CLONE_PIDFD) && (f & CLONE_PARENT_SETTID) && k->pidfd == k->parent_tid)
		return -EINVAL; /* kernel_clone(): one field cannot take both */

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

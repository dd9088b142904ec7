/* SPDX-License-Identifier: MIT */
/*
 * tether: pidfd-based control over a child's lifecycle.
 *
 * tether_clone3() is a drop-in for the raw clone3() system call that accepts
 * Linux 7.1's CLONE_AUTOREAP, CLONE_NNP and CLONE_PIDFD_AUTOKILL on every
 * kernel: natively where the running kernel has them, emulated elsewhere.
 *
 * Conventions: tether_clone3() follows the system call (-1 and errno); every
 * other function returns a negative errno on failure.
 */
#ifndef TETHER_H
#define TETHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include <linux/sched.h> /* struct clone_args, CLONE_ARGS_SIZE_VER* */

#ifdef __cplusplus
extern "C" {
#endif

#define TETHER_VERSION_MAJOR 0
#define TETHER_VERSION_MINOR 1
#define TETHER_VERSION_PATCH 0

/* The lifecycle flags of Linux 7.1 (include/uapi/linux/sched.h). */
#ifndef CLONE_AUTOREAP
#define CLONE_AUTOREAP 0x400000000ULL /* reap the child the moment it exits */
#endif
#ifndef CLONE_NNP
#define CLONE_NNP 0x800000000ULL /* set no_new_privs on the child */
#endif
#ifndef CLONE_PIDFD_AUTOKILL
#define CLONE_PIDFD_AUTOKILL 0x1000000000ULL /* SIGKILL the child on last close of its pidfd */
#endif
#ifndef CLONE_ARGS_SIZE_VER2
#define CLONE_ARGS_SIZE_VER2 88
#endif

#define TETHER_CLONE_FLAGS (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)

/*
 * struct pidfd_info as of Linux 7.2 (include/uapi/linux/pidfd.h), under our
 * own name so that it never clashes with a newer <linux/pidfd.h>.
 */
struct tether_pidfd_info {
	__u64 mask;
	__u64 cgroupid;
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 ruid;
	__u32 rgid;
	__u32 euid;
	__u32 egid;
	__u32 suid;
	__u32 sgid;
	__u32 fsuid;
	__u32 fsgid;
	__s32 exit_code;
	__u32 coredump_mask;
	__u32 coredump_signal;
	__u32 coredump_code;
	__u32 coredump_pad;
	__u64 supported_mask;
};

#define TETHER_PIDFD_INFO_SIZE_VER0 64
#define TETHER_PIDFD_INFO_SIZE_VER1 72
#define TETHER_PIDFD_INFO_SIZE_VER2 80
#define TETHER_PIDFD_INFO_SIZE_VER3 88

#define TETHER_PIDFD_INFO_PID             (1ULL << 0)
#define TETHER_PIDFD_INFO_CREDS           (1ULL << 1)
#define TETHER_PIDFD_INFO_CGROUPID        (1ULL << 2)
#define TETHER_PIDFD_INFO_EXIT            (1ULL << 3)
#define TETHER_PIDFD_INFO_COREDUMP        (1ULL << 4)
#define TETHER_PIDFD_INFO_SUPPORTED_MASK  (1ULL << 5)
#define TETHER_PIDFD_INFO_COREDUMP_SIGNAL (1ULL << 6)
#define TETHER_PIDFD_INFO_COREDUMP_CODE   (1ULL << 7)

#define TETHER_PIDFD_COREDUMPED     (1U << 0)
#define TETHER_PIDFD_COREDUMP_SKIP  (1U << 1)
#define TETHER_PIDFD_COREDUMP_USER  (1U << 2)
#define TETHER_PIDFD_COREDUMP_ROOT  (1U << 3)

/* Which implementation serves the lifecycle flags. */
enum tether_backend {
	TETHER_BACKEND_AUTO = 0,    /* native where the kernel has the flags, else emulated */
	TETHER_BACKEND_NATIVE = 1,  /* always the kernel: old kernels reject the flags (EINVAL) */
	TETHER_BACKEND_EMULATE = 2, /* always tether's userspace emulation */
};

/* What the running kernel does natively, as probed (never by version). */
enum tether_feature {
	TETHER_FEATURE_CLONE3 = 1u << 0,         /* clone3() with CLONE_PIDFD (5.3) */
	TETHER_FEATURE_WAITID_PIDFD = 1u << 1,   /* waitid(P_PIDFD) (5.4) */
	TETHER_FEATURE_PIDFS = 1u << 2,          /* pidfds have a unique inode per process (6.9) */
	TETHER_FEATURE_PIDFD_GET_INFO = 1u << 3, /* ioctl(PIDFD_GET_INFO) (6.13) */
	TETHER_FEATURE_EXIT_INFO = 1u << 4,      /* PIDFD_INFO_EXIT, also after the reap (6.15) */
	TETHER_FEATURE_COREDUMP_INFO = 1u << 5,  /* PIDFD_INFO_COREDUMP */
	TETHER_FEATURE_COREDUMP_CODE = 1u << 6,  /* PIDFD_INFO_COREDUMP_CODE (7.1) */
	TETHER_FEATURE_AUTOREAP = 1u << 7,       /* CLONE_AUTOREAP (7.1) */
	TETHER_FEATURE_NNP = 1u << 8,            /* CLONE_NNP (7.1) */
	TETHER_FEATURE_AUTOKILL = 1u << 9,       /* CLONE_PIDFD_AUTOKILL (7.1) */
};
#define TETHER_FEATURE_ALL ((1u << 10) - 1)

/* Library version as "MAJOR.MINOR.PATCH". */
const char *tether_version(void);

/* Bitmask of enum tether_feature the running kernel has. Probed once per process. */
unsigned int tether_features(void);
/* Short name of one feature bit ("autoreap", "waitid-pidfd", ...), or NULL. */
const char *tether_feature_name(unsigned int feature);

/*
 * Force a backend for the whole process (the TETHER_BACKEND environment
 * variable, "auto", "native" or "emulate", sets the initial value).
 * Returns 0 or -EINVAL.
 */
int tether_set_backend(enum tether_backend backend);
enum tether_backend tether_get_backend(void);
/* The backend tether_clone3() uses for these clone flags right now: NATIVE or EMULATE. */
enum tether_backend tether_backend_for(__u64 clone_flags);
const char *tether_backend_name(enum tether_backend backend);

/*
 * Drop-in for clone3(2): the same struct, sizes and return convention (the
 * child's pid in the parent, 0 in the child, -1 with errno on failure), plus
 * CLONE_AUTOREAP, CLONE_NNP and CLONE_PIDFD_AUTOKILL on every kernel, with the
 * kernel's validation rules and errnos.
 */
pid_t tether_clone3(struct clone_args *args, size_t size);

/*
 * ioctl(PIDFD_GET_INFO) for any size version of struct tether_pidfd_info.
 * For emulated autoreap children it also reports the exit (and what the wait
 * status says about a core dump) on kernels that cannot. Returns 0 or -errno;
 * callers must check info->mask.
 */
int tether_pidfd_get_info(int pidfd, struct tether_pidfd_info *info, size_t size);

/*
 * The file whose last close kills a CLONE_PIDFD_AUTOKILL child: the pidfd
 * itself natively; in emulation a separate handle that dup(), fork() and
 * SCM_RIGHTS share exactly like the kernel's file. The returned fd belongs to
 * the library until tether_pidfd_close(pidfd). Returns an fd or -errno
 * (-ENOENT when pidfd is not an autokill pidfd of this process).
 */
int tether_autokill_fd(int pidfd);

/*
 * Close a pidfd returned by tether_clone3() and drop what the library holds
 * for it (in emulation, the autokill handle and any kept exit status).
 * Natively this is close(). Returns 0 or -errno.
 */
int tether_pidfd_close(int pidfd);

#ifdef __cplusplus
}
#endif

#endif /* TETHER_H */

/* SPDX-License-Identifier: MIT */
/*
 * tether: pidfd-based control over a child's lifecycle.
 *
 * tether_clone3() is a drop-in for the raw clone3() system call that accepts
 * Linux 7.1's CLONE_AUTOREAP, CLONE_NNP and CLONE_PIDFD_AUTOKILL on every
 * kernel: natively where the running kernel has them, emulated elsewhere.
 *
 * Conventions: tether_clone3() follows the system call (-1 and errno); every
 * other function returns a negative errno on failure and leaves errno as it
 * found it, on success and on failure. No public function is a cancellation
 * point: those that may block disable cancellation across the call (as
 * posix_spawn() does), so a pending pthread_cancel() acts at the caller's
 * next cancellation point after the call; every system call that a signal
 * may interrupt is retried on EINTR.
 *
 * ABI rules (how this interface grows without a soname bump):
 *  - Every symbol is versioned (src/libtether.map): a release that adds
 *    symbols adds a node (TETHER_0.2 after TETHER_0.1, ...); a symbol never
 *    changes within its node.
 *  - Public structs the library fills are extensible the kernel's way: the
 *    caller passes the size it was built with; the library fills what both
 *    know and zeroes the rest of a larger struct (copy_struct_to_user()); a
 *    struct passed in that is larger than the library knows must have zeros
 *    beyond what it knows, else the call fails with -E2BIG
 *    (copy_struct_from_user()); one smaller than the first version: -EINVAL.
 *    New fields are only ever appended, and a caller tells whether one was
 *    filled by the size it passed (and by the have_* or mask bits beside it).
 *  - Every other object is opaque (struct tether_child and the builders):
 *    allocated by the library, read through functions.
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

#include "tether-version.h" /* TETHER_VERSION_MAJOR, _MINOR, _PATCH, _STRING */

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
 *
 * size: a version size (64, 72, 80, 88), or larger than the library knows
 * (a struct pidfd_info from a newer header): then the bytes beyond 88 must be
 * zero (-E2BIG otherwise) and are zero on return, and the fields the library
 * knows are filled, as the kernel's extensible-struct convention does.
 * Smaller than 64, or a size up to 88 that is not a version: -EINVAL.
 * Errors: -EINVAL (info NULL, size), -E2BIG, and the ioctl's (-EBADF,
 * -ENOTTY for a file that is not a pidfd or a kernel without the ioctl,
 * -ESRCH for a process that is gone and was not ours to know about).
 * Thread-safe; not async-signal-safe. Source: linux/pidfd.h, fs/pidfs.c.
 */
int tether_pidfd_get_info(int pidfd, struct tether_pidfd_info *info, size_t size);

/*
 * The file whose last close kills a CLONE_PIDFD_AUTOKILL child: the pidfd
 * itself natively; in emulation a separate handle that dup(), fork() and
 * SCM_RIGHTS share exactly like the kernel's file. The returned fd belongs to
 * the library until tether_pidfd_close(pidfd), also after the child has
 * exited and been reaped (do not close it; dup() it to keep a reference of
 * your own). Returns an fd or -ENOENT when pidfd is not an autokill pidfd
 * that tether_clone3() returned to this process (any other descriptor, a
 * pidfd from pidfd_open(), a closed one, or one inherited across fork():
 * there the file itself still works, but its number is not known here).
 * Natively the pidfd is known by its number and its process (pidfs inode):
 * close it with tether_pidfd_close(), not close(), or a pidfd_open() of the
 * same process that gets the same number passes for it. Thread-safe; not
 * async-signal-safe.
 */
int tether_autokill_fd(int pidfd);

/*
 * Close a pidfd returned by tether_clone3() and drop what the library holds
 * for it (in emulation, the autokill handle and any kept exit status).
 * Natively this is close(). Returns 0 or -errno.
 */
int tether_pidfd_close(int pidfd);

/* ==========================================================================
 * Spawning and child handles
 *
 * tether_spawn() is posix_spawn() with the lifecycle flags: it starts a
 * program in a new process (vfork-style: clone3() with CLONE_VM|CLONE_VFORK,
 * the caller's thread suspended until the exec) and returns a handle that
 * owns the child's pidfd.
 *
 * Descriptors: every descriptor the library opens is close-on-exec, so only
 * what the caller asks for reaches the program. The caller's own descriptors
 * without FD_CLOEXEC are inherited, as with posix_spawn(), unless a
 * close-range or close-all-but file action closes them.
 *
 * Signals: in the child, every caught signal gets its default disposition
 * before any code of the caller could run (handlers never run in the child);
 * ignored signals stay ignored unless listed with
 * tether_spawn_attr_set_sigdefault(); the signal mask is the caller's unless
 * tether_spawn_attr_set_sigmask() gives another.
 *
 * Conventions: every function returns 0 (or a value) on success and a
 * negative errno on failure; none sets errno for the caller to read. The
 * builder objects are not thread-safe while being modified, but one
 * finished attr/actions object may be used by many threads at once.
 * ========================================================================== */
#include <signal.h>
#include <stdbool.h>
#include <sys/select.h> /* sigset_t also without POSIX feature macros (strict -std=c99) */

struct tether_spawn_attr;    /* how the child starts: opaque */
struct tether_file_actions;  /* descriptor and directory changes in the child: opaque */
struct tether_child;         /* a spawned child; owns its pidfd */

/* --- Attributes --- */

/* Allocate an attribute object with every attribute unset. Returns 0, -EINVAL (attr NULL) or -ENOMEM. */
int tether_spawn_attr_init(struct tether_spawn_attr **attr);
/* Free it (NULL is fine). A spawned child does not depend on it. */
void tether_spawn_attr_destroy(struct tether_spawn_attr *attr);
/*
 * The lifecycle flags: any of CLONE_AUTOREAP, CLONE_NNP, CLONE_PIDFD_AUTOKILL
 * (CLONE_PIDFD is accepted and implied: a spawned child always has a pidfd).
 * The kernel's rules apply at spawn time with the kernel's errnos (autokill
 * needs autoreap, and no_new_privs or CAP_SYS_ADMIN). Other bits: -EINVAL.
 */
int tether_spawn_attr_set_flags(struct tether_spawn_attr *attr, __u64 flags);
/* Make the child a session leader (setsid()). Cannot be combined with a process group. */
int tether_spawn_attr_set_setsid(struct tether_spawn_attr *attr, bool setsid);
/*
 * Put the child in process group pgroup (setpgid(0, pgroup)): 0 for a new
 * group led by the child, a group id to join, -1 to unset. Others: -EINVAL.
 */
int tether_spawn_attr_set_pgroup(struct tether_spawn_attr *attr, pid_t pgroup);
/*
 * Make the child's process group the foreground process group of the
 * terminal open as tty_fd: the child calls tcsetpgrp(tty_fd, getpgrp())
 * after the setsid and process group attributes, with every signal blocked,
 * so that a group in the background may do it (tty_check_change() in
 * drivers/tty/tty_jobctrl.c; glibc's posix_spawnattr_tcsetpgrp_np() does
 * the same). -1 unsets it; below -1: -EINVAL. The descriptor stays the
 * caller's and must be open when tether_spawn() runs. Errors come from the
 * child (stage TETHER_SPAWN_STAGE_CHILD): -ENOTTY when the terminal is not
 * the child's controlling terminal (after setsid() it has none), -EBADF.
 */
int tether_spawn_attr_set_foreground(struct tether_spawn_attr *attr, int tty_fd);
/* The child's signal mask; NULL for the caller's (the default). */
int tether_spawn_attr_set_sigmask(struct tether_spawn_attr *attr, const sigset_t *mask);
/* Signals whose disposition the child resets to SIG_DFL even if ignored; NULL for none. */
int tether_spawn_attr_set_sigdefault(struct tether_spawn_attr *attr, const sigset_t *set);
/*
 * Start the child in the cgroup v2 directory open as cgroup_fd
 * (CLONE_INTO_CGROUP, Linux 5.7); -1 to unset. The descriptor stays the
 * caller's and must be open when tether_spawn() runs.
 */
int tether_spawn_attr_set_cgroup(struct tether_spawn_attr *attr, int cgroup_fd);
/* The child's umask (bits outside 0777: -EINVAL). Unset, the caller's is inherited. */
int tether_spawn_attr_set_umask(struct tether_spawn_attr *attr, mode_t mask);

/* --- File actions, performed in the child in the order added --- */

/* Allocate an empty list. Returns 0, -EINVAL (actions NULL) or -ENOMEM. */
int tether_file_actions_init(struct tether_file_actions **actions);
/* Free it (NULL is fine). */
void tether_file_actions_destroy(struct tether_file_actions *actions);
/* dup2(fd, newfd); with fd == newfd, clear FD_CLOEXEC on fd so that it is inherited. */
int tether_file_actions_add_dup2(struct tether_file_actions *actions, int fd, int newfd);
/* close(fd); a descriptor that is not open is not an error. */
int tether_file_actions_add_close(struct tether_file_actions *actions, int fd);
/* open(path, oflag, mode) as descriptor fd. The path is copied. */
int tether_file_actions_add_open(struct tether_file_actions *actions, int fd, const char *path,
				 int oflag, mode_t mode);
/* chdir(path). The path is copied. Relative paths of later actions and of the program use it. */
int tether_file_actions_add_chdir(struct tether_file_actions *actions, const char *path);
/* fchdir(fd). */
int tether_file_actions_add_fchdir(struct tether_file_actions *actions, int fd);
/* Close every descriptor from first to last inclusive (~0U: no upper bound). */
int tether_file_actions_add_close_range(struct tether_file_actions *actions, unsigned int first,
					unsigned int last);
/*
 * Close every descriptor from 3 up except the n_keep listed in keep (0, 1
 * and 2 are never closed by this action; use tether_file_actions_add_close()).
 * The list is copied. A kept descriptor with FD_CLOEXEC still closes at
 * exec: add tether_file_actions_add_dup2(fd, fd) to pass it on.
 */
int tether_file_actions_add_close_all_but(struct tether_file_actions *actions, const int *keep,
					  size_t n_keep);

/* --- Spawning --- */

/* Where a spawn failed (tether_spawnx()). */
enum tether_spawn_stage {
	TETHER_SPAWN_STAGE_NONE = 0,   /* it did not fail */
	TETHER_SPAWN_STAGE_PARENT = 1, /* before the child existed: arguments, resources, the
					* kernel's flag rules, clone3() (and so CLONE_INTO_CGROUP) */
	TETHER_SPAWN_STAGE_CHILD = 2,  /* in the child, before exec: lifecycle set-up (emulated
					* CLONE_NNP/CLONE_PIDFD_AUTOKILL), attributes, file actions */
	TETHER_SPAWN_STAGE_EXEC = 3,   /* execve() of the program, or the PATH search */
};

/* tether_spawnx() options. */
#define TETHER_SPAWN_SEARCH_PATH 0x1u /* a file without '/' is looked up in PATH, as execvp() */
/*
 * The same search in the PATH that envp gives the program (the caller's
 * environ when envp is NULL; "/bin:/usr/bin" when it has none), as
 * Python's subprocess looks up a program for the environment it passes
 * (os.get_exec_path(env)): the program found is the one the new
 * environment names. Relative entries are relative to the child's working
 * directory after the file actions. Implies TETHER_SPAWN_SEARCH_PATH.
 * TETHER_0.2.
 */
#define TETHER_SPAWN_SEARCH_ENVP_PATH 0x2u

/*
 * Start path with argv (argv[0] included, NULL-terminated) and envp (NULL:
 * the caller's environ), applying attr and actions (either may be NULL).
 * On success *child is a new handle and 0 is returned. On failure nothing is
 * left behind (no process, no zombie, no descriptor) and the negative errno
 * says why; a failed exec gives the exec's error (-ENOENT, -EACCES,
 * -ENOEXEC, ...). Thread-safe; not async-signal-safe.
 */
int tether_spawn(struct tether_child **child, const char *path,
		 const struct tether_file_actions *actions, const struct tether_spawn_attr *attr,
		 char *const argv[], char *const envp[]);
/*
 * tether_spawn() that looks file up in the caller's PATH (default
 * "/bin:/usr/bin") when it has no '/'. Like posix_spawnp(), a file that the
 * kernel cannot execute (-ENOEXEC) is not run by a shell.
 */
int tether_spawnp(struct tether_child **child, const char *file,
		  const struct tether_file_actions *actions, const struct tether_spawn_attr *attr,
		  char *const argv[], char *const envp[]);
/*
 * Either of the above (TETHER_SPAWN_SEARCH_PATH in options), also saying in
 * *failed_stage (may be NULL) where a failure happened: a command-line tool
 * tells "cannot execute" from its own errors this way.
 */
int tether_spawnx(struct tether_child **child, const char *file, unsigned int options,
		  const struct tether_file_actions *actions, const struct tether_spawn_attr *attr,
		  char *const argv[], char *const envp[], enum tether_spawn_stage *failed_stage);

/* --- Child handles --- */

/*
 * How a child ended. Filled from the wait status and from PIDFD_GET_INFO
 * (tether_pidfd_get_info() with EXIT and COREDUMP); a have_* field says
 * whether the kernel (or the emulation) reported the value beside it.
 * Extensible (see "ABI rules" at the top): new fields are appended, and
 * tether_child_wait_info() takes the size the caller was built with.
 */
struct tether_exit_info {
	int status;            /* wait status: WIFEXITED(), WTERMSIG(), WCOREDUMP() apply */
	bool exited;           /* ended by exit(): exit_code is valid */
	int exit_code;
	bool signaled;         /* killed by a signal: signal is valid */
	int signal;
	bool core_dumped;      /* the wait status says a core was dumped */
	bool have_coredump_info; /* coredump_mask is valid */
	unsigned int coredump_mask; /* TETHER_PIDFD_COREDUMP* */
	bool have_coredump_signal; /* coredump_signal is valid */
	int coredump_signal;
	bool have_coredump_code;   /* coredump_code is valid: si_code of that signal (7.1) */
	int coredump_code;
};
/* The size of the first version (0.1): what tether_child_wait() fills. */
#define TETHER_EXIT_INFO_SIZE_VER0 44

/*
 * The getters below never fail for a valid handle; for NULL each returns a
 * value no valid handle ever gives, documented with it.
 *
 * The child's pidfd, owned by the handle (do not close it): the fd for event
 * loops, it polls POLLIN once the child has ended. -EINVAL for NULL.
 * Async-signal-safe.
 *
 * The handle knows its pidfd by identity: if the application closes its
 * number anyway (a descriptor sweep, close_range(3, ~0U)) and the number is
 * taken by another file, the calls below that would use it answer -EBADF
 * (tether_child_kill(), tether_child_wait(), tether_child_event(),
 * tether_child_autokill_fd()) and tether_child_release() frees the handle
 * without closing the number: what it holds now is never signalled, waited
 * on or closed. tether_child_pidfd() itself returns the number unchecked. The identity is the pidfd's inode (pidfs, Linux 6.9); before
 * 6.9 every pidfd shares one inode and /proc's fdinfo ("Pid:") tells whose
 * it is, where /proc is mounted for the process's pid namespace.
 */
int tether_child_pidfd(const struct tether_child *child);
/* The child's pid (informational: use the pidfd to act on it); -EINVAL (a
 * negative number, never a pid) for NULL. Async-signal-safe. */
pid_t tether_child_pid(const struct tether_child *child);
/* Which backend served the child's lifecycle flags: NATIVE or EMULATE;
 * TETHER_BACKEND_AUTO (never a child's) for NULL. Async-signal-safe. */
enum tether_backend tether_child_backend(const struct tether_child *child);
/*
 * Wait at most timeout_ms (-1, or any negative value: forever, as poll(2);
 * 0: just look) for the child to end,
 * then fill *info (may be NULL). A child without CLONE_AUTOREAP is reaped
 * here; an autoreap child's status comes from its pidfd. Later calls return
 * the same info. Returns 0, -ETIMEDOUT, -ECHILD (someone else reaped it,
 * e.g. waitpid(-1), and the kernel keeps no exit info), -EBADF (the handle's
 * pidfd number holds another file, see tether_child_pidfd()), or another
 * -errno.
 * Thread-safe; not async-signal-safe.
 */
int tether_child_wait(struct tether_child *child, int timeout_ms, struct tether_exit_info *info);
/*
 * tether_child_wait() with the size of *info: sizeof(struct tether_exit_info)
 * as the caller was built (at least TETHER_EXIT_INFO_SIZE_VER0, else
 * -EINVAL). The library fills what both sides know and zeroes the rest of a
 * larger struct. tether_child_wait() is this call with
 * TETHER_EXIT_INFO_SIZE_VER0. Since 0.2 (symbol version TETHER_0.2).
 */
int tether_child_wait_info(struct tether_child *child, int timeout_ms, struct tether_exit_info *info,
			   size_t size);
/*
 * Send sig through the pidfd (never to a reused pid). Returns 0, -EINVAL
 * (NULL, or a bad signal number), -ESRCH once the child has ended, -EPERM,
 * or -EBADF (the handle's pidfd number holds another file, see
 * tether_child_pidfd()). errno is untouched. Thread-safe and
 * async-signal-safe.
 */
int tether_child_kill(struct tether_child *child, int sig);
/*
 * The file whose last close kills a CLONE_PIDFD_AUTOKILL child
 * (tether_autokill_fd() of the pidfd): share it with dup(), fork() or
 * SCM_RIGHTS to extend the child's life. Owned by the handle. -ENOENT for a
 * child spawned without autokill. Thread-safe; not async-signal-safe.
 */
int tether_child_autokill_fd(const struct tether_child *child);
/*
 * Drop the handle (NULL is fine): closes the pidfd with tether_pidfd_close().
 * An autokill child is killed if this was the last reference to its autokill
 * file. A child without CLONE_AUTOREAP that has ended but was never waited
 * for is reaped first, so no zombie stays; one that still runs is left
 * running, and when it ends it is an ordinary child of the process, for the
 * process's own wait calls (it sends SIGCHLD). An autoreap child needs no
 * one. No other call may use the handle during or after this one. Not
 * async-signal-safe.
 *
 * Emulated CLONE_AUTOREAP: a spawned child is its monitor's child (see
 * tether(7)), so its exit sends the caller no SIGCHLD and no wait(-1) of
 * the caller's sees it, released or not. A tether_clone3() child that execs
 * is the caller's own: execve() resets its exit signal to SIGCHLD (see
 * tether(7), "Deviations").
 */
void tether_child_release(struct tether_child *child);

/*
 * A child's job-control change: it stopped, or it was continued after a
 * stop. Extensible (see "ABI rules" at the top): tether_child_event() takes
 * the size the caller was built with.
 */
enum tether_child_event_type {
	TETHER_CHILD_STOPPED = 1,   /* stopped by signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) */
	TETHER_CHILD_CONTINUED = 2, /* continued by SIGCONT */
};
struct tether_child_event {
	int type;   /* enum tether_child_event_type */
	int signal; /* STOPPED: the signal that stopped it; CONTINUED: SIGCONT */
};
/* The size of the first version (0.2). */
#define TETHER_CHILD_EVENT_SIZE_VER0 8

/*
 * Take the child's latest stop or continue that has not been taken yet,
 * without blocking: what waitid(P_PIDFD, WSTOPPED | WCONTINUED | WNOHANG)
 * tells a parent (kernel/exit.c, wait_task_stopped() and
 * wait_task_continued()), for a child of any backend. Each report is given
 * once; one not taken before the next change is replaced by it, as the
 * kernel's are (a stop followed by a continue reports the continue). A
 * shell-like caller follows job control with it: tether(1) stops itself
 * when its command stops.
 *
 * The wake-up is SIGCHLD, as for any parent (do_notify_parent_cldstop()):
 * natively the kernel sends it; for an emulated CLONE_AUTOREAP child the
 * kernel sends it to the child's parent, its monitor (tether(7)), which
 * sends the caller's process a SIGCHLD of its own (si_code SI_USER, si_pid
 * the monitor's) after each report. Either way, on SIGCHLD call this until
 * it returns -EAGAIN. Unlike the kernel, the monitor does not look at the
 * caller's SA_NOCLDSTOP: its SIGCHLD comes regardless (an ignored SIGCHLD
 * is discarded as usual); the reports are there either way.
 *
 * event: filled on success. size: sizeof(struct tether_child_event) as the
 * caller was built (at least TETHER_CHILD_EVENT_SIZE_VER0, else -EINVAL);
 * the library fills what both sides know and zeroes the rest.
 *
 * Returns 0 with *event filled; -EAGAIN when no report is pending (also
 * once the child has ended: its end is the pidfd's POLLIN and
 * tether_child_wait()); -EINVAL (child or event NULL, size too small);
 * -ECHILD when this process is not the one that spawned the child and so
 * is not told (a handle inherited across fork()); or another error of
 * waitid(2). errno is left as it was.
 *
 * Thread-safe (one thread takes a given report); not async-signal-safe.
 * Since TETHER_0.2.
 */
int tether_child_event(struct tether_child *child, struct tether_child_event *event, size_t size);

/*
 * End a child with grace, as timeout(1) --kill-after and service managers
 * do: send sig through the pidfd (and SIGCONT after it, unless sig is
 * SIGKILL or SIGCONT, so that a stopped child can act on it), wait up to
 * grace_ms milliseconds for the child to end, and if it has not, send
 * SIGKILL and wait for it to end. *info (may be NULL) is filled as by
 * tether_child_wait().
 *
 * sig: 1 to NSIG-1. grace_ms: 0 sends SIGKILL at once after sig; -1 waits
 * for ever and never sends SIGKILL. Only the child gets the signals, not
 * its process group or its own children (use killpg() for those, as
 * tether(1) does), unless the child is the root of a tree
 * (tether_spawn_attr_set_tree()): then every process of the tree gets them,
 * the grace is the whole tree's (the call returns once the last one has
 * ended) and *info is the root's.
 *
 * Returns 0 when the child ended within the grace (or had ended already),
 * 1 when it had to be killed with SIGKILL, or a negative errno: -EINVAL
 * (child NULL, sig out of range, grace_ms below -1), -EPERM (the pidfd may
 * not signal it: pidfd_send_signal(2)), -ECHILD (someone else reaped it and
 * the kernel keeps no exit info, see tether_child_wait()), or another error
 * of pidfd_send_signal(2) or poll(2). errno is left as it was.
 *
 * Thread-safe (like tether_child_wait(), other threads may wait for or
 * signal the same child meanwhile); blocks; not async-signal-safe. Since
 * TETHER_0.2.
 */
int tether_child_terminate(struct tether_child *child, int sig, int grace_ms, struct tether_exit_info *info);

/* ==========================================================================
 * Process trees (TETHER_0.2)
 *
 * The kernel's CLONE_PIDFD_AUTOKILL kills one process. A *tree* is a spawned
 * child together with every process descended from it, including those that
 * setsid(), double-fork or re-parent through a short-lived intermediate: the
 * library gives the child a monitor process that is its parent and a child
 * subreaper (prctl(PR_SET_CHILD_SUBREAPER), kernel/exit.c
 * find_new_reaper()), so that every orphan of the tree comes back to it and
 * is reaped there, never left a zombie. Where the caller may create a
 * cgroup v2 directory, the tree also gets one of its own (CLONE_INTO_CGROUP),
 * killed with cgroup.kill (Linux 5.14; before, cgroup.freeze and the walk
 * below) and removed once the tree is gone.
 *
 * Killing with SIGKILL repeats "signal every descendant, parents first
 * (/proc/PID/task/TID/children), reap what ended" until the monitor has no
 * child left: a process that forks while being killed cannot escape (a
 * pending SIGKILL makes fork() fail, kernel/fork.c copy_process()).
 *
 * A tree's root is the monitor's child on every kernel and backend: it is
 * never the caller's zombie (as with CLONE_AUTOREAP, which is implied), and
 * CLONE_PIDFD_AUTOKILL kills the whole tree when the last reference to the
 * handle goes (also the creator's death, by any means). TETHER_BACKEND does
 * not change this (7.1's autokill would kill only the root).
 *
 * What it cannot do: a member that another uid owns and that the caller
 * may not signal survives the subreaper walk (the cgroup's kill reaches it);
 * a member that moves itself into another cgroup it may write to leaves
 * the tree's cgroup (the subreaper still finds it); a SIGKILL of the monitor
 * itself orphans the tree to init (the root dies with it, by
 * PR_SET_PDEATHSIG; the others live on, and a cgroup stays behind).
 * See tether(7), "Process trees".
 * ========================================================================== */

/* How a tree is held together (tether_spawn_attr_set_tree()). */
enum tether_tree {
	TETHER_TREE_NONE = 0,      /* not a tree: the child alone (the default) */
	TETHER_TREE_AUTO = 1,      /* the best mechanism the caller may use: CGROUP, else SUBREAPER */
	TETHER_TREE_SUBREAPER = 2, /* the monitor as child subreaper only (any caller, any kernel) */
	TETHER_TREE_CGROUP = 3,    /* the subreaper and a cgroup v2 directory of the tree's own */
};

/*
 * Make the spawned child the root of a tree held by the given mechanism
 * (TETHER_TREE_NONE unsets). CGROUP forced where no cgroup can be created
 * makes tether_spawn() fail with the mkdir's errno (-EACCES, -EROFS,
 * -ENOENT when no cgroup v2 is mounted, ...). Combined with
 * tether_spawn_attr_set_cgroup(), the tree's cgroup is made inside that
 * directory. Returns 0 or -EINVAL. Not thread-safe on one attr.
 */
int tether_spawn_attr_set_tree(struct tether_spawn_attr *attr, enum tether_tree mode);

/*
 * The mechanism TETHER_TREE_AUTO picks here and now: TETHER_TREE_CGROUP if a
 * cgroup directory can be made under the caller's own cgroup (tried, then
 * removed: probed, never decided by version), else TETHER_TREE_SUBREAPER.
 * Thread-safe.
 */
enum tether_tree tether_tree_probe(void);

/* Which mechanism holds the child's tree: NONE for a child that is not a tree. Thread-safe. */
enum tether_tree tether_child_tree(const struct tether_child *child);

/*
 * Send sig to every process of the tree (the root included, while it
 * lives). With SIGKILL, returns only once no process of the tree is left
 * (the monitor, which ends with the tree, may still be exiting). Returns 0,
 * -ESRCH once the tree is gone, -ENOTSUP for a child that is not a tree,
 * -EINVAL, or -EPERM as kill(2) gives it: every process of the tree still
 * left refused the signal (a member of another user the caller may not
 * signal; with SIGKILL, after 5 walks 10 ms apart in which they alone were
 * left and nothing ended: it never walks for ever). After a descriptor
 * sweep closed the library's command channel to the monitor, the call
 * copies it back with pidfd_getfd(2): -EMFILE, -ENFILE or -ENOMEM where
 * that finds no room, -EBADF where it is refused (Yama's ptrace_scope 2);
 * nothing is sent then. Thread-safe (calls are serialized); not
 * async-signal-safe. Blocks while the monitor works: a walk of 1 000
 * processes takes milliseconds.
 */
int tether_child_kill_tree(struct tether_child *child, int sig);

/*
 * Wait at most timeout_ms (-1, or any negative value: forever, as poll(2);
 * 0: just look) until every process
 * of the tree has ended and been reaped (and its cgroup removed), not just
 * the root. tether_child_wait() still reports the root's own exit. Returns
 * 0, -ETIMEDOUT, -ENOTSUP (not a tree), -EINVAL. Thread-safe.
 */
int tether_child_wait_tree(struct tether_child *child, int timeout_ms);

/*
 * The pids of the tree's live processes (the root first while it lives;
 * zombies not yet reaped are included), at most max of them into pids
 * (may be NULL with max 0). Returns how many there are (more than max:
 * call again with a larger array), -ENOTSUP, -EINVAL. A snapshot: the pids
 * are informational, as with tether_child_pid(); pidfd_open() one to act
 * on it. Thread-safe.
 */
int tether_child_tree_pids(struct tether_child *child, pid_t *pids, size_t max);

/*
 * Pidfds for the tree's live processes (zombies not yet reaped included),
 * in the order of tether_child_tree_pids(): at most max of them into
 * pidfds (may be NULL with max 0), each new and the caller's to close
 * (close-on-exec, as pidfd_open(2) makes them). flags: 0 or
 * PIDFD_NONBLOCK (O_NONBLOCK; waitid(P_PIDFD) on it does not block).
 * Unlike a pid from tether_child_tree_pids(), each pidfd is certainly a
 * member's: a member is opened, then its parent (another member, or the
 * tree's monitor that adopts orphans) is read from /proc and checked
 * alive, so a pid reused by a stranger in between is never returned.
 * A process that starts or is reparented during the call may be missing.
 * Returns how many members were opened (more than max: only max are
 * stored, the rest closed; call again with a larger array), 0 once the
 * tree is gone, -ENOTSUP (not a tree), -EINVAL (NULL child, pidfds NULL
 * with max > 0, unknown flags), -ENOMEM, or pidfd_open(2)'s -EMFILE,
 * -ENFILE, -ENOMEM for any member (then no pidfd is left open: never a
 * silently short list). Thread-safe; not async-signal-safe.
 * See pidfd_open(2), proc_pid_stat(5).
 */
int tether_child_tree_pidfds(struct tether_child *child, int *pidfds, size_t max, unsigned int flags);

/* What happened to a tree (tether_child_tree_stats()). */
struct tether_tree_stats {
	unsigned int signalled;   /* signals sent to members by kills and autokill, in all */
	unsigned int kill_rounds; /* walks the last SIGKILL needed until nothing was left */
	unsigned int reaped;      /* processes the monitor reaped: the root and adopted orphans */
	bool cgroup_removed;      /* CGROUP: the directory is gone */
	long long cpu_usec;       /* CGROUP, once the tree is gone: cpu.stat usage_usec, else -1 */
	long long memory_peak;    /* CGROUP, once gone, with the memory controller: memory.peak in bytes, else -1 */
	unsigned int processes_at_kill; /* processes of the tree when the first SIGKILL came (zombies
					 * too; those the monitor reaped once that kill was done), 0 before */
	long long pids_peak;      /* CGROUP, once gone, with the pids controller (pids.peak, Linux 6.13+):
				   * the most processes at once, else -1 */
};

/* Fill *st (figures so far). Returns 0, -ENOTSUP (not a tree), -EINVAL. Thread-safe. */
int tether_child_tree_stats(struct tether_child *child, struct tether_tree_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* TETHER_H */

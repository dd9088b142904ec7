/* SPDX-License-Identifier: MIT */
/*
 * What every part of the benchmark shares: the clock, samples and their
 * percentiles, the CSV and table output, /proc readers, and the children
 * that parts keep alive while they measure. The parts are in their own
 * files (spawn.c, rss.c, clone3.c, reap.c, autokill.c, memory.c, idle.c);
 * main.c dispatches.
 */
#ifndef TETHER_BENCH_COMMON_H
#define TETHER_BENCH_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <tether.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#ifndef SYS_kcmp
#define SYS_kcmp 312
#endif

#define AR CLONE_AUTOREAP
#define NNP CLONE_NNP
#define AK CLONE_PIDFD_AUTOKILL
#define NSEC 1000000000ull
#define MSEC 1000000ull

/* The process name of the library's per-child monitor (src/monitor.c). */
#define MONITOR_COMM "tether-monitor"

/* Set once by main(). */
extern const char *noop_path;   /* bench-noop, the program every spawn runs */
extern char *noop_argv[];       /* exits 0 at once */
extern char *pause_argv[];      /* sleeps until killed */
extern char *empty_env[];
extern FILE *csv_out;           /* NULL: no CSV */
extern const char *csv_prefix;  /* "@@BENCH-CSV " in the VM */
extern const char *part;        /* the part running: first CSV column, messages */
extern bool in_vm;

/* Small helpers */
uint64_t now_ns(void);
int64_t tv_ns(const struct timeval *tv);
void sleep_ms(unsigned int ms);
__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...);
int pidfd_open(pid_t pid);
int pidfd_kill(int pidfd, int sig);
int waitid_raw(int idtype, int id, siginfo_t *si, int options);
void poll_one(int fd, short events, int timeout_ms, const char *what);
void raise_nofile(rlim_t need);
const char *flags_name(uint64_t f);
unsigned int features_for(uint64_t f);
bool native_has(uint64_t f);
uint64_t parse_size(const char *s);
const char *size_name(char *buf, uint64_t v);

/* Samples and output */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

void sadd(struct samples *s, uint64_t x);
double spct(struct samples *s, double q);
double dmedian(double *v, size_t n);
void csv_row(const char *method, const char *backend, const char *param, const char *metric,
	     const char *value, const char *unit);
void csv_num(const char *method, const char *backend, const char *param, const char *metric,
	     double v, const char *unit);
const char *us(char *buf, double ns);
const char *num(char *buf, double v, const char *fmt);

/* /proc */
ssize_t read_file(const char *path, char *buf, size_t size);
long status_field(const char *status_path, const char *key);
long proc_status(pid_t pid, const char *key);
int stat_fields(const char *path, char *comm, size_t comm_size, unsigned long long *f, int nf);
size_t children_of(pid_t parent, const char *comm, pid_t *out, size_t max);
long count_fds(pid_t pid);

/* CPU use of a process: ticks (utime+stime), run time and context switches of its tasks. */
struct cpu {
	unsigned long long ticks;  /* whole process, /proc/PID/stat */
	unsigned long long run_ns; /* tasks other than skip_tid, schedstat */
	unsigned long long ctxsw;  /* same tasks, voluntary + involuntary */
	int tasks;
};

struct cpu proc_cpu(pid_t pid, pid_t skip_tid);
void wait_single_threaded(void);

/* /proc/meminfo, the fields a live process costs the kernel (KiB) */
struct meminfo {
	long avail, free, slab, sunreclaim, kstack, pagetables, shmem;
};

struct meminfo meminfo_read(void);

/* Children */
void tether_wait_release(struct tether_child *c, bool expect_ok);
void autoreap_wait_close(int pidfd, bool expect_ok);
size_t heap_in_use(void);

/* A child kept alive while a part measures (it runs bench-noop pause). */
enum track_kind {
	TRACK_SPAWN,       /* tether_spawn() with the attr's flags */
	TRACK_CLONE3,      /* fork-like tether_clone3() with flags */
	TRACK_POSIX_SPAWN, /* posix_spawn(): the baseline */
};

struct tracked {
	struct tether_child *child; /* TRACK_SPAWN */
	int pidfd;                  /* TRACK_CLONE3 */
	pid_t pid;                  /* TRACK_POSIX_SPAWN */
};

void track_start(struct tracked *t, enum track_kind kind, uint64_t flags, struct tether_spawn_attr *attr);
void track_stop(struct tracked *t, enum track_kind kind);

/* The parts */
void part_spawn(size_t rounds, size_t k, bool warm);
void part_spawn_one_cpu(size_t rounds, size_t k);
void part_rss(int nsizes, char **sizes);
void part_clone3(size_t rounds, size_t k);
void part_reap(int nn, char **ns, size_t reps);
void part_autokill(size_t iters);
void part_memory(size_t n);
void part_tree(size_t rounds, size_t k, size_t size, size_t reps);
void bench_tree_dispatch(int argc, char **argv);
void part_kmem(size_t n, size_t reps);
void part_idle(size_t n, unsigned int secs);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Methods: one way of creating a process, measured create -> gone, run in
 * interleaved rounds (spawn.c, rss.c, clone3.c, and `bench loop`).
 */
#ifndef TETHER_BENCH_METHODS_H
#define TETHER_BENCH_METHODS_H

#include "common.h"

enum kind {
	K_POSIX_SPAWN,
	K_FORK_EXEC,
	K_VFORK_EXEC,
	K_TETHER_SPAWN,
	K_RAW_CLONE3,
	K_TETHER_CLONE3,
};

struct method {
	char id[80];     /* for `bench loop` */
	char label[80];  /* for people */
	const char *backend; /* "emulate", "native" or "-" */
	enum kind kind;
	uint64_t flags;
	enum tether_backend be;
	bool warm;       /* a long-lived child of the same flags exists meanwhile */
	bool available;
	char na[80];     /* why not */
	struct tether_spawn_attr *attr;
	struct samples lat;
	double *tput;    /* per round: operations per second */
	double *cpu;     /* per round: CPU ns per operation, every task (NAN: no counter) */
	size_t ntput;
	uint64_t cpu_ns, ctxsw; /* every task's, over the recorded rounds */
	uint64_t busy_ns;
	size_t count;
	struct tether_child *anchor;
	int anchor_fd;
};

/* Lifecycle flag combinations */
struct combo_probe {
	uint64_t flags;
	int emulate_err; /* 0 valid, else the errno tether_spawn gave */
	int native_err;  /* 0, errno, or -1 when the kernel lacks the flags */
	const char *rule;
};

extern const uint64_t all_combos[8];

struct method *method_add(struct method *ms, size_t *n, enum kind kind, uint64_t flags,
			  enum tether_backend be, bool warm);
void op_once(struct method *m);
void batch(struct method *m, size_t k, uint64_t budget_ns, bool record);
void run_rounds(struct method *ms, size_t n, size_t rounds, size_t k, uint64_t budget_ns);
double tput_ratio(const struct method *m, const struct method *ref);
double cpu_ratio(const struct method *m, const struct method *ref);
void report_methods(struct method *ms, size_t n, const char *param, const char *ref_name);
void report_native_vs_emulated(struct method *ms, size_t n, const char *param);
void probe_combos(struct combo_probe *p);
void print_combos(const struct combo_probe *p);

/* spawn.c, clone3.c: the methods of those parts, the reference first */
size_t spawn_methods(struct method *ms, const struct combo_probe *probe, bool warm);
size_t clone3_methods(struct method *ms);

#endif

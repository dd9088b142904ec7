/* SPDX-License-Identifier: MIT */
/*
 * Randomised differential: on a kernel that has CLONE_AUTOREAP, CLONE_NNP and
 * CLONE_PIDFD_AUTOKILL natively, tether_clone3() (with whatever backend
 * TETHER_BACKEND selects) must accept and refuse what the raw clone3() system
 * call does, with the same errno, for random struct clone_args: every clone
 * flag (the legacy ones with the namespace flags, CLONE_CLEAR_SIGHAND,
 * CLONE_INTO_CGROUP, the lifecycle flags, CSIGNAL and CLONE_DETACHED bits,
 * bit 37 and unknown high bits), odd exit signals, every struct size (with
 * zero and non-zero trailing bytes), NULL and bad pointers (pidfd,
 * parent_tid, child_tid, set_tid, the struct itself, which may also end
 * right before an unmapped page), stacks that are right, inconsistent or out
 * of the address space, inconsistent set_tid/set_tid_size and bad cgroup
 * descriptors. Each case runs twice in the same process, through the raw
 * system call and through tether_clone3(), each time on a fresh copy of the
 * arguments. The cases run as root and again without privileges, where R6
 * (EPERM) competes with the EINVAL checks.
 *
 *   TETHER_RANDOM_SEED   the seed (default: from the clock); printed
 *   TETHER_RANDOM_CASES  cases per round (default DEFAULT_CASES; with
 *                        TETHER_RANDOM_CASE, default 1)
 *   TETHER_RANDOM_CASE   the first case number (default 0)
 *
 * Case i depends only on (seed, i), so a mismatch printed as "case #i" is
 * replayed with TETHER_RANDOM_SEED=<seed> TETHER_RANDOM_CASE=<i>, and cases
 * #a..#b in one worker with TETHER_RANDOM_CASE=<a> TETHER_RANDOM_CASES=<b-a+1>.
 *
 * Safety. The cases run in a worker process; the main process is a child
 * subreaper that reaps the worker, every CLONE_PARENT child and anything the
 * worker leaves behind (waitid(P_ALL, __WALL)). The worker itself reaps each
 * of its children by pid, never with P_ALL, which would take tether's
 * emulated children and monitors from the library. Every child created by a
 * successful call exits at once: a child without CLONE_VM calls _exit(0)
 * (or, if it was given a stack, returns from syscall() into an exit stub
 * whose address tops that stack); a child with CLONE_VM always gets such a
 * stack, except in the cases drawn without one: there the raw call is made
 * with an inline system call whose child exits before touching memory, and
 * tether_clone3() runs in a throw-away probe process when it is expected to
 * refuse (the kernel refused, or the emulation refuses CLONE_VM); when the
 * kernel accepted and tether would hand the call to the kernel too, a child
 * would run on the caller's own stack, which nothing can make safe, and the
 * case is skipped (and counted). Pidfds are closed with tether_pidfd_close()
 * after tether_clone3(), with close() after the raw call.
 *
 * A mismatch ends the worker, so that whatever went wrong in the library
 * cannot spill into later cases; the case is then run again alone in a fresh
 * worker (which tells a case that fails on its own from one that fails
 * because of what earlier cases did to the worker), and a fresh worker goes
 * on with the next case. A worker that dies (or hangs: an alarm per case) is
 * reported with the case it was running and handled the same way.
 *
 * What could change the worker for later cases: namespace flags, CLONE_NEWUSER
 * included, do not (with clone3() they give the new child new namespaces and
 * leave the caller's alone; the child exits at once and its namespaces go
 * with it; R6 looks at the caller's user namespace, which never changes), so
 * they stay in; CLONE_NEWNET is only drawn rarely, as creating and tearing
 * down a network namespace is slow. One combination does change the caller:
 * CLONE_NEWPID with CLONE_SIGHAND (see sighand_restore()); it stays in, and
 * the worker restores what it changes and checks after every case that
 * SIGCHLD is still at its default. CLONE_SETTLS always gets the calling
 * thread's own TLS pointer: a child running C code (tether's emulation does,
 * before it returns) needs a valid one, and a random value would only test
 * that. Exit signals SIGUSR1 and 64 are ignored in the worker (SIGCHLD keeps
 * its default: ignoring it would reap children).
 *
 * Known deviations of the emulation (tether(7)) are counted apart, not as
 * mismatches: "lifecycle flags with CLONE_VM, CLONE_FILES or a stack of the
 * caller's" (EINVAL) and "flags unknown to
 * tether" (bit 37, CLONE_EMPTY_MNTNS of 7.2, EINVAL), each only where the
 * kernel's own answer comes from a check made after those of tether.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "arch.h"
#include "harness.h"

#define DEFAULT_CASES 2000
#define ROUND_BUDGET_MS 15000 /* default run only: stop a round early past this (t_scaled() in the VMs) */

static long round_budget_ms;
#define CASE_ALARM_S 8        /* a case that takes longer has hung */
/* The main process's own limit, for a worker hung with SIGALRM blocked (in a
 * call that blocks every signal): then it is SIGKILLed and reported so. */
#define CASE_WATCHDOG_MS ((CASE_ALARM_S + 4) * 1000)
#define MAX_WORKER_DEATHS 25  /* per round */
#define STACK_SIZE (64 * 1024)
#define WAIT_MS 5000
/* A probe's answer: longer than WAIT_MS (a fork of the worker on a loaded
 * machine of emulated CPUs), shorter than the worker's own alarm. */
#define PROBE_WAIT_MS ((CASE_ALARM_S - 2) * 1000)
#define PAGE 4096
#define ERRNO_MAX 140

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_EMPTY_MNTNS
#define CLONE_EMPTY_MNTNS (1ULL << 37)
#endif
#define LIFECYCLE (CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL)
#define THREAD_ITEM (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)
#define CSIGNAL_BITS 0xffULL

/* ---------------------------------------------------------------------------
 * Exit stubs
 * ------------------------------------------------------------------------- */

/*
 * Where a child given a stack goes (test/arch.h): it starts on that stack
 * right after the system call and returns into this stub, which touches no
 * memory and ends the calling thread (the whole process when it is alone in
 * it). A CLONE_VM child without a stack of its own is created with
 * t_raw_clone3_child_exits(): it runs on our stack, so it exits before it
 * touches any memory, straight after the system call.
 */
T_EXIT_STUB(random_clone3_exit_stub);

/* ---------------------------------------------------------------------------
 * Random cases
 * ------------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* true with probability permille/1000 */
static bool chance(uint64_t *s, unsigned int permille)
{
	return splitmix64(s) % 1000 < permille;
}

/* An index drawn with the given weights. */
static unsigned int weighted(uint64_t *s, const unsigned int *w, unsigned int n)
{
	unsigned int total = 0, r;

	for (unsigned int i = 0; i < n; i++)
		total += w[i];
	r = (unsigned int)(splitmix64(s) % total);
	for (unsigned int i = 0; i < n; i++) {
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return n - 1;
}
#define WEIGHTED(s, w) weighted((s), (w), sizeof(w) / sizeof((w)[0]))

enum place { PL_NORMAL, PL_END, PL_NULL, PL_ONE, PL_GUARD, PL_KERNEL };
static const char *const place_words[] = { "ok", "before-unmapped", "NULL", "(void*)1", "unmapped",
					   "kernel-address" };
enum ptr { P_VALID, P_NULL, P_ONE, P_GUARD, P_RDONLY, P_SAME };
static const char *const ptr_words[] = { "ok", "NULL", "(void*)1", "unmapped", "read-only", "aliased" };
enum stk { S_NONE, S_GOOD, S_SIZE_ONLY, S_BASE_ONLY, S_HUGE_SIZE, S_BEYOND };
static const char *const stack_words[] = { "none", "ok", "size-without-stack", "stack-without-size",
					   "size-2^62", "beyond-user-space" };
enum settid { T_NONE, T_FREE, T_TAKEN, T_ZERO_SIZE, T_NULL_PTR, T_BAD_PTR, T_TOO_MANY, T_TWO, T_INVALID };
static const char *const settid_words[] = { "none", "free-pid", "pid-1", "ptr-size-0", "NULL-size-1",
					    "unmapped-ptr", "size-33", "size-2", "pid-0" };
enum cg { C_VALID, C_NOT_CGROUP, C_CLOSED, C_MINUS1, C_BIG };
static const char *const cg_words[] = { "cgroup-dir", "not-a-cgroup", "closed-fd", "-1", "2^31" };

struct kase {
	unsigned int index;
	uint64_t flags;
	uint64_t exit_signal;
	unsigned int size;
	bool tail_nonzero;
	unsigned int tail_off; /* offset of the non-zero trailing byte */
	enum place place;
	unsigned int room; /* PL_END: bytes before the unmapped page */
	enum ptr pidfd, parent_tid, child_tid;
	enum stk stack;
	enum settid set_tid;
	pid_t tid_value;
	enum cg cgroup;
};

/* Every field drawn at random, most of them usually right. */
static void gen_wild(uint64_t *s, struct kase *k)
{
	static const struct {
		uint64_t flag;
		unsigned int permille;
	} legacy[] = {
		{ CLONE_VM, 150 },	   { CLONE_FS, 60 },	      { CLONE_FILES, 60 },
		{ CLONE_SIGHAND, 50 },	   { CLONE_PIDFD, 450 },      { CLONE_PTRACE, 40 },
		{ CLONE_VFORK, 70 },	   { CLONE_PARENT, 80 },      { CLONE_THREAD, 40 },
		{ CLONE_NEWNS, 50 },	   { CLONE_SYSVSEM, 50 },     { CLONE_SETTLS, 60 },
		{ CLONE_PARENT_SETTID, 80 }, { CLONE_CHILD_CLEARTID, 60 }, { CLONE_DETACHED, 15 },
		{ CLONE_UNTRACED, 40 },	   { CLONE_CHILD_SETTID, 60 }, { CLONE_NEWCGROUP, 40 },
		{ CLONE_NEWUTS, 40 },	   { CLONE_NEWIPC, 40 },      { CLONE_NEWUSER, 50 },
		{ CLONE_NEWPID, 50 },	   { CLONE_NEWNET, 10 },      { CLONE_IO, 40 },
		{ CLONE_NEWTIME, 40 },	   { CLONE_CLEAR_SIGHAND, 50 }, { CLONE_INTO_CGROUP, 70 },
		{ CLONE_AUTOREAP, 420 },   { CLONE_NNP, 380 },	      { CLONE_PIDFD_AUTOKILL, 300 },
	};
	static const unsigned int w_sig[] = { 420, 280, 70, 60, 50, 50, 70 };
	static const uint64_t sigs[] = { 0, SIGCHLD, SIGUSR1, 64, 65, 0x100, 0 /* huge, below */ };
	static const unsigned int w_size[] = { 560, 50, 60, 60, 50, 60, 50, 40, 35, 35 };
	static const unsigned int sizes[] = { 88, 64, 80, 96, 96, 4096, 4096, 4097, 0, 63 };
	static const unsigned int w_place[] = { 860, 80, 15, 15, 15, 15 };
	static const unsigned int rooms[] = { 64, 88, 96, 128, 256, 1024 };
	static const unsigned int w_pidfd[] = { 800, 50, 35, 35, 40, 40 };
	static const unsigned int w_ptid[] = { 840, 50, 30, 30, 10, 40 };
	static const unsigned int w_ctid[] = { 860, 60, 40, 40, 0, 0 };
	static const unsigned int w_stack_vm[] = { 180, 720, 25, 25, 25, 25 };
	static const unsigned int w_stack[] = { 620, 260, 30, 30, 30, 30 };
	static const unsigned int w_settid[] = { 790, 50, 30, 25, 25, 30, 15, 20, 15 };
	static const unsigned int w_cg[] = { 550, 150, 150, 80, 70 };
	unsigned int i;

	k->flags = 0;
	for (i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
		if (chance(s, legacy[i].permille))
			k->flags |= legacy[i].flag;
	/* Combinations that get past the first checks come as a unit too. */
	if (chance(s, 90))
		k->flags |= THREAD_ITEM;
	if (chance(s, 60))
		k->flags |= CLONE_SIGHAND | CLONE_VM;
	if (chance(s, 120))
		k->flags |= T_AUTOKILL_FLAGS;
	if (chance(s, 25))
		k->flags |= 1ULL << (splitmix64(s) % 8); /* CSIGNAL bits (0x80 is CLONE_NEWTIME) */
	if (chance(s, 25))
		k->flags |= CLONE_EMPTY_MNTNS;
	if (chance(s, 35))
		k->flags |= 1ULL << (38 + splitmix64(s) % 26); /* unknown to everyone */

	i = WEIGHTED(s, w_sig);
	k->exit_signal = sigs[i];
	if (i == 6)
		k->exit_signal = chance(s, 500) ? ~0ULL : (1ULL << 32) | SIGCHLD;

	i = WEIGHTED(s, w_size);
	k->size = sizes[i];
	k->tail_nonzero = i == 4 || i == 6;
	k->tail_off = 88 + (unsigned int)(splitmix64(s) % 8);

	k->place = (enum place)WEIGHTED(s, w_place);
	k->room = rooms[splitmix64(s) % (sizeof(rooms) / sizeof(rooms[0]))];
	k->pidfd = (enum ptr)WEIGHTED(s, w_pidfd);
	k->parent_tid = (enum ptr)WEIGHTED(s, w_ptid);
	k->child_tid = (enum ptr)WEIGHTED(s, w_ctid);
	k->stack = (enum stk)((k->flags & CLONE_VM) ? WEIGHTED(s, w_stack_vm) : WEIGHTED(s, w_stack));
	k->set_tid = (enum settid)WEIGHTED(s, w_settid);
	k->tid_value = (pid_t)(3000 + splitmix64(s) % 28000);
	k->cgroup = (enum cg)WEIGHTED(s, w_cg);
}

/* One of the bits set in mask, at random (0 for none). */
static uint64_t random_bit(uint64_t *s, uint64_t mask)
{
	unsigned int n = (unsigned int)__builtin_popcountll(mask), pick;

	if (!n)
		return 0;
	pick = (unsigned int)(splitmix64(s) % n);
	while (pick--)
		mask &= mask - 1;
	return mask & -mask;
}

/* Make a case one that the kernel's rules accept (as root). */
static void repair(uint64_t *s, struct kase *k)
{
	uint64_t f = k->flags & ~(CLONE_DETACHED | (CSIGNAL_BITS & ~(uint64_t)CLONE_NEWTIME));

	f &= ~(uint64_t)CLONE_EMPTY_MNTNS & ((1ULL << 37) - 1);
	if (f & CLONE_THREAD)
		f |= CLONE_SIGHAND;
	if (f & CLONE_SIGHAND)
		f |= CLONE_VM;
	if (f & CLONE_SIGHAND)
		f &= ~CLONE_CLEAR_SIGHAND;
	if (f & (CLONE_NEWNS | CLONE_NEWUSER))
		f &= ~(uint64_t)CLONE_FS;
	if (f & CLONE_PIDFD_AUTOKILL)
		f |= CLONE_PIDFD | CLONE_AUTOREAP;
	if (f & LIFECYCLE)
		f &= ~(uint64_t)(CLONE_THREAD | (f & CLONE_AUTOREAP ? CLONE_PARENT : 0));
	if ((f & CLONE_THREAD) && (f & (CLONE_NEWUSER | CLONE_NEWPID)))
		f &= ~(uint64_t)CLONE_THREAD;
	k->flags = f;
	if (f & (CLONE_THREAD | CLONE_PARENT | CLONE_AUTOREAP))
		k->exit_signal = 0;
	else if (k->exit_signal > 64)
		k->exit_signal = chance(s, 500) ? SIGCHLD : 0;
	if (k->size < 88 || k->size > PAGE || k->tail_nonzero)
		k->size = 88;
	k->place = PL_NORMAL;
	k->pidfd = P_VALID;
	k->parent_tid = P_VALID;
	k->child_tid = P_VALID;
	if (f & CLONE_VM)
		k->stack = S_GOOD;
	else if (k->stack != S_GOOD)
		k->stack = S_NONE;
	if (k->set_tid != T_FREE && !(k->set_tid == T_TWO && (f & CLONE_NEWPID)))
		k->set_tid = T_NONE;
	k->cgroup = C_VALID;
}

/*
 * Case number index of the seed: a third of the cases are drawn wild, a
 * third are repaired to pass the kernel's rules (so that the emulation really
 * runs), a third are repaired and then broken again in one or two places (so
 * that the order of the checks shows).
 */
static void gen_case(uint64_t seed, unsigned int index, struct kase *k)
{
	uint64_t s = seed ^ ((uint64_t)index * 0xd1b54a32d192ed03ULL);
	unsigned int mode;

	splitmix64(&s);
	memset(k, 0, sizeof(*k));
	k->index = index;
	mode = (unsigned int)(splitmix64(&s) % 3);
	gen_wild(&s, k);
	if (mode == 0)
		return;
	repair(&s, k);
	for (unsigned int n = mode == 2 ? 1 + (unsigned int)(splitmix64(&s) % 2) : 0; n > 0; n--) {
		struct kase w;
		gen_wild(&s, &w);
		switch (splitmix64(&s) % 10) {
		case 0: /* one more flag, or one lifecycle flag less */
			if (chance(&s, 300))
				k->flags &= ~(1ULL << (34 + splitmix64(&s) % 3));
			else
				k->flags |= random_bit(&s, w.flags & ~k->flags);
			break;
		case 1:
			k->exit_signal = w.exit_signal;
			break;
		case 2:
			k->size = w.size;
			k->tail_nonzero = w.tail_nonzero;
			break;
		case 3:
			k->place = w.place;
			k->room = w.room;
			break;
		case 4:
			k->pidfd = w.pidfd;
			break;
		case 5:
			k->parent_tid = w.parent_tid;
			k->child_tid = w.child_tid;
			break;
		case 6:
			k->stack = w.stack;
			break;
		case 7:
			k->set_tid = w.set_tid;
			break;
		case 8:
			k->cgroup = w.cgroup;
			break;
		case 9: /* the rule breakers of the lifecycle flags */
			k->flags ^= (uint64_t[]){ CLONE_NNP, CLONE_PIDFD, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM,
						  CLONE_PARENT, CLONE_AUTOREAP }[splitmix64(&s) % 5];
			if (chance(&s, 300))
				k->exit_signal = SIGCHLD;
			break;
		}
	}
}

static const char *flag_names(uint64_t flags, char *buf, size_t len)
{
	static const struct {
		uint64_t flag;
		const char *name;
	} names[] = {
		{ CLONE_NEWTIME, "NEWTIME" },	     { CLONE_VM, "VM" },
		{ CLONE_FS, "FS" },		     { CLONE_FILES, "FILES" },
		{ CLONE_SIGHAND, "SIGHAND" },	     { CLONE_PIDFD, "PIDFD" },
		{ CLONE_PTRACE, "PTRACE" },	     { CLONE_VFORK, "VFORK" },
		{ CLONE_PARENT, "PARENT" },	     { CLONE_THREAD, "THREAD" },
		{ CLONE_NEWNS, "NEWNS" },	     { CLONE_SYSVSEM, "SYSVSEM" },
		{ CLONE_SETTLS, "SETTLS" },	     { CLONE_PARENT_SETTID, "PARENT_SETTID" },
		{ CLONE_CHILD_CLEARTID, "CHILD_CLEARTID" }, { CLONE_DETACHED, "DETACHED" },
		{ CLONE_UNTRACED, "UNTRACED" },	     { CLONE_CHILD_SETTID, "CHILD_SETTID" },
		{ CLONE_NEWCGROUP, "NEWCGROUP" },     { CLONE_NEWUTS, "NEWUTS" },
		{ CLONE_NEWIPC, "NEWIPC" },	     { CLONE_NEWUSER, "NEWUSER" },
		{ CLONE_NEWPID, "NEWPID" },	     { CLONE_NEWNET, "NEWNET" },
		{ CLONE_IO, "IO" },		     { CLONE_CLEAR_SIGHAND, "CLEAR_SIGHAND" },
		{ CLONE_INTO_CGROUP, "INTO_CGROUP" }, { CLONE_AUTOREAP, "AUTOREAP" },
		{ CLONE_NNP, "NNP" },		     { CLONE_PIDFD_AUTOKILL, "AUTOKILL" },
		{ CLONE_EMPTY_MNTNS, "EMPTY_MNTNS" },
	};
	size_t used = 0;
	uint64_t rest = flags;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].flag))
			continue;
		rest &= ~names[i].flag;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i].name);
		if (n > 0 && (size_t)n < len - used)
			used += (size_t)n;
	}
	if (rest) {
		int n = snprintf(buf + used, len - used, "%s%#llx", used ? "|" : "", (unsigned long long)rest);
		if (n > 0 && (size_t)n < len - used)
			used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "0");
	return buf;
}

static const char *case_words(const struct kase *k, char *buf, size_t len)
{
	char fl[400], room[32] = "";

	if (k->place == PL_END)
		snprintf(room, sizeof(room), "(%u bytes)", k->room);
	snprintf(buf, len,
		 "case #%u: flags %#llx (%s), exit_signal %#llx, size %u%s, args %s%s, pidfd %s, "
		 "parent_tid %s, child_tid %s, stack %s, set_tid %s, cgroup %s",
		 k->index, (unsigned long long)k->flags, flag_names(k->flags, fl, sizeof(fl)),
		 (unsigned long long)k->exit_signal, k->size,
		 k->size > 88 ? (k->tail_nonzero ? " (non-zero tail)" : " (zero tail)") : "",
		 place_words[k->place], room, ptr_words[k->pidfd], ptr_words[k->parent_tid],
		 ptr_words[k->child_tid], stack_words[k->stack], settid_words[k->set_tid], cg_words[k->cgroup]);
	return buf;
}

/* ---------------------------------------------------------------------------
 * Building one call's arguments (a fresh copy each time)
 * ------------------------------------------------------------------------- */

/* Memory every call uses; the unmapped page stays unmapped. */
struct arena {
	unsigned char *args; /* two read-write pages, then an unmapped page */
	unsigned char *guard;
	unsigned char *rdonly;
	int cgroup_fd, not_cgroup_fd;
};

/* Where the kernel (or tether) writes: plain globals, alive for every child. */
static int g_pidfd, g_ptid, g_ctid;
static pid_t g_set_tid[40];

struct built {
	void *args;
	size_t size;
	void *stack; /* mapped stub stack, or NULL */
	int *pidfd_loc; /* where a CLONE_PIDFD pidfd lands, NULL if nowhere readable */
};

static uint64_t ptr_value(enum ptr p, const struct arena *a, void *valid, void *same)
{
	switch (p) {
	case P_VALID:
		return (uintptr_t)valid;
	case P_NULL:
		return 0;
	case P_ONE:
		return 1;
	case P_GUARD:
		return (uintptr_t)a->guard + 16;
	case P_RDONLY:
		return (uintptr_t)a->rdonly;
	case P_SAME:
		return (uintptr_t)same;
	}
	return 0;
}

static void *stub_stack(__u64 *size)
{
	void *base = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
			  -1, 0);

	if (base == MAP_FAILED)
		t_fail("mmap: %s", strerror(errno));
	*size = t_stub_stack_size(base, STACK_SIZE, random_clone3_exit_stub);
	return base;
}

static void build(const struct kase *k, const struct arena *a, struct built *b)
{
	struct clone_args ca = {
		.flags = k->flags,
		.exit_signal = k->exit_signal,
		.tls = t_thread_pointer(),
	};

	memset(b, 0, sizeof(*b));
	g_pidfd = -1;
	g_ptid = 0;
	g_ctid = 0;
	ca.pidfd = ptr_value(k->pidfd, a, &g_pidfd, &g_ptid);
	ca.parent_tid = ptr_value(k->parent_tid, a, &g_ptid, &g_pidfd);
	ca.child_tid = ptr_value(k->child_tid, a, &g_ctid, &g_ctid);
	if (k->pidfd == P_VALID)
		b->pidfd_loc = &g_pidfd;
	else if (k->pidfd == P_SAME)
		b->pidfd_loc = &g_ptid;

	switch (k->stack) {
	case S_NONE:
		break;
	case S_GOOD:
		b->stack = stub_stack(&ca.stack_size);
		ca.stack = (uintptr_t)b->stack;
		break;
	case S_SIZE_ONLY:
		ca.stack_size = PAGE;
		break;
	case S_BASE_ONLY:
		ca.stack = (uintptr_t)a->args;
		break;
	case S_HUGE_SIZE:
		ca.stack = (uintptr_t)a->args;
		ca.stack_size = 1ULL << 62;
		break;
	case S_BEYOND:
		/* above the user address space with 4- and 5-level page tables */
		ca.stack = (k->index & 1) ? (1ULL << 57) - PAGE : ~0ULL - PAGE + 1;
		ca.stack_size = 2 * PAGE;
		break;
	}

	for (size_t i = 0; i < sizeof(g_set_tid) / sizeof(g_set_tid[0]); i++)
		g_set_tid[i] = k->tid_value;
	switch (k->set_tid) {
	case T_NONE:
		break;
	case T_FREE:
		ca.set_tid = (uintptr_t)g_set_tid;
		ca.set_tid_size = 1;
		break;
	case T_TAKEN:
		g_set_tid[0] = 1;
		ca.set_tid = (uintptr_t)g_set_tid;
		ca.set_tid_size = 1;
		break;
	case T_ZERO_SIZE:
		ca.set_tid = (uintptr_t)g_set_tid;
		break;
	case T_NULL_PTR:
		ca.set_tid_size = 1;
		break;
	case T_BAD_PTR:
		ca.set_tid = (uintptr_t)a->guard;
		ca.set_tid_size = 1 + k->index % 4;
		break;
	case T_TOO_MANY:
		ca.set_tid = (uintptr_t)g_set_tid;
		ca.set_tid_size = 33;
		break;
	case T_TWO:
		g_set_tid[0] = 1; /* pid 1 of a new pid namespace, then ours */
		ca.set_tid = (uintptr_t)g_set_tid;
		ca.set_tid_size = 2;
		break;
	case T_INVALID:
		g_set_tid[0] = 0;
		ca.set_tid = (uintptr_t)g_set_tid;
		ca.set_tid_size = 1;
		break;
	}

	switch (k->cgroup) {
	case C_VALID:
		ca.cgroup = (uint64_t)(a->cgroup_fd >= 0 ? a->cgroup_fd : a->not_cgroup_fd);
		break;
	case C_NOT_CGROUP:
		ca.cgroup = (uint64_t)a->not_cgroup_fd;
		break;
	case C_CLOSED:
		ca.cgroup = 9999;
		break;
	case C_MINUS1:
		ca.cgroup = ~0ULL;
		break;
	case C_BIG:
		ca.cgroup = 1ULL << 31;
		break;
	}

	/* The struct and what follows it: zeros, or a non-zero trailing byte. */
	memset(a->args, 0, 2 * PAGE);
	b->size = k->size;
	switch (k->place) {
	case PL_NORMAL:
	case PL_END: {
		unsigned char *at = k->place == PL_NORMAL ? a->args : a->guard - k->room;
		size_t room = k->place == PL_NORMAL ? 2 * PAGE : k->room;
		memcpy(at, &ca, sizeof(ca) < room ? sizeof(ca) : room);
		if (k->tail_nonzero && k->tail_off < room && k->tail_off < k->size)
			at[k->tail_off] = 0x5a;
		b->args = at;
		break;
	}
	case PL_NULL:
		b->args = NULL;
		break;
	case PL_ONE:
		b->args = (void *)1;
		break;
	case PL_GUARD:
		b->args = a->guard;
		break;
	case PL_KERNEL:
		b->args = (void *)0xffff888000000000ULL;
		break;
	}
}

/* ---------------------------------------------------------------------------
 * One call and the cleanup of whatever it created
 * ------------------------------------------------------------------------- */

enum result { R_REFUSED, R_ACCEPTED, R_CRASHED, R_SKIPPED };

struct outcome {
	enum result r;
	int err; /* errno when R_REFUSED; R_CRASHED: CRASH_* below */
};

/* R_CRASHED's err: how the probe that made the call ended without an answer. */
#define CRASH_NO_ANSWER (-1)       /* no answer in PROBE_WAIT_MS, still running */
#define CRASH_EXITED(code) (1000 + (code))
#define CRASH_SIGNALLED(sig) (sig) /* 1..64 */

static const char *outcome_words(struct outcome o, char *buf, size_t len)
{
	switch (o.r) {
	case R_ACCEPTED:
		snprintf(buf, len, "accepted");
		break;
	case R_REFUSED:
		snprintf(buf, len, "%s (%d)", strerrorname_np(o.err) ? strerrorname_np(o.err) : "?", o.err);
		break;
	case R_CRASHED:
		if (o.err == CRASH_NO_ANSWER)
			snprintf(buf, len, "the calling process gave no answer in %d s", PROBE_WAIT_MS / 1000);
		else if (o.err >= CRASH_EXITED(0))
			snprintf(buf, len, "the calling process exited %d without an answer", o.err - CRASH_EXITED(0));
		else if (o.err > 0)
			snprintf(buf, len, "the calling process died of signal %d (%s)", o.err, strsignal(o.err));
		else
			snprintf(buf, len, "the calling process died");
		break;
	case R_SKIPPED:
		snprintf(buf, len, "not run");
		break;
	}
	return buf;
}

/*
 * The one case that changes the caller: a child created with CLONE_NEWPID
 * and CLONE_SIGHAND is the init of a new pid namespace and shares our signal
 * handlers, and when such an init exits, the kernel sets SIGCHLD to SIG_IGN
 * in its handlers (zap_pid_ns_processes(), to have the namespace's orphans
 * reaped at once): in ours. From then on every child would be reaped on
 * exit, this one included if its exit signal is SIGCHLD. Put it back.
 */
static void sighand_restore(void)
{
	signal(SIGCHLD, SIG_DFL);
}

/* Whether a case left SIGCHLD as the worker set it. */
static bool sigchld_default(void)
{
	struct sigaction sa;

	return sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL;
}

/*
 * A call succeeded: wait for the child to end and to be reaped (by us, by
 * the kernel or tether for autoreap children, by the main process for
 * CLONE_PARENT ones), then release its pidfd and stack.
 */
static void settle(const struct kase *k, const struct built *b, pid_t pid, bool lib, const char *who)
{
	uint64_t f = k->flags;
	int pidfd = -1, watch = -1;
	char words[1200];
	/* An init of a new pid namespace sharing our signal handlers: see sighand_restore(). */
	bool ns_init_shares_sighand = (f & CLONE_NEWPID) && (f & CLONE_SIGHAND);

	if ((f & CLONE_PIDFD) && b->pidfd_loc)
		pidfd = *b->pidfd_loc;
	if (f & CLONE_THREAD) {
		if (!t_wait_thread_gone(pid, WAIT_MS))
			t_fail("%s: thread %d did not end; %s", who, (int)pid, case_words(k, words, sizeof(words)));
	} else {
		watch = pidfd >= 0 ? pidfd : t_pidfd_open(pid);
		if (watch >= 0 && !t_pidfd_wait_readable(watch, WAIT_MS))
			t_fail("%s: child %d did not exit; %s", who, (int)pid, case_words(k, words, sizeof(words)));
		if (f & (CLONE_PARENT | CLONE_AUTOREAP)) {
			/* reaped by the main process, the kernel or tether's reaper */
			if (!t_wait_pid_reaped(pid, WAIT_MS))
				t_fail("%s: child %d was not reaped; %s", who, (int)pid,
				       case_words(k, words, sizeof(words)));
		} else {
			siginfo_t si;
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL) < 0 &&
			    !(errno == ECHILD && ns_init_shares_sighand && k->exit_signal == SIGCHLD))
				t_fail("%s: waitid(%d): %s; %s", who, (int)pid, strerror(errno),
				       case_words(k, words, sizeof(words)));
		}
	}
	if (watch >= 0 && watch != pidfd)
		close(watch);
	if (pidfd >= 0) {
		if (lib)
			tether_pidfd_close(pidfd);
		else
			close(pidfd);
	}
	if (b->stack)
		munmap(b->stack, STACK_SIZE);
	if (ns_init_shares_sighand)
		sighand_restore();
}

/* A CLONE_VM child without a stack of its own: see the top of the file. */
static bool vm_without_stack(const struct kase *k)
{
	return (k->flags & CLONE_VM) && k->stack == S_NONE;
}

static struct outcome call_raw(const struct kase *k, const struct arena *a)
{
	struct built b;
	long pid;

	build(k, a, &b);
	errno = 0;
	if (vm_without_stack(k)) {
		pid = t_raw_clone3_child_exits(b.args, b.size);
	} else {
		pid = t_raw_clone3_stub(b.args, b.size);
		if (pid == 0)
			_exit(0); /* a process child without a stack */
	}
	if (pid < 0) {
		int err = errno;
		if (b.stack)
			munmap(b.stack, STACK_SIZE);
		return (struct outcome){ R_REFUSED, err };
	}
	settle(k, &b, (pid_t)pid, false, "raw clone3");
	return (struct outcome){ R_ACCEPTED, 0 };
}

static struct outcome call_tether(const struct kase *k, const struct arena *a)
{
	struct built b;
	pid_t pid;

	build(k, a, &b);
	errno = 0;
	pid = t_tether_clone3_stub(b.args, b.size);
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		int err = errno;
		if (b.stack)
			munmap(b.stack, STACK_SIZE);
		return (struct outcome){ R_REFUSED, err };
	}
	settle(k, &b, pid, true, "tether_clone3");
	return (struct outcome){ R_ACCEPTED, 0 };
}

/*
 * tether_clone3() for a CLONE_VM case without a stack, where it is expected
 * to refuse: in a throw-away process, so that a child it creates anyway
 * (running on that process's stack) can harm nothing else.
 */
static struct outcome call_tether_in_probe(const struct kase *k, const struct arena *a)
{
	struct outcome o = { R_CRASHED, 0 };
	int p[2];
	pid_t probe;

	if (pipe2(p, O_CLOEXEC) < 0)
		t_fail("pipe2: %s", strerror(errno));
	probe = fork();
	if (probe < 0)
		t_fail("fork: %s", strerror(errno));
	if (probe == 0) {
		struct built b;
		pid_t pid;
		struct outcome r;

		close(p[0]);
		build(k, a, &b);
		errno = 0;
		pid = tether_clone3(b.args, b.size);
		if (pid == 0)
			_exit(0);
		r = pid < 0 ? (struct outcome){ R_REFUSED, errno } : (struct outcome){ R_ACCEPTED, 0 };
		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	close(p[1]);
	if (t_pidfd_wait_readable(p[0], PROBE_WAIT_MS) && read(p[0], &o, sizeof(o)) != (ssize_t)sizeof(o))
		o = (struct outcome){ R_CRASHED, 0 };
	close(p[0]);
	if (o.r == R_CRASHED) {
		/* How it ended, if it did: its wait status, left in place. */
		siginfo_t si = { 0 };
		if (waitid(P_PID, (id_t)probe, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 && si.si_pid == probe)
			o.err = si.si_code == CLD_EXITED ? CRASH_EXITED(si.si_status) : CRASH_SIGNALLED(si.si_status);
		else
			o.err = CRASH_NO_ANSWER;
	}
	t_kill(probe, SIGKILL); /* in case it hangs */
	if (waitpid(probe, NULL, __WALL) < 0)
		t_fail("waitpid(probe): %s", strerror(errno));
	return o;
}

/* ---------------------------------------------------------------------------
 * Judging
 * ------------------------------------------------------------------------- */

static bool has_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	return syscall(SYS_capget, &hdr, data) == 0 && (data[0].effective & (1u << CAP_SYS_ADMIN));
}

/*
 * Whether the kernel's EFAULT may come from reading the arguments (the
 * struct, its trailing bytes, the set_tid array), which happens before any
 * flag is looked at, rather than from writing the pidfd later on.
 */
static bool early_fault_possible(const struct kase *k)
{
	if (k->place != PL_NORMAL && !(k->place == PL_END && k->room >= k->size))
		return true;
	return k->set_tid == T_BAD_PTR;
}

/*
 * A documented deviation of the emulation explains tether's EINVAL where the
 * kernel answered from a check made after tether's own ones: "lifecycle
 * flags with CLONE_VM" (refused after all of the kernel's rules) and "flags
 * unknown to tether" (refused before the rules, after the copy).
 */
static const char *deviation(const struct kase *k, struct outcome raw, struct outcome lib)
{
	bool r6;

	if (!(k->flags & LIFECYCLE) || tether_backend_for(k->flags) != TETHER_BACKEND_EMULATE)
		return NULL;
	if (lib.r != R_REFUSED || lib.err != EINVAL)
		return NULL;
	if (raw.r == R_REFUSED && (raw.err == EINVAL || raw.err == E2BIG ||
				   (raw.err == EFAULT && early_fault_possible(k))))
		return NULL;
	if (k->flags & CLONE_EMPTY_MNTNS)
		return "flags unknown to tether";
	r6 = (k->flags & CLONE_PIDFD_AUTOKILL) && !(k->flags & CLONE_NNP) && !has_cap_sys_admin();
	if (((k->flags & (CLONE_VM | CLONE_FILES)) || k->stack != S_NONE) &&
	    !(raw.r == R_REFUSED && raw.err == EPERM && r6))
		return "lifecycle flags with CLONE_VM";
	return NULL;
}

/* ---------------------------------------------------------------------------
 * Rounds, workers and their shared statistics
 * ------------------------------------------------------------------------- */

#define MAX_GROUPS 24
#define GROUP_EXAMPLES 10

/* Mismatches with the same pair of outcomes. */
struct group {
	struct outcome raw, lib;
	unsigned int count;
	unsigned int examples[GROUP_EXAMPLES];
};

struct stats {
	unsigned int cases, skipped, accepted, refused, lib_accepted, mismatches, deviations, deaths;
	unsigned int vm_dev, unknown_dev, alone_same, alone_differs;
	struct group groups[MAX_GROUPS];
	unsigned int ngroups;
	unsigned int raw_errno[ERRNO_MAX + 1]; /* the last one: anything larger */
	unsigned int lib_errno[ERRNO_MAX + 1];
	long long elapsed_ms;
};

/* In memory the main process shares with its workers: survives a worker's death. */
struct shared {
	unsigned int next;    /* the next case to run */
	unsigned int current; /* the case being run */
	bool in_case;
	bool stopped_by_budget;
	_Atomic long long case_start_ms; /* when the running case began; 0: none runs */
	bool watchdog_killed;           /* the main process SIGKILLed a hung worker */
	long long start_ms; /* when the round began (CLOCK_MONOTONIC, the same for every process) */
	/* a case checked again, alone in a fresh worker */
	bool alone_mismatch;
	struct outcome alone_raw, alone_lib;
	struct stats st;
};

struct config {
	uint64_t seed;
	unsigned int first, count; /* case numbers [first, first + count) */
	bool budget;
	int cgroup_fd, not_cgroup_fd;
};

/* A worker's exit status after a mismatch: a fresh worker goes on. */
#define WORKER_MISMATCH 3

static void count_errno(unsigned int *hist, int err)
{
	hist[err > 0 && err < ERRNO_MAX ? err : ERRNO_MAX]++;
}

static void group_add(struct stats *st, unsigned int index, struct outcome raw, struct outcome lib)
{
	struct group *g = NULL;

	for (unsigned int i = 0; i < st->ngroups && !g; i++)
		if (st->groups[i].raw.r == raw.r && st->groups[i].raw.err == raw.err &&
		    st->groups[i].lib.r == lib.r && st->groups[i].lib.err == lib.err)
			g = &st->groups[i];
	if (!g && st->ngroups < MAX_GROUPS) {
		g = &st->groups[st->ngroups++];
		*g = (struct group){ .raw = raw, .lib = lib };
	}
	if (!g)
		return;
	if (g->count < GROUP_EXAMPLES)
		g->examples[g->count] = index;
	g->count++;
}

static void histogram_words(const unsigned int *hist, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int e = 0; e <= ERRNO_MAX; e++) {
		if (!hist[e])
			continue;
		const char *name = e < ERRNO_MAX ? strerrorname_np(e) : "other";
		int n = snprintf(buf + used, len - used, "%s%s %u", used ? ", " : "", name ? name : "?", hist[e]);
		if (n > 0 && (size_t)n < len - used)
			used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "none");
}

/*
 * One case, both ways. Returns whether they differ (other than by a known
 * deviation); counts into st unless st is NULL (a case checked again alone),
 * and leaves both outcomes in *raw_out and *lib_out.
 */
static bool run_case(const struct kase *k, const struct arena *a, struct stats *st, const char *who,
		     struct outcome *raw_out, struct outcome *lib_out)
{
	struct outcome raw, lib = { R_SKIPPED, 0 };
	char words[1200], x[64], y[64];
	const char *dev;

	raw = call_raw(k, a);
	if (vm_without_stack(k)) {
		bool emulated = (k->flags & LIFECYCLE) && tether_backend_for(k->flags) == TETHER_BACKEND_EMULATE;
		if (raw.r == R_REFUSED || emulated)
			lib = call_tether_in_probe(k, a);
	} else {
		lib = call_tether(k, a);
		/*
		 * The kernel takes a process out of /proc before it frees its pid
		 * number (release_task() calls free_pids() last), so a set_tid
		 * pid of a child reaped by someone else (the kernel, tether's
		 * reaper, the main process) may still be taken for a moment
		 * after settle() saw it go.
		 */
		for (int i = 0; i < 200 && raw.r == R_ACCEPTED && lib.r == R_REFUSED && lib.err == EEXIST &&
				(k->set_tid == T_FREE || k->set_tid == T_TWO);
		     i++) {
			usleep(5000);
			lib = call_tether(k, a);
		}
	}
	*raw_out = raw;
	*lib_out = lib;

	if (lib.r == R_SKIPPED) {
		if (st)
			st->skipped++;
		return false;
	}
	if (st) {
		st->cases++;
		if (raw.r == R_ACCEPTED) {
			st->accepted++;
		} else {
			st->refused++;
			count_errno(st->raw_errno, raw.err);
		}
		if (lib.r == R_ACCEPTED)
			st->lib_accepted++;
		else if (lib.r == R_REFUSED)
			count_errno(st->lib_errno, lib.err);
	}
	if (raw.r == lib.r && (raw.r != R_REFUSED || raw.err == lib.err))
		return false;
	dev = deviation(k, raw, lib);
	if (dev) {
		if (st) {
			st->deviations++;
			if (strcmp(dev, "lifecycle flags with CLONE_VM") == 0)
				st->vm_dev++;
			else
				st->unknown_dev++;
		}
		return false;
	}
	if (st) {
		st->mismatches++;
		group_add(st, k->index, raw, lib);
		t_info("MISMATCH %s: %s: kernel %s, tether (%s backend) %s", who,
		       case_words(k, words, sizeof(words)), outcome_words(raw, x, sizeof(x)),
		       t_backend_word(k->flags), outcome_words(lib, y, sizeof(y)));
	}
	return true;
}

static void worker_setup(struct arena *a, const struct config *cfg)
{
	struct rlimit no_core = { 0, 0 };
	unsigned char *m;

	*a = (struct arena){ .cgroup_fd = cfg->cgroup_fd, .not_cgroup_fd = cfg->not_cgroup_fd };
	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGUSR1, SIG_IGN);
	signal(64, SIG_IGN);
	m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a->rdonly = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || a->rdonly == MAP_FAILED || mprotect(m + 2 * PAGE, PAGE, PROT_NONE) < 0)
		t_fail("mmap: %s", strerror(errno));
	a->args = m;
	a->guard = m + 2 * PAGE;
}

/* Cases from sh->next on, until the end, a mismatch or the time budget. */
static int worker(struct shared *sh, const struct config *cfg, const char *who)
{
	struct arena a;

	worker_setup(&a, cfg);
	while (sh->next < cfg->first + cfg->count) {
		struct outcome raw, lib;
		struct kase k;
		bool differ;

		if (cfg->budget && t_now_ms() - sh->start_ms > round_budget_ms) {
			sh->stopped_by_budget = true;
			break;
		}
		gen_case(cfg->seed, sh->next, &k);
		sh->current = sh->next++;
		sh->in_case = true;
		sh->case_start_ms = t_now_ms();
		alarm(CASE_ALARM_S);
		differ = run_case(&k, &a, &sh->st, who, &raw, &lib);
		alarm(0);
		sh->case_start_ms = 0;
		if (!sigchld_default())
			t_fail("%s: case #%u changed the worker's SIGCHLD disposition", who, k.index);
		sh->in_case = false;
		if (differ)
			return WORKER_MISMATCH; /* whatever went wrong must not spill into later cases */
	}
	return T_EXIT_PASS;
}

/* Case sh->current again, alone in a fresh worker. */
static int worker_alone(struct shared *sh, const struct config *cfg, const char *who)
{
	struct arena a;
	struct kase k;

	worker_setup(&a, cfg);
	gen_case(cfg->seed, sh->current, &k);
	sh->case_start_ms = t_now_ms();
	alarm(CASE_ALARM_S);
	sh->alone_mismatch = run_case(&k, &a, NULL, who, &sh->alone_raw, &sh->alone_lib);
	alarm(0);
	sh->case_start_ms = 0;
	return T_EXIT_PASS;
}

/*
 * Run fn in a new worker (unprivileged if asked); the main process reaps it
 * and whatever is handed over until it has gone. Returns its exit status, or
 * 128 + the signal that killed it.
 */
static int in_worker(int (*fn)(struct shared *, const struct config *, const char *), struct shared *sh,
		     const struct config *cfg, bool unprivileged, const char *who)
{
	pid_t w;

	fflush(stdout);
	w = fork();
	if (w < 0)
		t_fail("fork: %s", strerror(errno));
	if (w == 0) {
		if (unprivileged)
			t_drop_privileges();
		int r = fn(sh, cfg, who);
		fflush(stdout);
		_exit(r);
	}
	sh->case_start_ms = 0;
	sh->watchdog_killed = false;
	for (;;) {
		siginfo_t si = {};
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) < 0) {
			if (errno == EINTR)
				continue;
			t_fail("waitid: %s", strerror(errno));
		}
		if (si.si_pid == w)
			return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
		if (si.si_pid != 0)
			continue;
		long long began = sh->case_start_ms;
		if (began && t_now_ms() - began > CASE_WATCHDOG_MS && !sh->watchdog_killed) {
			sh->watchdog_killed = true;
			t_kill(w, SIGKILL);
		}
		usleep(5000);
	}
}

static const char *status_words(int status, bool watchdog, char *buf, size_t len)
{
	if (status > 128)
		snprintf(buf, len, "killed by %s%s", sigabbrev_np(status - 128) ? sigabbrev_np(status - 128) : "?",
			 status == 128 + SIGALRM		? ": hung"
			 : status == 128 + SIGKILL && watchdog ? ": hung with SIGALRM blocked"
							       : "");
	else
		snprintf(buf, len, "exit status %d", status);
	return buf;
}

/* What a round leaves for the summary at the end. */
struct round_result {
	const char *who;
	bool stopped_by_budget;
	unsigned int next;
	struct stats st;
};

/* Printed last, as a test runner may show only the first and last lines. */
static void summary(const struct round_result *r, const struct config *cfg)
{
	const char *who = r->who;
	const struct stats *st = &r->st;
	char hist[2048], x[64], y[64];

	if (r->stopped_by_budget)
		t_info("%s: stopped at case #%u of %u: past the round's time budget of %d s", who, r->next,
		       cfg->first + cfg->count, (int)(round_budget_ms / 1000));
	t_info("%s: %u cases in %lld ms (%u skipped: CLONE_VM child without a stack, accepted by the kernel, which tether would hand to the kernel too)",
	       who, st->cases, st->elapsed_ms, st->skipped);
	t_info("%s: kernel accepted %u, refused %u; tether accepted %u", who, st->accepted, st->refused,
	       st->lib_accepted);
	histogram_words(st->raw_errno, hist, sizeof(hist));
	t_info("%s: kernel errnos: %s", who, hist);
	histogram_words(st->lib_errno, hist, sizeof(hist));
	t_info("%s: tether errnos: %s", who, hist);
	for (unsigned int i = 0; i < st->ngroups; i++) {
		const struct group *g = &st->groups[i];
		char ex[256];
		size_t used = 0;

		ex[0] = '\0';
		for (unsigned int j = 0; j < g->count && j < GROUP_EXAMPLES; j++) {
			int n = snprintf(ex + used, sizeof(ex) - used, " #%u", g->examples[j]);
			if (n > 0 && (size_t)n < sizeof(ex) - used)
				used += (size_t)n;
		}
		t_info("%s: mismatch group: kernel %s, tether %s: %u case(s):%s%s", who,
		       outcome_words(g->raw, x, sizeof(x)), outcome_words(g->lib, y, sizeof(y)), g->count, ex,
		       g->count > GROUP_EXAMPLES ? " ..." : "");
	}
	t_info("%s: %u mismatches (%u dead workers; alone in a fresh worker %u again, %u not); %u known deviations of the emulation (%u lifecycle flags with CLONE_VM, %u flags unknown to tether); %s backend for the lifecycle flags",
	       who, st->mismatches, st->deaths, st->alone_same, st->alone_differs, st->deviations, st->vm_dev,
	       st->unknown_dev, t_backend_word(CLONE_AUTOREAP));
}

/*
 * One round in workers. After a mismatch or a worker's death the case is
 * run again alone in a fresh worker, which tells a case that fails on its
 * own from one that fails because of what earlier cases did to the worker,
 * and a fresh worker goes on with the next case.
 */
static void round_in_workers(struct shared *sh, const struct config *cfg, bool unprivileged, const char *who,
			     struct round_result *result)
{
	char words[1200], x[64], y[64];
	struct stats *st = &sh->st;

	memset(sh, 0, sizeof(*sh));
	sh->next = cfg->first;
	sh->start_ms = t_now_ms();
	for (;;) {
		unsigned int worker_first = sh->next;
		int status = in_worker(worker, sh, cfg, unprivileged, who);
		struct kase k;

		if (status == T_EXIT_PASS && !sh->in_case)
			break;
		if (status == T_EXIT_FAIL)
			t_fail("%s: the worker failed (see above)", who);
		gen_case(cfg->seed, sh->current, &k);
		if (status != WORKER_MISMATCH) {
			st->deaths++;
			st->mismatches++;
			t_info("MISMATCH %s: the worker died (%s) running %s (%s backend)", who,
			       status_words(status, sh->watchdog_killed, x, sizeof(x)), case_words(&k, words, sizeof(words)),
			       t_backend_word(k.flags));
			sh->in_case = false;
			if (st->deaths >= MAX_WORKER_DEATHS)
				t_fail("%s: %u workers died; giving up", who, st->deaths);
		}
		status = in_worker(worker_alone, sh, cfg, unprivileged, who);
		if (status != T_EXIT_PASS) {
			st->alone_same++;
			t_info("  case #%u alone in a fresh worker: the worker died (%s)", k.index,
			       status_words(status, sh->watchdog_killed, x, sizeof(x)));
		} else if (sh->alone_mismatch) {
			st->alone_same++;
			t_info("  case #%u alone in a fresh worker: kernel %s, tether %s", k.index,
			       outcome_words(sh->alone_raw, x, sizeof(x)), outcome_words(sh->alone_lib, y, sizeof(y)));
		} else {
			st->alone_differs++;
			t_info("  case #%u alone in a fresh worker: no mismatch (kernel %s, tether %s): it depends on cases #%u..#%u before it in the same worker (TETHER_RANDOM_CASE=%u TETHER_RANDOM_CASES=%u)",
			       k.index, outcome_words(sh->alone_raw, x, sizeof(x)),
			       outcome_words(sh->alone_lib, y, sizeof(y)), worker_first, k.index, worker_first,
			       k.index - worker_first + 1);
		}
	}

	/* Children the workers left behind (tether's monitors end with their children). */
	long long end = t_now_ms() + WAIT_MS;
	for (;;) {
		siginfo_t si = {};
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				t_fail("waitid: %s", strerror(errno));
			break;
		}
		if (si.si_pid == 0) {
			if (t_now_ms() > end)
				t_fail("%s: processes left behind by the worker did not end", who);
			usleep(2000);
		}
	}

	st->elapsed_ms = t_now_ms() - sh->start_ms;
	*result = (struct round_result){ .who = who, .stopped_by_budget = sh->stopped_by_budget,
					 .next = sh->next, .st = sh->st };
}

/* An fd of this process's cgroup v2 directory, or -1. */
static int open_own_cgroup(void)
{
	char line[4096], root[1024] = "", path[sizeof(root) + sizeof(line)];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int fd;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* "id parent maj:min root mountpoint opts ... - fstype source superopts" */
		char *dash = strstr(line, " - ");
		char mnt[1024];
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1) {
			snprintf(root, sizeof(root), "%s", mnt);
			break;
		}
	}
	fclose(f);
	if (!root[0])
		return -1;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	path[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s%s", root, line + 3);
			break;
		}
	}
	fclose(f);
	if (!path[0])
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

static unsigned long long env_number(const char *name, unsigned long long dflt, bool *set)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (set)
		*set = false;
	if (!v || !*v)
		return dflt;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno || *end)
		t_fail("%s=%s is not a number", name, v);
	if (set)
		*set = true;
	return n;
}

int main(void)
{
	const unsigned int need = TETHER_FEATURE_AUTOREAP | TETHER_FEATURE_NNP | TETHER_FEATURE_AUTOKILL;
	struct config cfg = { .cgroup_fd = -1, .not_cgroup_fd = -1 };
	static struct round_result rounds[2];
	unsigned int mismatches = 0, n_rounds = 0;
	bool cases_set, first_set;

	round_budget_ms = t_scaled(ROUND_BUDGET_MS, 4000);
	struct shared *sh;

	if ((tether_features() & need) != need)
		t_skip("no reference kernel: the running kernel lacks CLONE_AUTOREAP, CLONE_NNP or CLONE_PIDFD_AUTOKILL");

	cfg.seed = env_number("TETHER_RANDOM_SEED", 0, NULL);
	if (!getenv("TETHER_RANDOM_SEED") || !*getenv("TETHER_RANDOM_SEED")) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t s = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
		cfg.seed = splitmix64(&s) & 0xffffffffffffULL;
	}
	cfg.first = (unsigned int)env_number("TETHER_RANDOM_CASE", 0, &first_set);
	cfg.count = (unsigned int)env_number("TETHER_RANDOM_CASES", first_set ? 1 : DEFAULT_CASES, &cases_set);
	cfg.budget = !cases_set && !first_set;
	t_info("seed %#llx, %u case(s) from #%u per round (replay: TETHER_RANDOM_SEED=%#llx; one case: TETHER_RANDOM_CASE=<n>)",
	       (unsigned long long)cfg.seed, cfg.count, cfg.first, (unsigned long long)cfg.seed);

	cfg.cgroup_fd = open_own_cgroup();
	cfg.not_cgroup_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfg.cgroup_fd < 0)
		t_info("no cgroup v2 directory of our own: CLONE_INTO_CGROUP gets non-cgroup descriptors only");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		t_fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		t_fail("mmap: %s", strerror(errno));

	round_in_workers(sh, &cfg, false, geteuid() == 0 ? "as root" : "as caller", &rounds[n_rounds++]);
	/* Without CAP_SYS_ADMIN, R6 (EPERM) competes with the EINVAL rules: their order shows. */
	if (geteuid() == 0)
		round_in_workers(sh, &cfg, true, "unprivileged", &rounds[n_rounds++]);
	else
		t_info("not root: the unprivileged round is the one above");
	for (unsigned int i = 0; i < n_rounds; i++) {
		summary(&rounds[i], &cfg);
		mismatches += rounds[i].st.mismatches;
	}
	if (mismatches)
		t_fail("tether_clone3() differs from the kernel in %u case(s) (see MISMATCH lines; seed %#llx)",
		       mismatches, (unsigned long long)cfg.seed);
	t_pass("tether_clone3() accepts and refuses what the kernel does for random clone_args");
}

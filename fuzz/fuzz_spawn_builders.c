/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the spawn attribute and file-action builders
 * (tether_spawn_attr_*(), tether_file_actions_*()) driven by a sequence of
 * calls decoded from the input, against a model of what each object must
 * hold. Nothing is spawned and no descriptor is touched: the builders only
 * record, so the target is fast and deterministic.
 *
 * Input: a list of operations, each [op: 1 byte][selector: 1 byte][args...]
 *   op        init, destroy, each setter and adder, or a full check (op % N_OPS)
 *   selector  bit 0: which of two objects of the kind (they must not mix);
 *             bits 1-2 both set: pass NULL instead of the object
 *   args      ints: one byte below 0xc0 picks an interesting value (-1, -2,
 *             INT_MIN, INT_MAX, 0777, ...), otherwise 4 raw bytes follow;
 *             paths: NULL, "", a long one (past PATH_MAX), or up to 255
 *             input bytes copied and NUL-terminated; keep lists: up to 63
 *             ints in an array of exactly that size, or NULL with a count
 *             (0, small or near SIZE_MAX).
 * Missing bytes read as 0. Init on a live object destroys it first (re-init).
 *
 * Checks, besides what AddressSanitizer, LeakSanitizer and UBSan catch:
 * every call returns 0 or one of the errnos tether_spawn_attr_init(3) and
 * tether_file_actions_init(3) list for what is wrong with its arguments
 * (EINVAL, EBADF; ENOMEM only from the calls that allocate), and 0 when
 * nothing is; a failed call changes nothing; a successful one records
 * exactly what was given (there are no getters: the target reads the
 * objects through src/spawn.h, as tether_spawn() does): CLONE_PIDFD
 * dropped from the flags, NULL masks meaning "unset", paths and keep lists
 * copied (the caller's buffer is freed at once), keep lists sorted, unique,
 * without 0-2; actions in the order added; objects independent.
 *
 * Keep lists also come with a count beyond SIZE_MAX / sizeof(int), which
 * must fail (EINVAL or ENOMEM) without reading the list: its size in bytes
 * would wrap (TETHER_FUZZ_HUGE_COUNTS=0 leaves these out).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spawn.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_spawn_builders: broken promise: %s (line %d)\n", #cond, \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define NSLOT 2
#define MAX_KEEP 63
#define LONG_PATH_MIN 4090 /* around PATH_MAX and well past it */

enum op {
	OP_ATTR_INIT,
	OP_ATTR_DESTROY,
	OP_SET_FLAGS,
	OP_SET_SETSID,
	OP_SET_PGROUP,
	OP_SET_SIGMASK,
	OP_SET_SIGDEFAULT,
	OP_SET_CGROUP,
	OP_SET_UMASK,
	OP_FA_INIT,
	OP_FA_DESTROY,
	OP_ADD_DUP2,
	OP_ADD_CLOSE,
	OP_ADD_OPEN,
	OP_ADD_CHDIR,
	OP_ADD_FCHDIR,
	OP_ADD_CLOSE_RANGE,
	OP_ADD_CLOSE_ALL_BUT,
	OP_CHECK,
	N_OPS
};

/* What a call may return: a set of these. */
#define ALLOW_OK (1u << 0)
#define ALLOW_EINVAL (1u << 1)
#define ALLOW_EBADF (1u << 2)
#define ALLOW_ENOMEM (1u << 3)

struct input {
	const uint8_t *p;
	size_t n;
};

static const int64_t interesting[] = {
	0, 1, 2, 3, 4, 10, -1, -2, -3, 0022, 0400, 0777, 01000, 07777, 1023, 1024, 65535, 65536,
	INT_MAX, INT_MAX - 1, INT_MIN, INT_MIN + 1, UINT_MAX - 1, (int64_t)1 << 32, INT64_MIN,
};

/* The model: what each object must hold. */
struct attr_model {
	struct tether_spawn_attr *obj; /* NULL: the slot is empty */
	struct tether_spawn_attr want;
};

struct actions_model {
	struct tether_file_actions *obj;
	struct file_action *v; /* own copies of the paths and keep lists */
	size_t n, cap;
};

static struct attr_model attrs[NSLOT];
static struct actions_model actions[NSLOT];
static bool huge_counts;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *e = getenv("TETHER_FUZZ_HUGE_COUNTS");

	(void)argc;
	(void)argv;
	huge_counts = !e || strcmp(e, "0") != 0;
	return 0;
}

static uint8_t take8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void take(struct input *in, void *buf, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memset(buf, 0, n);
	memcpy(buf, in->p, k);
	in->p += k;
	in->n -= k;
}

static int64_t take_value(struct input *in)
{
	uint8_t b = take8(in);
	uint32_t raw;

	if (b < 0xc0)
		return interesting[b % ELEMENTSOF(interesting)];
	take(in, &raw, sizeof(raw));
	return (int32_t)raw;
}

static int take_int(struct input *in)
{
	return (int)(uint32_t)take_value(in); /* wraps as the caller's cast would */
}

static uint64_t take_flags(struct input *in)
{
	uint8_t b = take8(in);
	uint64_t f = 0;

	if (b >= 0xc0) {
		take(in, &f, sizeof(f));
		return f;
	}
	if (b & 1)
		f |= CLONE_AUTOREAP;
	if (b & 2)
		f |= CLONE_NNP;
	if (b & 4)
		f |= CLONE_PIDFD_AUTOKILL;
	if (b & 8)
		f |= CLONE_PIDFD;
	if (b & 16)
		f |= 1ULL << (take8(in) % 64);
	return f;
}

/* A path the caller owns: NULL, "", long, or input bytes made a C string. Free it with free(). */
static char *take_path(struct input *in)
{
	uint8_t c = take8(in);
	size_t n;
	char *s;

	switch (c % 4) {
	case 0:
		return NULL;
	case 1:
		n = 0;
		break;
	case 2:
		n = LONG_PATH_MIN + (size_t)take8(in) * 32;
		break;
	default:
		n = take8(in);
		break;
	}
	s = malloc(n + 1);
	CHECK(s);
	if (c % 4 == 2)
		memset(s, c & 0x80 ? '/' : 'a', n);
	else
		take(in, s, n); /* may hold NULs: the C string ends at the first */
	s[n] = '\0';
	return s;
}

static void take_sigset(struct input *in, sigset_t *set)
{
	uint8_t c = take8(in);
	uint64_t low;

	/* Beyond the kernel's 64 signals glibc's sigset_t has bits nobody uses: copy them too. */
	memset(set, c & 1 ? 0xff : 0, sizeof(*set));
	take(in, &low, sizeof(low));
	memcpy(set, &low, sizeof(low) < sizeof(*set) ? sizeof(low) : sizeof(*set));
}

static void check_result(int r, unsigned int allowed, const char *what)
{
	bool ok = (r == 0 && (allowed & ALLOW_OK)) || (r == -EINVAL && (allowed & ALLOW_EINVAL)) ||
		  (r == -EBADF && (allowed & ALLOW_EBADF)) || (r == -ENOMEM && (allowed & ALLOW_ENOMEM));

	if (!ok) {
		fprintf(stderr, "fuzz_spawn_builders: %s returned %d (%s), allowed set 0x%x\n", what, r,
			r < 0 ? strerror(-r) : "success", allowed);
		abort();
	}
}

/* Errors that apply, or success; calls that allocate may also fail with ENOMEM. */
static unsigned int expect(unsigned int errors, bool allocates)
{
	return (errors ? errors : ALLOW_OK) | (allocates ? ALLOW_ENOMEM : 0);
}

/* ---- attributes ---- */

static void attr_unset(struct tether_spawn_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->cgroup_fd = -1;
}

/* What tether_spawn() reads, field by field: unset values need not be kept. */
static void attr_check(const struct attr_model *m)
{
	const struct tether_spawn_attr *got = m->obj, *want = &m->want;

	if (!got)
		return;
	CHECK(got->flags == want->flags);
	CHECK(!(got->flags & ~TETHER_CLONE_FLAGS));
	CHECK(got->setsid == want->setsid);
	CHECK(got->set_pgroup == want->set_pgroup);
	CHECK(!want->set_pgroup || got->pgroup == want->pgroup);
	CHECK(got->set_sigmask == want->set_sigmask);
	CHECK(!want->set_sigmask || memcmp(&got->sigmask, &want->sigmask, sizeof(sigset_t)) == 0);
	CHECK(got->set_sigdefault == want->set_sigdefault);
	CHECK(!want->set_sigdefault || memcmp(&got->sigdefault, &want->sigdefault, sizeof(sigset_t)) == 0);
	CHECK(got->cgroup_fd == want->cgroup_fd);
	CHECK(got->set_umask == want->set_umask);
	CHECK(!want->set_umask || got->umask == want->umask);
}

static void attr_destroy(struct attr_model *m)
{
	attr_check(m);
	tether_spawn_attr_destroy(m->obj);
	m->obj = NULL;
}

static void attr_op(enum op op, struct input *in)
{
	uint8_t sel = take8(in);
	struct attr_model *m = &attrs[sel & 1];
	struct tether_spawn_attr *obj = (sel & 6) == 6 ? NULL : m->obj;
	struct tether_spawn_attr next = m->want;
	unsigned int bad = obj ? 0 : ALLOW_EINVAL;
	int r = 0;

	switch (op) {
	case OP_ATTR_INIT:
		if ((sel & 6) == 6) {
			check_result(tether_spawn_attr_init(NULL), ALLOW_EINVAL, "tether_spawn_attr_init(NULL)");
			return;
		}
		attr_destroy(m);
		r = tether_spawn_attr_init(&m->obj);
		check_result(r, ALLOW_OK | ALLOW_ENOMEM, "tether_spawn_attr_init");
		if (r < 0) {
			m->obj = NULL;
			return;
		}
		CHECK(m->obj);
		attr_unset(&m->want);
		break;
	case OP_ATTR_DESTROY:
		attr_destroy(m);
		break;
	case OP_SET_FLAGS: {
		uint64_t f = take_flags(in);
		if (f & ~(TETHER_CLONE_FLAGS | (uint64_t)CLONE_PIDFD))
			bad |= ALLOW_EINVAL;
		next.flags = f & TETHER_CLONE_FLAGS; /* CLONE_PIDFD changes nothing */
		r = tether_spawn_attr_set_flags(obj, f);
		check_result(r, expect(bad, false), "tether_spawn_attr_set_flags");
		break;
	}
	case OP_SET_SETSID: {
		bool on = take8(in) & 1;
		next.setsid = on;
		r = tether_spawn_attr_set_setsid(obj, on);
		check_result(r, expect(bad, false), "tether_spawn_attr_set_setsid");
		break;
	}
	case OP_SET_PGROUP: {
		pid_t pg = take_int(in);
		if (pg < -1)
			bad |= ALLOW_EINVAL;
		next.set_pgroup = pg >= 0; /* -1: unset */
		next.pgroup = pg;
		r = tether_spawn_attr_set_pgroup(obj, pg);
		check_result(r, expect(bad, false), "tether_spawn_attr_set_pgroup");
		break;
	}
	case OP_SET_SIGMASK:
	case OP_SET_SIGDEFAULT: {
		sigset_t set;
		bool null = take8(in) & 1;
		bool mask = op == OP_SET_SIGMASK;
		take_sigset(in, &set);
		*(mask ? &next.set_sigmask : &next.set_sigdefault) = !null;
		*(mask ? &next.sigmask : &next.sigdefault) = set;
		r = mask ? tether_spawn_attr_set_sigmask(obj, null ? NULL : &set)
			 : tether_spawn_attr_set_sigdefault(obj, null ? NULL : &set);
		check_result(r, expect(bad, false), mask ? "tether_spawn_attr_set_sigmask"
							  : "tether_spawn_attr_set_sigdefault");
		memset(&set, 0x5a, sizeof(set)); /* the object must hold a copy */
		break;
	}
	case OP_SET_CGROUP: {
		int fd = take_int(in);
		if (fd < -1)
			bad |= ALLOW_EINVAL;
		next.cgroup_fd = fd;
		r = tether_spawn_attr_set_cgroup(obj, fd);
		check_result(r, expect(bad, false), "tether_spawn_attr_set_cgroup");
		break;
	}
	case OP_SET_UMASK: {
		mode_t mask = (mode_t)take_value(in);
		if (mask & ~(mode_t)0777)
			bad |= ALLOW_EINVAL;
		next.set_umask = true;
		next.umask = mask;
		r = tether_spawn_attr_set_umask(obj, mask);
		check_result(r, expect(bad, false), "tether_spawn_attr_set_umask");
		break;
	}
	default:
		abort();
	}
	if (op != OP_ATTR_INIT && op != OP_ATTR_DESTROY && r == 0)
		m->want = next;
	attr_check(m); /* also after a failure: nothing changed */
}

/* ---- file actions ---- */

static void action_free(struct file_action *a)
{
	free(a->path);
	free(a->keep);
}

static void action_check(const struct file_action *got, const struct file_action *want)
{
	CHECK(got->type == want->type);
	switch (want->type) {
	case FILE_ACTION_DUP2:
		CHECK(got->fd == want->fd && got->newfd == want->newfd);
		break;
	case FILE_ACTION_CLOSE:
	case FILE_ACTION_FCHDIR:
		CHECK(got->fd == want->fd);
		break;
	case FILE_ACTION_OPEN:
		CHECK(got->fd == want->fd && got->oflag == want->oflag && got->mode == want->mode);
		/* fall through */
	case FILE_ACTION_CHDIR:
		CHECK(got->path && strcmp(got->path, want->path) == 0);
		break;
	case FILE_ACTION_CLOSE_RANGE:
		CHECK(got->first == want->first && got->last == want->last);
		break;
	case FILE_ACTION_CLOSE_ALL_BUT:
		CHECK(got->n_keep == want->n_keep);
		CHECK(!want->n_keep || (got->keep && memcmp(got->keep, want->keep, want->n_keep * sizeof(int)) == 0));
		break;
	}
}

static void actions_check_all(const struct actions_model *m)
{
	if (!m->obj)
		return;
	CHECK(m->obj->n == m->n && m->obj->n <= m->obj->cap && (m->n == 0 || m->obj->v));
	for (size_t i = 0; i < m->n; i++)
		action_check(&m->obj->v[i], &m->v[i]);
}

static void actions_destroy(struct actions_model *m)
{
	actions_check_all(m);
	tether_file_actions_destroy(m->obj);
	m->obj = NULL;
	for (size_t i = 0; i < m->n; i++)
		action_free(&m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

static void model_append(struct actions_model *m, const struct file_action *a)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		CHECK(m->v);
	}
	m->v[m->n++] = *a;
}

/* The keep list tether_spawn() must see: the fds above 2, sorted, each once. */
static size_t keep_normalize(const int *keep, size_t n, int *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;
		if (keep[i] <= 2)
			continue;
		for (j = 0; j < k && out[j] < keep[i]; j++)
			;
		if (j < k && out[j] == keep[i])
			continue;
		memmove(out + j + 1, out + j, (k - j) * sizeof(int));
		out[j] = keep[i];
		k++;
	}
	return k;
}

static void actions_op(enum op op, struct input *in)
{
	uint8_t sel = take8(in);
	struct actions_model *m = &actions[sel & 1];
	struct tether_file_actions *obj = (sel & 6) == 6 ? NULL : m->obj;
	struct file_action a = { .fd = -1 };
	unsigned int bad = obj ? 0 : ALLOW_EINVAL;
	char *path = NULL;
	int *keep = NULL;
	size_t n_before = m->obj ? m->obj->n : 0;
	const char *what;
	int r;

	switch (op) {
	case OP_FA_INIT:
		if ((sel & 6) == 6) {
			check_result(tether_file_actions_init(NULL), ALLOW_EINVAL, "tether_file_actions_init(NULL)");
			return;
		}
		actions_destroy(m);
		r = tether_file_actions_init(&m->obj);
		check_result(r, ALLOW_OK | ALLOW_ENOMEM, "tether_file_actions_init");
		if (r < 0)
			m->obj = NULL;
		else
			CHECK(m->obj && m->obj->n == 0);
		return;
	case OP_FA_DESTROY:
		actions_destroy(m);
		return;
	case OP_ADD_DUP2:
		a.type = FILE_ACTION_DUP2;
		a.fd = take_int(in);
		a.newfd = take_int(in);
		if (a.fd < 0 || a.newfd < 0)
			bad |= ALLOW_EBADF;
		what = "tether_file_actions_add_dup2";
		r = tether_file_actions_add_dup2(obj, a.fd, a.newfd);
		break;
	case OP_ADD_CLOSE:
	case OP_ADD_FCHDIR:
		a.type = op == OP_ADD_CLOSE ? FILE_ACTION_CLOSE : FILE_ACTION_FCHDIR;
		a.fd = take_int(in);
		if (a.fd < 0)
			bad |= ALLOW_EBADF;
		what = op == OP_ADD_CLOSE ? "tether_file_actions_add_close" : "tether_file_actions_add_fchdir";
		r = op == OP_ADD_CLOSE ? tether_file_actions_add_close(obj, a.fd)
				       : tether_file_actions_add_fchdir(obj, a.fd);
		break;
	case OP_ADD_OPEN:
	case OP_ADD_CHDIR:
		if (op == OP_ADD_OPEN) {
			a.type = FILE_ACTION_OPEN;
			a.fd = take_int(in);
			a.oflag = take_int(in);
			a.mode = (mode_t)take_value(in);
			if (a.fd < 0)
				bad |= ALLOW_EBADF;
			what = "tether_file_actions_add_open";
		} else {
			a.type = FILE_ACTION_CHDIR;
			what = "tether_file_actions_add_chdir";
		}
		path = take_path(in);
		if (!path)
			bad |= ALLOW_EINVAL;
		r = op == OP_ADD_OPEN ? tether_file_actions_add_open(obj, a.fd, path, a.oflag, a.mode)
				      : tether_file_actions_add_chdir(obj, path);
		if (r == 0) {
			const char *stored = obj->v[obj->n - 1].path;
			CHECK(stored != path); /* copied */
			a.path = strdup(path);
			CHECK(a.path);
		}
		break;
	case OP_ADD_CLOSE_RANGE:
		a.type = FILE_ACTION_CLOSE_RANGE;
		a.first = (unsigned int)take_value(in);
		a.last = (unsigned int)take_value(in);
		if (a.first > a.last)
			bad |= ALLOW_EINVAL;
		what = "tether_file_actions_add_close_range";
		r = tether_file_actions_add_close_range(obj, a.first, a.last);
		break;
	case OP_ADD_CLOSE_ALL_BUT: {
		uint8_t c = take8(in);
		size_t n = c & MAX_KEEP;

		a.type = FILE_ACTION_CLOSE_ALL_BUT;
		what = "tether_file_actions_add_close_all_but";
		if (c & 0x80) {
			/* NULL with a count: only 0 is fine; a huge count must not be believed. */
			size_t count = c & 0x40 ? SIZE_MAX - n : n;
			if (count)
				bad |= ALLOW_EINVAL;
			r = tether_file_actions_add_close_all_but(obj, NULL, count);
			break;
		}
		/* Exactly n ints (a byte for none), so that reading past them is caught. */
		keep = malloc(n ? n * sizeof(int) : 1);
		CHECK(keep);
		for (size_t i = 0; i < n; i++) {
			keep[i] = take_int(in);
			if (keep[i] < 0)
				bad |= ALLOW_EBADF;
		}
		if (huge_counts && (c & 0x40)) {
			/* A count no array can have, whose size in bytes wraps to n ints. */
			r = tether_file_actions_add_close_all_but(obj, keep, SIZE_MAX / sizeof(int) + 1 + n);
			bad |= ALLOW_EINVAL;
			break;
		}
		r = tether_file_actions_add_close_all_but(obj, keep, n);
		if (r == 0) {
			a.keep = malloc(n ? n * sizeof(int) : 1);
			CHECK(a.keep);
			a.n_keep = keep_normalize(keep, n, a.keep);
			CHECK(!a.n_keep || obj->v[obj->n - 1].keep != keep); /* copied */
		}
		break;
	}
	default:
		abort();
	}

	check_result(r, expect(bad, true), what); /* every adder allocates */
	free(path); /* the caller's buffers go at once: the object must not need them */
	free(keep);
	if (r == 0) {
		CHECK(obj == m->obj && obj->n == n_before + 1);
		model_append(m, &a);
		action_check(&obj->v[obj->n - 1], &a);
	} else {
		action_free(&a);
		CHECK(!m->obj || m->obj->n == n_before); /* nothing added */
		if (m->obj && m->n)
			action_check(&m->obj->v[m->n - 1], &m->v[m->n - 1]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct input in = { data, len };

	while (in.n) {
		enum op op = take8(&in) % N_OPS;

		if (op <= OP_SET_UMASK) {
			attr_op(op, &in);
		} else if (op < OP_CHECK) {
			actions_op(op, &in);
		} else {
			for (int i = 0; i < NSLOT; i++) {
				attr_check(&attrs[i]);
				actions_check_all(&actions[i]);
			}
		}
	}
	for (int i = 0; i < NSLOT; i++) {
		attr_destroy(&attrs[i]);
		actions_destroy(&actions[i]);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * tether._tether: the C layer of the Python package, a thin binding of
 * tether_spawnx() and struct tether_child. Everything subprocess-shaped
 * (argument conventions, pipes, exceptions with file names) is Python code in
 * tether/_popen.py; this file only turns Python objects into the C calls and
 * back, and releases the GIL around everything that can block.
 *
 * Blocking: tether_spawnx() suspends only the calling thread (vfork-style
 * clone), so it runs without the GIL. Waiting polls the pidfd here rather
 * than inside tether_child_wait(), because the library retries poll() on
 * EINTR and a Python program must see KeyboardInterrupt (and any other
 * signal handler's exception) while it waits.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <tether.h>

/* File action codes of spawn()'s actions argument (mirrored in _popen.py). */
enum {
	ACT_DUP2 = 1,          /* (ACT_DUP2, fd, newfd) */
	ACT_CLOSE = 2,         /* (ACT_CLOSE, fd) */
	ACT_CHDIR = 3,         /* (ACT_CHDIR, path) */
	ACT_CLOSE_ALL_BUT = 4, /* (ACT_CLOSE_ALL_BUT, (fd, ...)) */
	ACT_OPEN = 5,          /* (ACT_OPEN, fd, path, oflag, mode) */
};

typedef struct {
	PyObject_HEAD
	struct tether_child *child; /* NULL once released */
	pid_t pid;
	unsigned long long flags;
	enum tether_backend backend;
	int busy;             /* calls running without the GIL that use child */
	bool release_pending; /* release() came while busy: the last one out releases */
} ChildObject;

static PyTypeObject Child_Type;

/* ---- errors ---- */

/* OSError(err, strerror(err)) (so FileNotFoundError etc.), with .stage set. */
static PyObject *set_os_error(int err, int stage)
{
	PyObject *exc = PyObject_CallFunction(PyExc_OSError, "is", err, strerror(err));

	if (!exc)
		return NULL;
	if (stage >= 0) {
		PyObject *st = PyLong_FromLong(stage);
		if (!st || PyObject_SetAttrString(exc, "stage", st) < 0) {
			Py_XDECREF(st);
			Py_DECREF(exc);
			return NULL;
		}
		Py_DECREF(st);
	}
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

/* ---- argument conversion ---- */

struct strv {
	PyObject *owners; /* list of bytes objects that own the strings */
	char **v;         /* NULL-terminated */
};

static void strv_clear(struct strv *s)
{
	PyMem_Free(s->v);
	s->v = NULL;
	Py_CLEAR(s->owners);
}

/* A sequence of str/bytes/os.PathLike into a NULL-terminated char *[]. */
static int strv_from(PyObject *seq, struct strv *s, const char *what)
{
	PyObject *fast = PySequence_Fast(seq, what);
	Py_ssize_t n;

	s->owners = NULL;
	s->v = NULL;
	if (!fast)
		return -1;
	n = PySequence_Fast_GET_SIZE(fast);
	s->owners = PyList_New(n);
	s->v = PyMem_Calloc((size_t)n + 1, sizeof(char *));
	if (!s->owners || !s->v) {
		Py_DECREF(fast);
		strv_clear(s);
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *b = NULL;
		if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(fast, i), &b)) {
			Py_DECREF(fast);
			strv_clear(s);
			return -1;
		}
		PyList_SET_ITEM(s->owners, i, b);
		s->v[i] = PyBytes_AS_STRING(b);
	}
	Py_DECREF(fast);
	return 0;
}

static int fd_from(PyObject *o, int *fd)
{
	long v = PyLong_AsLong(o);

	if (v == -1 && PyErr_Occurred())
		return -1;
	if (v < 0 || v > INT_MAX) {
		PyErr_Format(PyExc_ValueError, "bad file descriptor %ld", v);
		return -1;
	}
	*fd = (int)v;
	return 0;
}

/* One action tuple into actions. Returns 0, or -1 with a Python error set. */
static int add_action(struct tether_file_actions *fa, PyObject *t)
{
	Py_ssize_t n;
	long op;
	int r = 0;

	if (!PyTuple_Check(t) || (n = PyTuple_GET_SIZE(t)) < 2) {
		PyErr_SetString(PyExc_TypeError, "a file action is a tuple (op, args...)");
		return -1;
	}
	op = PyLong_AsLong(PyTuple_GET_ITEM(t, 0));
	if (op == -1 && PyErr_Occurred())
		return -1;
	switch (op) {
	case ACT_DUP2: {
		int fd, newfd;
		if (n != 3 || fd_from(PyTuple_GET_ITEM(t, 1), &fd) < 0 ||
		    fd_from(PyTuple_GET_ITEM(t, 2), &newfd) < 0)
			goto bad;
		r = tether_file_actions_add_dup2(fa, fd, newfd);
		break;
	}
	case ACT_CLOSE: {
		int fd;
		if (n != 2 || fd_from(PyTuple_GET_ITEM(t, 1), &fd) < 0)
			goto bad;
		r = tether_file_actions_add_close(fa, fd);
		break;
	}
	case ACT_CHDIR: {
		PyObject *path = NULL;
		if (n != 2 || !PyUnicode_FSConverter(PyTuple_GET_ITEM(t, 1), &path))
			goto bad;
		r = tether_file_actions_add_chdir(fa, PyBytes_AS_STRING(path));
		Py_DECREF(path);
		break;
	}
	case ACT_CLOSE_ALL_BUT: {
		PyObject *fast;
		Py_ssize_t k;
		int *keep;
		if (n != 2 || !(fast = PySequence_Fast(PyTuple_GET_ITEM(t, 1), "fds to keep")))
			goto bad;
		k = PySequence_Fast_GET_SIZE(fast);
		keep = PyMem_Calloc((size_t)k + 1, sizeof(int));
		if (!keep) {
			Py_DECREF(fast);
			PyErr_NoMemory();
			return -1;
		}
		for (Py_ssize_t i = 0; i < k; i++) {
			if (fd_from(PySequence_Fast_GET_ITEM(fast, i), &keep[i]) < 0) {
				PyMem_Free(keep);
				Py_DECREF(fast);
				return -1;
			}
		}
		r = tether_file_actions_add_close_all_but(fa, keep, (size_t)k);
		PyMem_Free(keep);
		Py_DECREF(fast);
		break;
	}
	case ACT_OPEN: {
		PyObject *path = NULL;
		int fd, oflag, mode;
		if (n != 5 || fd_from(PyTuple_GET_ITEM(t, 1), &fd) < 0 ||
		    !PyUnicode_FSConverter(PyTuple_GET_ITEM(t, 2), &path))
			goto bad;
		oflag = PyLong_AsLong(PyTuple_GET_ITEM(t, 3));
		mode = PyLong_AsLong(PyTuple_GET_ITEM(t, 4));
		if (PyErr_Occurred()) {
			Py_DECREF(path);
			return -1;
		}
		r = tether_file_actions_add_open(fa, fd, PyBytes_AS_STRING(path), oflag, (mode_t)mode);
		Py_DECREF(path);
		break;
	}
	default:
		PyErr_Format(PyExc_ValueError, "unknown file action %ld", op);
		return -1;
	}
	if (r < 0) {
		set_os_error(-r, -1);
		return -1;
	}
	return 0;
bad:
	if (!PyErr_Occurred())
		PyErr_SetString(PyExc_TypeError, "malformed file action");
	return -1;
}

static int sigset_from(PyObject *seq, sigset_t *set)
{
	PyObject *fast = PySequence_Fast(seq, "signals");

	if (!fast)
		return -1;
	sigemptyset(set);
	for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
		long sig = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
		if ((sig == -1 && PyErr_Occurred()) || sigaddset(set, (int)sig) < 0) {
			if (!PyErr_Occurred())
				PyErr_Format(PyExc_ValueError, "bad signal number %ld", sig);
			Py_DECREF(fast);
			return -1;
		}
	}
	Py_DECREF(fast);
	return 0;
}

/* ---- spawn() ---- */

PyDoc_STRVAR(spawn_doc,
"spawn(file, argv, envp, actions=(), *, flags=0, search_path=False, setsid=False,\n"
"      pgroup=-1, umask=-1, sigdefault=(), path_from_envp=False) -> Child\n"
"\n"
"Start file with argv (a sequence of str/bytes/path-like, argv[0] included)\n"
"and envp (a sequence of b'NAME=value', or None for this process's\n"
"environment) via tether_spawnx(). actions: file action tuples, performed in\n"
"the child in order. flags: CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL.\n"
"search_path: look file up in PATH when it has no '/' (path_from_envp: in\n"
"envp's PATH, as subprocess does for env=). pgroup: -1 unset, 0 a\n"
"new group, else a group to join. umask: -1 to inherit. sigdefault: signals\n"
"reset to SIG_DFL in the child even if ignored here.\n"
"\n"
"Raises OSError (FileNotFoundError, PermissionError, ...) with the errno of\n"
"the failure and an attribute 'stage': STAGE_PARENT (before a child\n"
"existed), STAGE_CHILD (set-up or file actions) or STAGE_EXEC (the exec).\n"
"Nothing is left behind on failure. The GIL is released while spawning.");

static PyObject *tether_py_spawn(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "file", "argv", "envp", "actions", "flags", "search_path", "setsid",
				  "pgroup", "umask", "sigdefault", "path_from_envp", NULL };
	PyObject *file_o = NULL, *argv_o, *envp_o, *actions_o = NULL, *sigdef_o = NULL;
	unsigned long long flags = 0;
	int search_path = 0, setsid = 0, pgroup = -1, umask_v = -1, path_from_envp = 0;
	struct strv argv = { 0 }, envp = { 0 };
	struct tether_spawn_attr *attr = NULL;
	struct tether_file_actions *fa = NULL;
	struct tether_child *child = NULL;
	enum tether_spawn_stage stage = TETHER_SPAWN_STAGE_NONE;
	ChildObject *obj = NULL;
	int r;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&OO|O$KppiiOp", kwlist, PyUnicode_FSConverter, &file_o,
					 &argv_o, &envp_o, &actions_o, &flags, &search_path, &setsid, &pgroup,
					 &umask_v, &sigdef_o, &path_from_envp))
		return NULL;
	if (strv_from(argv_o, &argv, "argv must be a sequence") < 0)
		goto out;
	if (argv.v[0] == NULL) {
		PyErr_SetString(PyExc_ValueError, "argv must not be empty");
		goto out;
	}
	if (envp_o != Py_None && strv_from(envp_o, &envp, "envp must be a sequence or None") < 0)
		goto out;

	if ((r = tether_spawn_attr_init(&attr)) < 0)
		goto oserr;
	if (flags && (r = tether_spawn_attr_set_flags(attr, flags)) < 0)
		goto oserr;
	if (setsid && (r = tether_spawn_attr_set_setsid(attr, true)) < 0)
		goto oserr;
	if (pgroup >= 0 && (r = tether_spawn_attr_set_pgroup(attr, pgroup)) < 0)
		goto oserr;
	if (umask_v >= 0 && (r = tether_spawn_attr_set_umask(attr, (mode_t)umask_v & 0777)) < 0)
		goto oserr;
	if (sigdef_o && sigdef_o != Py_None) {
		sigset_t set;
		if (sigset_from(sigdef_o, &set) < 0)
			goto out;
		if ((r = tether_spawn_attr_set_sigdefault(attr, &set)) < 0)
			goto oserr;
	}
	if (actions_o && actions_o != Py_None) {
		PyObject *fast = PySequence_Fast(actions_o, "actions must be a sequence");
		if (!fast)
			goto out;
		if ((r = tether_file_actions_init(&fa)) < 0) {
			Py_DECREF(fast);
			goto oserr;
		}
		for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
			if (add_action(fa, PySequence_Fast_GET_ITEM(fast, i)) < 0) {
				Py_DECREF(fast);
				goto out;
			}
		}
		Py_DECREF(fast);
	}

	obj = PyObject_New(ChildObject, &Child_Type);
	if (!obj)
		goto out;
	obj->child = NULL;
	Py_BEGIN_ALLOW_THREADS
	r = tether_spawnx(&child, PyBytes_AS_STRING(file_o), !search_path ? 0 : path_from_envp ? TETHER_SPAWN_SEARCH_ENVP_PATH : TETHER_SPAWN_SEARCH_PATH, fa,
			  attr, argv.v, envp.v, &stage);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		Py_CLEAR(obj);
		set_os_error(-r, (int)stage);
		goto out;
	}
	obj->child = child;
	obj->pid = tether_child_pid(child);
	obj->flags = flags;
	obj->backend = tether_child_backend(child);
	obj->busy = 0;
	obj->release_pending = false;
	goto out;
oserr:
	set_os_error(-r, TETHER_SPAWN_STAGE_PARENT);
out:
	tether_file_actions_destroy(fa);
	tether_spawn_attr_destroy(attr);
	strv_clear(&argv);
	strv_clear(&envp);
	Py_XDECREF(file_o);
	return (PyObject *)obj;
}

/* ---- Child ---- */

static void child_release_now(ChildObject *c)
{
	struct tether_child *child = c->child;

	c->child = NULL;
	c->release_pending = false;
	if (child) {
		/* May reap a zombie or close an autokill file: quick, but a system call or two. */
		Py_BEGIN_ALLOW_THREADS
		tether_child_release(child);
		Py_END_ALLOW_THREADS
	}
}

static void child_leave(ChildObject *c)
{
	if (--c->busy == 0 && c->release_pending)
		child_release_now(c);
}

static void Child_dealloc(ChildObject *c)
{
	/* Nothing can be busy: a running method holds a reference. */
	if (c->child) {
		tether_child_release(c->child);
		c->child = NULL;
	}
	PyObject_Free(c);
}

static PyObject *exit_info_tuple(const struct tether_exit_info *i)
{
#define OPT(have, v) ((have) ? PyLong_FromLong(v) : Py_NewRef(Py_None))
	return Py_BuildValue("(iOiOiONNN)", i->status, i->exited ? Py_True : Py_False, i->exit_code,
			     i->signaled ? Py_True : Py_False, i->signal, i->core_dumped ? Py_True : Py_False,
			     OPT(i->have_coredump_info, (long)i->coredump_mask),
			     OPT(i->have_coredump_signal, i->coredump_signal),
			     OPT(i->have_coredump_code, i->coredump_code));
#undef OPT
}

PyDoc_STRVAR(Child_wait_doc,
"wait(timeout=None) -> tuple or None\n"
"\n"
"Wait at most timeout seconds (None: forever, 0: just look) for the child to\n"
"end. Returns None on timeout, else (status, exited, exit_code, signaled,\n"
"signal, core_dumped, coredump_mask, coredump_signal, coredump_code); the\n"
"last three are None when the kernel did not report them. A child without\n"
"CLONE_AUTOREAP is reaped here. Signal handlers run while waiting (their\n"
"exceptions propagate). Raises ChildProcessError when someone else reaped\n"
"the child and no exit info is kept, ValueError after release().");

static PyObject *Child_wait(ChildObject *c, PyObject *args)
{
	PyObject *timeout_o = Py_None;
	struct tether_exit_info info;
	struct timespec start, now;
	long long timeout_ms = -1;
	int r, n;

	if (!PyArg_ParseTuple(args, "|O:wait", &timeout_o))
		return NULL;
	if (!c->child) {
		PyErr_SetString(PyExc_ValueError, "the child handle has been released");
		return NULL;
	}
	if (timeout_o != Py_None) {
		double t = PyFloat_AsDouble(timeout_o);
		if (t == -1.0 && PyErr_Occurred())
			return NULL;
		if (isnan(t)) {
			PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
			return NULL;
		}
		/* Rounded up: a wait never ends before its time. */
		timeout_ms = t <= 0 ? 0 : t >= 1e15 ? -1 : (long long)ceil(t * 1000.0);
	}
	c->busy++;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = tether_child_pidfd(c->child), .events = POLLIN };
		long long left = timeout_ms;
		int err;

		if (timeout_ms > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000LL +
					     (now.tv_nsec - start.tv_nsec) / 1000000);
			if (left < 0)
				left = 0;
		}
		Py_BEGIN_ALLOW_THREADS
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n > 0)
			break;
		if (n == 0) {
			if (left > INT_MAX || timeout_ms < 0)
				continue; /* a chunk of a longer wait */
			child_leave(c);
			Py_RETURN_NONE;
		}
		if (err != EINTR) {
			child_leave(c);
			return set_os_error(err, -1);
		}
		if (PyErr_CheckSignals() < 0) {
			child_leave(c);
			return NULL;
		}
	}
	/* Readable: the child has ended; collect it (a moment, bounded, for an autoreap child's info). */
	Py_BEGIN_ALLOW_THREADS
	r = tether_child_wait(c->child, 0, &info);
	Py_END_ALLOW_THREADS
	child_leave(c);
	if (r == -ETIMEDOUT)
		Py_RETURN_NONE;
	if (r < 0)
		return set_os_error(-r, -1);
	return exit_info_tuple(&info);
}

PyDoc_STRVAR(Child_send_signal_doc,
"send_signal(sig) -> None\n"
"\n"
"Send signal number sig through the pidfd (never to a reused pid).\n"
"Raises ProcessLookupError once the child has ended or the handle has been\n"
"released.");

static PyObject *Child_send_signal(ChildObject *c, PyObject *arg)
{
	int sig = PyLong_AsLong(arg), r;

	if (sig == -1 && PyErr_Occurred())
		return NULL;
	if (!c->child)
		return set_os_error(ESRCH, -1);
	r = tether_child_kill(c->child, sig);
	if (r < 0)
		return set_os_error(-r, -1);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Child_release_doc,
"release() -> None\n"
"\n"
"Drop the handle: closes the pidfd. An autokill child is killed if this was\n"
"the last reference to its autokill file; a child that ended unwaited is\n"
"reaped; a running ordinary child goes on as a plain child of the process.\n"
"Idempotent. Also done when the object is garbage-collected.");

static PyObject *Child_release(ChildObject *c, PyObject *unused)
{
	(void)unused;
	if (c->busy)
		c->release_pending = true; /* a wait() in another thread still uses it */
	else
		child_release_now(c);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Child_autokill_fd_doc,
"autokill_fd() -> int\n"
"\n"
"The file descriptor whose last close kills a CLONE_PIDFD_AUTOKILL child\n"
"(owned by the handle: dup() it to share it, never close it). Raises\n"
"FileNotFoundError (ENOENT) for a child spawned without autokill.");

static PyObject *Child_autokill_fd(ChildObject *c, PyObject *unused)
{
	int r;

	(void)unused;
	if (!c->child) {
		PyErr_SetString(PyExc_ValueError, "the child handle has been released");
		return NULL;
	}
	r = tether_child_autokill_fd(c->child);
	if (r < 0)
		return set_os_error(-r, -1);
	return PyLong_FromLong(r);
}

static PyObject *Child_get_pidfd(ChildObject *c, void *closure)
{
	(void)closure;
	if (!c->child)
		Py_RETURN_NONE;
	return PyLong_FromLong(tether_child_pidfd(c->child));
}

static PyObject *Child_get_backend(ChildObject *c, void *closure)
{
	(void)closure;
	return PyUnicode_FromString(tether_backend_name(c->backend));
}

static PyObject *Child_get_released(ChildObject *c, void *closure)
{
	(void)closure;
	return PyBool_FromLong(c->child == NULL);
}

static PyMethodDef Child_methods[] = {
	{ "wait", (PyCFunction)Child_wait, METH_VARARGS, Child_wait_doc },
	{ "send_signal", (PyCFunction)Child_send_signal, METH_O, Child_send_signal_doc },
	{ "release", (PyCFunction)Child_release, METH_NOARGS, Child_release_doc },
	{ "autokill_fd", (PyCFunction)Child_autokill_fd, METH_NOARGS, Child_autokill_fd_doc },
	{ NULL, NULL, 0, NULL },
};

static PyMemberDef Child_members[] = {
	{ "pid", T_INT, offsetof(ChildObject, pid), READONLY,
	  "The child's pid (informational: signals go through the pidfd)." },
	{ "flags", T_ULONGLONG, offsetof(ChildObject, flags), READONLY,
	  "The lifecycle flags it was spawned with (CLONE_*)." },
	{ NULL, 0, 0, 0, NULL },
};

static PyGetSetDef Child_getset[] = {
	{ "pidfd", (getter)Child_get_pidfd, NULL,
	  "The child's pidfd (int, owned by the handle: do not close it), or None once released.", NULL },
	{ "backend", (getter)Child_get_backend, NULL,
	  "Which implementation served the lifecycle flags: 'native' or 'emulate'.", NULL },
	{ "released", (getter)Child_get_released, NULL, "Whether release() has dropped the handle.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject Child_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "tether._tether.Child",
	.tp_basicsize = sizeof(ChildObject),
	.tp_dealloc = (destructor)Child_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A spawned child (struct tether_child): owns its pidfd. Made by spawn() only.",
	.tp_methods = Child_methods,
	.tp_members = Child_members,
	.tp_getset = Child_getset,
};

/* ---- module functions ---- */

static PyObject *py_version(PyObject *m, PyObject *unused)
{
	(void)m;
	(void)unused;
	return PyUnicode_FromString(tether_version());
}

static PyObject *py_features(PyObject *m, PyObject *unused)
{
	(void)m;
	(void)unused;
	return PyLong_FromUnsignedLong(tether_features());
}

static PyObject *py_feature_name(PyObject *m, PyObject *arg)
{
	unsigned long f = PyLong_AsUnsignedLong(arg);
	const char *name;

	(void)m;
	if (f == (unsigned long)-1 && PyErr_Occurred())
		return NULL;
	name = tether_feature_name((unsigned int)f);
	if (!name)
		Py_RETURN_NONE;
	return PyUnicode_FromString(name);
}

static int backend_from_name(PyObject *arg, enum tether_backend *b)
{
	const char *s = PyUnicode_AsUTF8(arg);

	if (!s)
		return -1;
	for (int i = TETHER_BACKEND_AUTO; i <= TETHER_BACKEND_EMULATE; i++) {
		if (strcmp(s, tether_backend_name((enum tether_backend)i)) == 0) {
			*b = (enum tether_backend)i;
			return 0;
		}
	}
	PyErr_Format(PyExc_ValueError, "unknown backend %R (auto, native or emulate)", arg);
	return -1;
}

static PyObject *py_set_backend(PyObject *m, PyObject *arg)
{
	enum tether_backend b;
	int r;

	(void)m;
	if (backend_from_name(arg, &b) < 0)
		return NULL;
	r = tether_set_backend(b);
	if (r < 0)
		return set_os_error(-r, -1);
	Py_RETURN_NONE;
}

static PyObject *py_get_backend(PyObject *m, PyObject *unused)
{
	(void)m;
	(void)unused;
	return PyUnicode_FromString(tether_backend_name(tether_get_backend()));
}

static PyObject *py_backend_for(PyObject *m, PyObject *arg)
{
	unsigned long long flags = PyLong_AsUnsignedLongLong(arg);

	(void)m;
	if (flags == (unsigned long long)-1 && PyErr_Occurred())
		return NULL;
	return PyUnicode_FromString(tether_backend_name(tether_backend_for(flags)));
}

static PyMethodDef module_methods[] = {
	{ "spawn", (PyCFunction)(void (*)(void))tether_py_spawn, METH_VARARGS | METH_KEYWORDS, spawn_doc },
	{ "version", py_version, METH_NOARGS, "version() -> str: libtether's version, 'MAJOR.MINOR.PATCH'." },
	{ "features", py_features, METH_NOARGS,
	  "features() -> int: bitmask of FEATURE_* the running kernel has (probed, never by version)." },
	{ "feature_name", py_feature_name, METH_O,
	  "feature_name(bit) -> str or None: short name of one FEATURE_* bit." },
	{ "set_backend", py_set_backend, METH_O,
	  "set_backend(name) -> None: force 'auto', 'native' or 'emulate' for the whole process\n"
	  "(the TETHER_BACKEND environment variable sets the initial value). ValueError for other names." },
	{ "get_backend", py_get_backend, METH_NOARGS, "get_backend() -> str: the forced backend ('auto', ...)." },
	{ "backend_for", py_backend_for, METH_O,
	  "backend_for(flags) -> str: 'native' or 'emulate', what spawning with these CLONE_* flags uses now." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "tether._tether",
	.m_doc = "The C layer of the tether package (libtether's spawn and child handles). "
		 "Use tether.Popen; this module's interface may change.",
	.m_size = -1,
	.m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__tether(void)
{
	PyObject *m;

	if (PyType_Ready(&Child_Type) < 0)
		return NULL;
	m = PyModule_Create(&module_def);
	if (!m)
		return NULL;
	Py_INCREF(&Child_Type);
	if (PyModule_AddObject(m, "Child", (PyObject *)&Child_Type) < 0)
		goto fail;
#define ADD_INT(name, v) \
	if (PyModule_AddObject(m, name, PyLong_FromUnsignedLongLong(v)) < 0) \
		goto fail
	ADD_INT("CLONE_AUTOREAP", CLONE_AUTOREAP);
	ADD_INT("CLONE_NNP", CLONE_NNP);
	ADD_INT("CLONE_PIDFD_AUTOKILL", CLONE_PIDFD_AUTOKILL);
	ADD_INT("STAGE_PARENT", TETHER_SPAWN_STAGE_PARENT);
	ADD_INT("STAGE_CHILD", TETHER_SPAWN_STAGE_CHILD);
	ADD_INT("STAGE_EXEC", TETHER_SPAWN_STAGE_EXEC);
	ADD_INT("ACT_DUP2", ACT_DUP2);
	ADD_INT("ACT_CLOSE", ACT_CLOSE);
	ADD_INT("ACT_CHDIR", ACT_CHDIR);
	ADD_INT("ACT_CLOSE_ALL_BUT", ACT_CLOSE_ALL_BUT);
	ADD_INT("ACT_OPEN", ACT_OPEN);
	ADD_INT("FEATURE_CLONE3", TETHER_FEATURE_CLONE3);
	ADD_INT("FEATURE_WAITID_PIDFD", TETHER_FEATURE_WAITID_PIDFD);
	ADD_INT("FEATURE_PIDFS", TETHER_FEATURE_PIDFS);
	ADD_INT("FEATURE_PIDFD_GET_INFO", TETHER_FEATURE_PIDFD_GET_INFO);
	ADD_INT("FEATURE_EXIT_INFO", TETHER_FEATURE_EXIT_INFO);
	ADD_INT("FEATURE_COREDUMP_INFO", TETHER_FEATURE_COREDUMP_INFO);
	ADD_INT("FEATURE_COREDUMP_CODE", TETHER_FEATURE_COREDUMP_CODE);
	ADD_INT("FEATURE_AUTOREAP", TETHER_FEATURE_AUTOREAP);
	ADD_INT("FEATURE_NNP", TETHER_FEATURE_NNP);
	ADD_INT("FEATURE_AUTOKILL", TETHER_FEATURE_AUTOKILL);
#undef ADD_INT
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}

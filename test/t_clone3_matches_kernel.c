/* SPDX-License-Identifier: MIT */
/*
 * Differential: on a kernel that has CLONE_AUTOREAP, CLONE_NNP and
 * CLONE_PIDFD_AUTOKILL natively, tether_clone3() (with whatever backend
 * TETHER_BACKEND selects) must accept and refuse exactly what the raw
 * clone3() system call does, with the same errno, for every combination of
 * AUTOREAP, NNP, PIDFD_AUTOKILL, PIDFD, THREAD|SIGHAND|VM and PARENT, with
 * exit_signal 0 and SIGCHLD. The cases run twice: as root, and without
 * privileges, where CLONE_PIDFD_AUTOKILL without CLONE_NNP fails with EPERM
 * (R6) and the order of the checks decides which errno a call gets.
 *
 * All calls are made in a worker process: CLONE_PARENT children become
 * children of the test's main process, which reaps them.
 */
#include <sys/mman.h>

#include "arch.h"
#include "harness.h"

#define THREAD_ITEM (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)
#define STACK_SIZE (64 * 1024)
#define WAIT_MS 10000
#define WORKER_MISMATCH 3 /* the worker's exit status when calls differed */

static const uint64_t items[] = {
	CLONE_AUTOREAP, CLONE_NNP, CLONE_PIDFD_AUTOKILL, CLONE_PIDFD, THREAD_ITEM, CLONE_PARENT,
};
#define N_ITEMS (sizeof(items) / sizeof(items[0]))

/*
 * Where a CLONE_VM|CLONE_THREAD child goes (test/arch.h): it starts on its
 * own stack right after the system call and returns into this stub, which
 * touches no memory and ends just the thread.
 */
T_EXIT_STUB(clone3_thread_exit_stub);

struct outcome {
	bool ok;
	int err; /* errno when !ok */
};

/* A fresh stack topped with the stub's address; *size is its usable size. */
static void *thread_stack(__u64 *size)
{
	void *base = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
			  -1, 0);

	if (base == MAP_FAILED)
		t_fail("mmap: %s", strerror(errno));
	*size = t_stub_stack_size(base, STACK_SIZE, clone3_thread_exit_stub);
	return base;
}

static const char *flag_words(uint64_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s", flags & CLONE_AUTOREAP ? "AUTOREAP|" : "",
		 flags & CLONE_NNP ? "NNP|" : "", flags & CLONE_PIDFD_AUTOKILL ? "AUTOKILL|" : "",
		 flags & CLONE_PIDFD ? "PIDFD|" : "", flags & CLONE_THREAD ? "THREAD|SIGHAND|VM|" : "",
		 flags & CLONE_PARENT ? "PARENT|" : "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, len, "0");
	return buf;
}

/* One call, raw or through tether, and the cleanup of whatever it created. */
static struct outcome call(bool tether, uint64_t flags, int exit_signal)
{
	int pidfd = -1;
	struct clone_args args = {
		.flags = flags,
		.pidfd = (uintptr_t)&pidfd,
		.exit_signal = (uint64_t)exit_signal,
	};
	void *stack = NULL;
	char words[96];
	pid_t pid;

	if (flags & CLONE_VM) {
		stack = thread_stack(&args.stack_size);
		args.stack = (uintptr_t)stack;
	}
	errno = 0;
	pid = tether ? t_tether_clone3_stub(&args, sizeof(args)) : (pid_t)t_raw_clone3_stub(&args, sizeof(args));
	if (pid == 0)
		_exit(0); /* a process child (threads went to the stub) */
	if (pid < 0) {
		int err = errno;
		if (stack)
			munmap(stack, STACK_SIZE);
		return (struct outcome){ .ok = false, .err = err };
	}

	flag_words(flags, words, sizeof(words));
	if (flags & CLONE_THREAD) {
		if (!t_wait_thread_gone(pid, WAIT_MS))
			t_fail("%s %s: thread %d did not end", tether ? "tether" : "raw", words, (int)pid);
		/* the thread is released: nothing runs on its stack any more */
		munmap(stack, STACK_SIZE);
	} else if (flags & CLONE_PARENT) {
		/* the main process's child: it reaps it */
	} else if (flags & CLONE_AUTOREAP) {
		if ((flags & CLONE_PIDFD) && !t_pidfd_wait_readable(pidfd, WAIT_MS))
			t_fail("%s %s: autoreap child %d did not exit", tether ? "tether" : "raw", words, (int)pid);
		if (!t_wait_pid_reaped(pid, WAIT_MS))
			t_fail("%s %s: autoreap child %d was not reaped", tether ? "tether" : "raw", words,
			       (int)pid);
	} else {
		siginfo_t si;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL) < 0)
			t_fail("%s %s: waitid(%d): %s", tether ? "tether" : "raw", words, (int)pid,
			       strerror(errno));
	}
	if (flags & CLONE_PIDFD) {
		if (tether)
			tether_pidfd_close(pidfd);
		else
			close(pidfd);
	}
	return (struct outcome){ .ok = true };
}

static const char *outcome_words(struct outcome o, char *buf, size_t len)
{
	if (o.ok)
		snprintf(buf, len, "accepted");
	else
		snprintf(buf, len, "%s (%d)", strerrorname_np(o.err) ? strerrorname_np(o.err) : "?", o.err);
	return buf;
}

/* The thread set-up must work for the raw system call before anything is compared. */
static void self_check_thread_stub(void)
{
	struct outcome o = call(false, THREAD_ITEM, 0);

	if (!o.ok)
		t_fail("raw clone3(THREAD|SIGHAND|VM) with a stub stack failed: %s", strerror(o.err));
	t_info("raw clone3(THREAD|SIGHAND|VM): the thread returned into the exit stub and ended");
}

static int worker(const char *who)
{
	unsigned int cases = 0, accepted = 0, rejected = 0, mismatches = 0, einval = 0, eperm = 0;
	char acc_list[1024] = "";
	size_t acc_used = 0;

	self_check_thread_stub();
	for (unsigned int combo = 0; combo < 1u << N_ITEMS; combo++) {
		uint64_t flags = 0;
		for (unsigned int i = 0; i < N_ITEMS; i++)
			if (combo & (1u << i))
				flags |= items[i];
		for (int s = 0; s < 2; s++) {
			int exit_signal = s ? SIGCHLD : 0;
			struct outcome raw = call(false, flags, exit_signal);
			struct outcome lib = call(true, flags, exit_signal);
			char words[96], a[48], b[48];

			cases++;
			if (raw.ok) {
				accepted++;
				int n = snprintf(acc_list + acc_used, sizeof(acc_list) - acc_used, "%s%s%s",
						 acc_used ? ", " : "", flag_words(flags, words, sizeof(words)),
						 exit_signal ? "+SIGCHLD" : "");
				if (n > 0 && (size_t)n < sizeof(acc_list) - acc_used)
					acc_used += (size_t)n;
			} else {
				rejected++;
				einval += raw.err == EINVAL;
				eperm += raw.err == EPERM;
			}
			if (raw.ok != lib.ok || (!raw.ok && raw.err != lib.err)) {
				mismatches++;
				t_info("MISMATCH %s: flags %#llx (%s) exit_signal %d: kernel %s, tether (%s backend) %s",
				       who, (unsigned long long)flags, flag_words(flags, words, sizeof(words)),
				       exit_signal, outcome_words(raw, a, sizeof(a)), t_backend_word(flags),
				       outcome_words(lib, b, sizeof(b)));
			}
		}
	}
	t_info("%s: accepted by the kernel: %s", who, acc_list);
	t_info("%s: %u cases, %u accepted, %u rejected (by the kernel: %u EINVAL, %u EPERM, %u other); %u mismatches (%s backend for the lifecycle flags)",
	       who, cases, accepted, rejected, einval, eperm, rejected - einval - eperm, mismatches,
	       t_backend_word(CLONE_AUTOREAP));
	return mismatches ? WORKER_MISMATCH : T_EXIT_PASS;
}

/*
 * One round of all cases in a worker; the main process reaps the worker and
 * every CLONE_PARENT child it made. Returns the worker's exit status.
 */
static int round_in_worker(bool unprivileged)
{
	const char *who = unprivileged ? "unprivileged" : geteuid() == 0 ? "as root" : "as caller";
	int worker_status = -1;
	pid_t w;

	fflush(stdout);
	w = fork();
	if (w < 0)
		t_fail("fork: %s", strerror(errno));
	if (w == 0) {
		if (unprivileged)
			t_drop_privileges();
		int r = worker(who);
		fflush(stdout);
		_exit(r);
	}
	for (;;) {
		siginfo_t si = {};
		if (waitid(P_ALL, 0, &si, WEXITED | __WALL) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				t_fail("waitid: %s", strerror(errno));
			break;
		}
		if (si.si_pid == w)
			worker_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	}
	if (worker_status != T_EXIT_PASS && worker_status != WORKER_MISMATCH)
		t_fail("%s: worker ended with status %d%s", who, worker_status,
		       worker_status > 128 ? " (killed by a signal)" : "");
	return worker_status;
}

int main(void)
{
	const unsigned int need = TETHER_FEATURE_AUTOREAP | TETHER_FEATURE_NNP | TETHER_FEATURE_AUTOKILL;
	bool differ = false;

	if ((tether_features() & need) != need)
		t_skip("no reference kernel: the running kernel lacks CLONE_AUTOREAP, CLONE_NNP or CLONE_PIDFD_AUTOKILL");

	differ |= round_in_worker(false) == WORKER_MISMATCH;
	/* Without CAP_SYS_ADMIN, R6 (EPERM) competes with the EINVAL rules: their order shows. */
	if (geteuid() == 0)
		differ |= round_in_worker(true) == WORKER_MISMATCH;
	else
		t_info("not root: the unprivileged round is the one above");
	if (differ)
		t_fail("tether_clone3() differs from the kernel (see MISMATCH lines)");
	t_pass("tether_clone3() accepts and refuses exactly what the kernel does");
}

/* SPDX-License-Identifier: MIT */
/*
 * Emulated CLONE_PIDFD_AUTOKILL: the warden.
 *
 * The autokill "file" is the write end of a pipe (the handle). Its read end
 * goes to the warden, a small process of ours, together with a pidfd of the
 * child. When the last reference to the handle goes (every close, or the exit
 * or crash of every process holding it: dup(), fork() and SCM_RIGHTS all
 * share it, as with the kernel's file), the read end polls EPOLLHUP and the
 * warden sends SIGKILL through the pidfd. Nothing here depends on the thread
 * that created the child, on exec, or on the child's credentials.
 *
 * The child arms itself before it runs any code of the caller's: it sends
 * (its own pidfd, the handle's read end) to the warden and only then goes on.
 * If the creator dies at any point after the child exists, the child either
 * has not armed yet (it still holds the message's fds and sends them; the
 * handle is already dead, so the warden kills it at once) or it has.
 *
 * The warden is started with the first autokill child and runs until the
 * creator closes the channel (it exits or execs) and nothing is left to
 * watch: a warden per creator, not per child, and no start-up cost on the
 * way of later children. If the warden dies while the creator lives, the creator's
 * reaper notices (the warden's pidfd) and kills every autokill child: the
 * safe failure. If both die at once, nobody is left to kill: a documented
 * deviation.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "emulate.h"
#include "spawn.h"
#include "syscalls.h"
#include "warden.h"

static struct warden {
	int sock;      /* our end of the channel, -1 while no warden runs */
	int pidfd;     /* the warden's pidfd (owned by its registry record) */
	unsigned int gen; /* names this warden; 0 is never one */
	size_t children;  /* its autokill children alive (or being made) */
} warden = { .sock = -1, .pidfd = -1 };

static unsigned int warden_generations;

/* ---- the creator's side ---- */

/* The tether-warden program, built with the library and embedded in it. */
extern const unsigned char tether_warden_blob[], tether_warden_blob_end[];

struct warden_exec {
	int memfd, sock;
	char *argv[3];
	volatile int err; /* written by the child if the exec fails */
};

/* In a vfork-style child (our memory, the parent suspended): exec the program. */
static int warden_exec_child(void *arg)
{
	struct warden_exec *w = arg;
	char *envp[] = { NULL };

	if (fcntl(w->sock, F_SETFD, 0) == 0) /* the channel, and only it, survives the exec */
		syscall(SYS_execveat, w->memfd, "", w->argv, envp, AT_EMPTY_PATH);
	w->err = errno;
	return 127;
}

/*
 * Start the warden as its own program: written to a memfd and exec'd from a
 * vfork-style child, so its start costs the same in any creator and it holds
 * none of the creator's memory (a fork would, and every page the creator
 * writes afterwards would be copied). Returns its pid, or -errno.
 */
static long warden_start_exec(int sock, int *pidfd)
{
	static char stack[16384] __attribute__((aligned(16))); /* under the registry lock */
	size_t len = (size_t)(tether_warden_blob_end - tether_warden_blob);
	char num[16];
	struct warden_exec w = { .sock = sock, .argv = { "tether-warden", num, NULL } };
	struct clone_args args = {
		.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD,
		.pidfd = (uintptr_t)pidfd,
		.stack = (uintptr_t)stack,
		.stack_size = sizeof(stack),
	};
	sigset_t all, old;
	long pid;

	snprintf(num, sizeof(num), "%d", sock);
	w.memfd = memfd_create("tether-warden", MFD_CLOEXEC);
	if (w.memfd < 0)
		return negative_errno();
	for (size_t off = 0; off < len;) {
		ssize_t n = write(w.memfd, tether_warden_blob + off, len - off);
		if (n < 0) {
			pid = negative_errno();
			close(w.memfd);
			return pid;
		}
		off += (size_t)n;
	}
	/* No handler of the caller's may run in the child before the exec. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = spawn_clone3(&args, sizeof(args), warden_exec_child, &w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(w.memfd);
	if (pid > 0 && w.err) {
		/* The exec failed (memfd exec forbidden, no execveat): the child exited. */
		siginfo_t si;
		sys_waitid(P_PIDFD, *pidfd, &si, WEXITED | __WALL);
		close(*pidfd);
		*pidfd = -1;
		return -w.err;
	}
	return pid;
}

/* Where the program cannot be exec'd: the warden in a fork of ours. */
static long warden_start_fork(int sock, int *pidfd)
{
	struct clone_args args = {
		.flags = CLONE_PIDFD,
		.pidfd = (uintptr_t)pidfd,
		.exit_signal = 0,
	};
	long pid = clone3_or_clone(&args, sizeof(args));

	if (pid == 0)
		warden_loop(sock);
	return pid < 0 ? negative_errno() : pid;
}

static int warden_start_locked(void)
{
	int sv[2], pidfd = -1, r;
	long pid;

	/* exit_signal 0 (spawn_clone3's and ours): invisible to the application's
	 * wait(-1); our reaper reaps it. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return negative_errno();
	pid = warden_start_exec(sv[1], &pidfd);
	if (pid < 0)
		pid = warden_start_fork(sv[1], &pidfd);
	r = pid < 0 ? (int)pid : 0;
	close(sv[1]);
	if (r == 0)
		r = registry_add_warden_locked(pidfd, warden_generations + 1);
	if (r < 0) {
		if (pidfd >= 0) {
			/* Without the reaper watching it, the warden must not live. */
			siginfo_t si;
			sys_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			sys_waitid(P_PIDFD, pidfd, &si, WEXITED | __WALL);
			close(pidfd);
		}
		close(sv[0]);
		return r;
	}
	warden.sock = sv[0];
	warden.pidfd = pidfd;
	warden.gen = ++warden_generations;
	return 0;
}

int warden_socket_locked(unsigned int *gen)
{
	int r;

	/* Unwatched while idle: see whether it died meanwhile (then it is replaced). */
	if (warden.sock >= 0 && warden.children == 0)
		registry_reap_unwatched_warden_locked();
	if (warden.sock < 0) {
		r = warden_start_locked();
		if (r < 0)
			return r;
	}
	if (warden.children == 0) {
		r = registry_watch_warden_locked(true);
		if (r < 0)
			return r;
	}
	warden.children++;
	*gen = warden.gen;
	return warden.sock;
}

void warden_child_gone_locked(unsigned int gen)
{
	if (gen == warden.gen && warden.children > 0 && --warden.children == 0)
		registry_watch_warden_locked(false);
}

/*
 * A warden ended. Normally only a warden we let go ends (its channel closed,
 * nothing left to watch) and it exits 0. Anything else means it was killed:
 * fail closed, no autokill child may outlive its guarantee.
 */
void warden_exited_locked(int pidfd, unsigned int gen, int status)
{
	if (pidfd == warden.pidfd) {
		warden.pidfd = -1;
		warden_channel_failed_locked(gen);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		registry_kill_autokill_children_locked(gen);
}

void warden_channel_failed_locked(unsigned int gen)
{
	if (gen != warden.gen)
		return; /* an earlier warden: the current one is fine */
	safe_close(warden.sock);
	warden.sock = -1;
	warden.gen = 0; /* the next autokill child starts a new warden */
	warden.children = 0;
}

void warden_forget_in_child(void)
{
	raw_close(warden.sock); /* the pidfd belongs to the registry, which forgets it */
	warden = (struct warden){ .sock = -1, .pidfd = -1 };
}

int warden_arm_from_child(int sock, int handle_rd)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = {};
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int fds[2];
	long r;

	/* Raw system calls: see raw_syscall(). */
	r = raw_syscall(SYS_pidfd_open, raw_syscall(SYS_getpid, 0, 0, 0), 0, 0);
	if (r < 0)
		return (int)r;
	fds[0] = (int)r;
	fds[1] = handle_rd;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	r = raw_syscall(SYS_sendmsg, sock, (long)&msg, MSG_NOSIGNAL);
	if (r == -EPIPE || r == -ECONNREFUSED || r == -ECONNRESET)
		r = -EAGAIN;
	raw_close(fds[0]);
	return r < 0 ? (int)r : 0;
}

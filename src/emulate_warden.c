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
 * The warden runs while autokill children exist or the creator keeps the
 * channel open. If the warden dies while the creator lives, the creator's
 * reaper notices (the warden's pidfd) and kills every autokill child: the
 * safe failure. If both die at once, nobody is left to kill: a documented
 * deviation.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "emulate.h"
#include "syscalls.h"

static struct warden {
	int sock;      /* our end of the channel, -1 while no warden runs */
	int pidfd;     /* the warden's pidfd (owned by its registry record) */
	size_t children; /* autokill children whose handle we still hold */
	unsigned int gen; /* names this warden; 0 is never one */
} warden = { .sock = -1, .pidfd = -1 };

static unsigned int warden_generations;

/* ---- the warden process ---- */

#define TAG_HANDLE (1ULL << 63)

static _Noreturn void warden_main(int sock)
{
	static const int ignored[] = { SIGINT, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct rlimit rl;
	sigset_t none;
	int epfd, *handle_of; /* handle_of[pidfd]: the handle's read end, or -1 once closed */
	size_t fd_max, watched = 0;
	bool open_channel = true;
	struct epoll_event ev;

	/* Only the channel stays open: the caller's fds are none of ours. */
	sock = fcntl(sock, F_DUPFD_CLOEXEC, 3);
	if (sock < 0)
		_exit(1);
	sys_close_range(0, (unsigned int)sock - 1, 0);
	sys_close_range((unsigned int)sock + 1, ~0U, 0);

	/* The caller's handlers are code of the caller's: none may run here.
	 * Terminal and job-control signals are for the application, not for us. */
	setsid();
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &(struct sigaction){ .sa_handler = SIG_DFL }, NULL);
	for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
		sigaction(ignored[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "tether-warden", 0, 0, 0);

	/* No malloc: another thread of the parent may have held its lock. */
	fd_max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? rl.rlim_cur : (1u << 20);
	handle_of = mmap(NULL, fd_max * sizeof(int), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (handle_of == MAP_FAILED || epfd < 0)
		_exit(1);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = (uint64_t)sock };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sock, &ev) < 0)
		_exit(1);

	while (open_channel || watched > 0) {
		struct epoll_event evs[64];
		int closing[2 * ELEMENTSOF(evs)], nclosing = 0;
		int n = epoll_wait(epfd, evs, ELEMENTSOF(evs), -1);

		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			int fd = (int)(uint32_t)d;

			if (d == (uint64_t)sock) {
				/* A child arming itself: (its pidfd, its handle's read end). */
				char cbuf[CMSG_SPACE(2 * sizeof(int))];
				char byte;
				struct iovec iov = { &byte, 1 };
				struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
						      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
				struct cmsghdr *c;
				int fds[2];
				ssize_t r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

				if (r == 0) { /* every creator-side reference is gone */
					epoll_ctl(epfd, EPOLL_CTL_DEL, sock, NULL);
					close(sock);
					open_channel = false;
					continue;
				}
				c = CMSG_FIRSTHDR(&msg);
				if (r < 0 || !c || c->cmsg_type != SCM_RIGHTS ||
				    c->cmsg_len != CMSG_LEN(2 * sizeof(int)))
					continue;
				memcpy(fds, CMSG_DATA(c), sizeof(fds));
				if ((size_t)fds[0] >= fd_max) { /* cannot track: fail closed */
					sys_pidfd_send_signal(fds[0], SIGKILL, NULL, 0);
					close(fds[0]);
					close(fds[1]);
					continue;
				}
				handle_of[fds[0]] = fds[1];
				ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = (uint64_t)fds[0] };
				epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &ev);
				ev = (struct epoll_event){ .events = 0, /* EPOLLHUP is always reported */
							   .data.u64 = TAG_HANDLE | (uint64_t)fds[0] };
				epoll_ctl(epfd, EPOLL_CTL_ADD, fds[1], &ev);
				watched++;
			} else if (d & TAG_HANDLE) {
				/* The last reference to the handle is gone: kill. The pidfd
				 * polls readable once the child is dead, which ends its entry. */
				if (handle_of[fd] < 0)
					continue; /* the child went earlier in this batch */
				sys_pidfd_send_signal(fd, SIGKILL, NULL, 0);
				epoll_ctl(epfd, EPOLL_CTL_DEL, handle_of[fd], NULL);
				closing[nclosing++] = handle_of[fd];
				handle_of[fd] = -1;
			} else {
				/* The child is gone. */
				epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
				if (handle_of[fd] >= 0) {
					epoll_ctl(epfd, EPOLL_CTL_DEL, handle_of[fd], NULL);
					closing[nclosing++] = handle_of[fd];
					handle_of[fd] = -1;
				}
				closing[nclosing++] = fd;
				watched--;
			}
		}
		/* Closed only now: a number freed earlier in the batch could have
		 * been reused by recvmsg() while later events still name it. */
		while (nclosing > 0)
			close(closing[--nclosing]);
	}
	_exit(0);
}

/* ---- the creator's side ---- */

static int warden_start_locked(void)
{
	int sv[2], pidfd = -1, r;
	struct clone_args args = {
		.flags = CLONE_PIDFD,
		.pidfd = (uintptr_t)&pidfd,
		.exit_signal = 0, /* invisible to the application's wait(-1); our reaper reaps it */
	};
	long pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return negative_errno();
	pid = clone3_or_clone(&args, sizeof(args));
	if (pid == 0)
		warden_main(sv[1]);
	r = pid < 0 ? negative_errno() : 0;
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
	if (warden.sock < 0) {
		int r = warden_start_locked();
		if (r < 0)
			return r;
	}
	warden.children++;
	*gen = warden.gen;
	return warden.sock;
}

void warden_child_closed_locked(unsigned int gen)
{
	if (gen == warden.gen && warden.children > 0 && --warden.children == 0 && warden.sock >= 0) {
		/* No handle of ours left: let the warden end once it has nothing
		 * to watch (handles passed to other processes keep it going). */
		close(warden.sock);
		warden.sock = -1;
	}
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
	warden.children = 0;
	warden.gen = 0; /* the next autokill child starts a new warden */
}

void warden_forget_in_child(void)
{
	safe_close(warden.sock); /* the pidfd belongs to the registry, which forgets it */
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
	int fds[2], r = 0;

	fds[0] = sys_pidfd_open(getpid(), 0);
	if (fds[0] < 0)
		return negative_errno();
	fds[1] = handle_rd;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		r = errno == EPIPE || errno == ECONNREFUSED || errno == ECONNRESET ? -EAGAIN : negative_errno();
	close(fds[0]);
	return r;
}

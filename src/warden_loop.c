/* SPDX-License-Identifier: MIT */
/*
 * The warden's body (see emulate_warden.c for the design): it watches
 * (pidfd, handle read end) pairs that autokill children send over its
 * channel, kills a child through its pidfd when the handle's last writer is
 * gone, and ends once its creator has closed the channel and nothing is left
 * to watch. It runs as its own small program (warden_main.c), or, where that
 * cannot be exec'd, in a fork of the creator; so: system calls only, no
 * malloc (another thread of the creator may have held its lock at the fork).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "macro.h"
#include "syscalls.h"
#include "warden.h"

#define TAG_HANDLE (1ULL << 63)

_Noreturn void warden_loop(int sock)
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

/* SPDX-License-Identifier: MIT */
/*
 * An event loop that supervises several children at once: each child's
 * pidfd goes into one epoll set next to a timer; a child that ends is
 * reported and released, and the ones still running when the timer fires
 * are killed. No SIGCHLD handler, no waitpid(-1), no pid reuse races.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <tether.h>

#define DEADLINE_S 2

struct job {
	const char *name;
	char *argv[5];
	struct tether_child *child;
};

int main(void)
{
	struct job jobs[] = {
		{ .name = "quick", .argv = { "sleep", "0.1", NULL } },
		{ .name = "slower", .argv = { "sleep", "0.5", NULL } },
		{ .name = "fails", .argv = { "sh", "-c", "exit 3", NULL } },
		{ .name = "hangs", .argv = { "sleep", "60", NULL } },
		{ .name = "missing", .argv = { "tether-example-no-such-command", NULL } },
	};
	const size_t njobs = sizeof(jobs) / sizeof(jobs[0]);
	struct tether_spawn_attr *attr;
	struct itimerspec deadline = { .it_value = { .tv_sec = DEADLINE_S } };
	int epfd = epoll_create1(EPOLL_CLOEXEC), tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	size_t running = 0;
	int r;

	if (epfd < 0 || tfd < 0) {
		perror("epoll/timerfd");
		return 1;
	}
	/* Autoreap: nothing is left behind whatever happens to us; autokill + nnp: neither are they. */
	tether_spawn_attr_init(&attr);
	tether_spawn_attr_set_flags(attr, CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL);
	for (size_t i = 0; i < njobs; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &jobs[i] };

		r = tether_spawnp(&jobs[i].child, jobs[i].argv[0], NULL, attr, jobs[i].argv, NULL);
		if (r < 0) {
			printf("%-8s could not start: %s\n", jobs[i].name, strerror(-r));
			continue;
		}
		epoll_ctl(epfd, EPOLL_CTL_ADD, tether_child_pidfd(jobs[i].child), &ev);
		running++;
	}
	tether_spawn_attr_destroy(attr);
	struct epoll_event tev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &tev);
	timerfd_settime(tfd, 0, &deadline, NULL);

	while (running > 0) {
		struct epoll_event evs[8];
		int n = epoll_wait(epfd, evs, 8, -1);

		if (n < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < n; i++) {
			struct job *job = evs[i].data.ptr;
			struct tether_exit_info info;

			if (!job) { /* the deadline: stop whatever still runs */
				for (size_t k = 0; k < njobs; k++)
					if (jobs[k].child && tether_child_kill(jobs[k].child, SIGTERM) == 0)
						printf("%-8s still running after %d s: SIGTERM\n", jobs[k].name, DEADLINE_S);
				uint64_t ticks;
				(void)!read(tfd, &ticks, sizeof(ticks));
				continue;
			}
			if (tether_child_wait(job->child, 0, &info) < 0)
				continue;
			if (info.exited)
				printf("%-8s exited with %d\n", job->name, info.exit_code);
			else
				printf("%-8s killed by signal %d\n", job->name, info.signal);
			epoll_ctl(epfd, EPOLL_CTL_DEL, tether_child_pidfd(job->child), NULL);
			tether_child_release(job->child);
			job->child = NULL;
			running--;
		}
	}
	close(tfd);
	close(epfd);
	return 0;
}

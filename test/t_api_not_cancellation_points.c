/* SPDX-License-Identifier: MIT */
/*
 * No public call is a cancellation point: a thread cancelled inside one would
 * leave an internal lock held for good, or a half-made child. Each call runs
 * in a thread that has a cancellation request pending (deferred: it acts at
 * the first cancellation point); the call must complete, and the request
 * act only after it, at the test's own pthread_testcancel().
 */
#include <pthread.h>

#include "harness.h"

enum op { OP_CLONE3, OP_GET_INFO, OP_PIDFD_CLOSE, OP_SPAWN, OP_WAIT, OP_RELEASE, OP_COUNT };
static const char *op_name[] = { "tether_clone3", "tether_pidfd_get_info", "tether_pidfd_close",
				 "tether_spawn", "tether_child_wait", "tether_child_release" };

static volatile int completed;
static int pidfd = -1;
static struct tether_child *child;

static void *run(void *arg)
{
	enum op op = (enum op)(intptr_t)arg;
	struct tether_pidfd_info pi = { .mask = TETHER_PIDFD_INFO_EXIT };
	char *argv[] = { "t", "--exit", "0", NULL };
	struct tether_spawn_attr *attr = NULL;
	struct tether_exit_info ei;
	pid_t pid;

	pthread_cancel(pthread_self()); /* pending from now on */
	switch (op) {
	case OP_CLONE3:
		pid = t_clone(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD, 0, &pidfd);
		if (pid == 0)
			_exit(5);
		break;
	case OP_GET_INFO:
		tether_pidfd_get_info(pidfd, &pi, sizeof(pi));
		break;
	case OP_PIDFD_CLOSE:
		tether_pidfd_close(pidfd);
		break;
	case OP_SPAWN:
		tether_spawn_attr_init(&attr);
		tether_spawn_attr_set_flags(attr, t_native_without(CLONE_AUTOREAP) ? 0 : CLONE_AUTOREAP);
		tether_spawn(&child, "/proc/self/exe", NULL, attr, argv, NULL);
		tether_spawn_attr_destroy(attr);
		break;
	case OP_WAIT:
		tether_child_wait(child, -1, &ei);
		break;
	case OP_RELEASE:
		tether_child_release(child);
		break;
	default:
		break;
	}
	completed = 1;
	pthread_testcancel();
	return NULL; /* not reached */
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--sleep") == 0) {
		sleep(60);
		return 0;
	}

	t_require_flags(CLONE_AUTOREAP | CLONE_NNP);
	tether_features();
	for (int op = 0; op < OP_COUNT; op++) {
		pthread_t t;
		void *ret;

		completed = 0;
		T_ASSERT(pthread_create(&t, NULL, run, (void *)(intptr_t)op) == 0, "pthread_create");
		pthread_join(t, &ret);
		T_ASSERT(ret == PTHREAD_CANCELED, "%s: the thread was not cancelled at all", op_name[op]);
		T_ASSERT(completed, "%s was cancelled inside the call", op_name[op]);
		if (op == OP_CLONE3) {
			T_ASSERT(pidfd >= 0, "tether_clone3 failed: %s", strerror(errno));
			T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "the child did not exit");
		}
		if (op == OP_SPAWN)
			T_ASSERT(child, "tether_spawn failed");
		t_info("%s: completed; cancelled after it", op_name[op]);
	}
	/* Nothing was left locked: the same calls work from this thread. */
	int fd = -1;
	pid_t pid = t_clone(CLONE_AUTOREAP | CLONE_PIDFD, 0, &fd);
	if (pid == 0)
		_exit(6);
	T_ASSERT(pid > 0 && t_pidfd_wait_readable(fd, 10000), "a later tether_clone3");
	int st = t_pidfd_exit_status(fd);
	T_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 6, "status %d", st);
	tether_pidfd_close(fd);
	t_pass("no public call acted on a pending cancellation (%s backend)", t_backend_word(CLONE_AUTOREAP));
}

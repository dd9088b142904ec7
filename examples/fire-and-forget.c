/* SPDX-License-Identifier: MIT */
/*
 * Start commands and forget them: CLONE_AUTOREAP children reap themselves,
 * so dropping their handles at once leaves no zombie, and nobody has to
 * wait or handle SIGCHLD.
 *
 *   fire-and-forget [COUNT [COMMAND [ARG]...]]    (default: 5 true)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tether.h>

int main(int argc, char **argv)
{
	char *default_cmd[] = { "true", NULL };
	int count = argc > 1 ? atoi(argv[1]) : 5;
	char **cmd = argc > 2 ? argv + 2 : default_cmd;
	struct tether_spawn_attr *attr;
	pid_t last = 0;
	int r;

	if ((r = tether_spawn_attr_init(&attr)) < 0 || (r = tether_spawn_attr_set_flags(attr, CLONE_AUTOREAP)) < 0) {
		fprintf(stderr, "setting up: %s\n", strerror(-r));
		return 1;
	}
	for (int i = 0; i < count; i++) {
		struct tether_child *child;

		r = tether_spawnp(&child, cmd[0], NULL, attr, cmd, NULL);
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", cmd[0], strerror(-r));
			return 1;
		}
		last = tether_child_pid(child);
		if (i == 0)
			printf("autoreap served by the %s backend\n", tether_backend_name(tether_child_backend(child)));
		tether_child_release(child); /* forgotten: it runs on and reaps itself */
	}
	tether_spawn_attr_destroy(attr);
	printf("started %d x %s and dropped every handle\n", count, cmd[0]);

	/* Nothing to wait for: waitpid() has no child to report. (Under the emulation a
	 * child that has just exited may be visible for a moment; see tether(7).) */
	nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
	if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
		printf("waitpid(-1): no children left to wait for, no zombies (last pid was %d)\n", (int)last);
	else
		printf("waitpid(-1): some child is still running (long-running command?)\n");
	return 0;
}

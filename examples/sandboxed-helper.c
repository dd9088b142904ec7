/* SPDX-License-Identifier: MIT */
/*
 * Run a helper program that can never gain privileges (no_new_privs) and
 * can never outlive us (autokill: if this process dies, even by SIGKILL,
 * the helper is killed), read what it prints, and say how it ended.
 *
 *   sandboxed-helper [COMMAND [ARG]...]     (default: sh -c 'grep NoNewPrivs /proc/self/status')
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <tether.h>

int main(int argc, char **argv)
{
	const __u64 flags = CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL;
	char *default_argv[] = { "sh", "-c", "grep NoNewPrivs /proc/self/status", NULL };
	char **cmd = argc > 1 ? argv + 1 : default_argv;
	struct tether_spawn_attr *attr = NULL;
	struct tether_file_actions *actions = NULL;
	struct tether_child *helper;
	struct tether_exit_info info;
	char buf[4096];
	ssize_t n;
	int out[2], r;

	if (pipe2(out, O_CLOEXEC) < 0) {
		perror("pipe2");
		return 1;
	}
	/* The helper's stdout goes to the pipe; nothing else of ours but stdin/stderr reaches it. */
	if ((r = tether_spawn_attr_init(&attr)) < 0 || (r = tether_spawn_attr_set_flags(attr, flags)) < 0 ||
	    (r = tether_file_actions_init(&actions)) < 0 ||
	    (r = tether_file_actions_add_dup2(actions, out[1], STDOUT_FILENO)) < 0 ||
	    (r = tether_file_actions_add_close_all_but(actions, NULL, 0)) < 0) {
		fprintf(stderr, "setting up: %s\n", strerror(-r));
		return 1;
	}
	r = tether_spawnp(&helper, cmd[0], actions, attr, cmd, NULL);
	tether_file_actions_destroy(actions);
	tether_spawn_attr_destroy(attr);
	close(out[1]);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", cmd[0], strerror(-r));
		return r == -ENOENT ? 127 : 126;
	}
	printf("helper %d started (lifecycle flags by the %s backend)\n", (int)tether_child_pid(helper),
	       tether_backend_name(tether_child_backend(helper)));

	while ((n = read(out[0], buf, sizeof(buf))) > 0)
		printf("helper said: %.*s", (int)n, buf);
	close(out[0]);

	r = tether_child_wait(helper, -1, &info);
	if (r < 0)
		fprintf(stderr, "waiting: %s\n", strerror(-r));
	else if (info.exited)
		printf("helper exited with %d\n", info.exit_code);
	else
		printf("helper was killed by signal %d%s\n", info.signal, info.core_dumped ? " (core dumped)" : "");
	/* Dropping the handle would kill the helper if it still ran. */
	tether_child_release(helper);
	return r < 0 ? 1 : 0;
}

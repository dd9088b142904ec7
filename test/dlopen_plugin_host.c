/* SPDX-License-Identifier: MIT */
/*
 * A plugin host's use of tether (t_lib_dlclose_keeps_children): the library
 * loaded with dlopen(), a program spawned with CLONE_AUTOREAP, the library
 * unloaded with dlclose() while the program and its monitor live.
 *
 *   dlopen_plugin_host LIBRARY released  the handle released first (the reaper
 *                                     thread collects the monitor), then
 *                                     dlclose(); the program ends 300 ms later
 *   dlopen_plugin_host LIBRARY kept      the handle kept, dlclose(); the program
 *                                     is stopped and continued (which wakes
 *                                     its monitor) and must go on
 *   dlopen_plugin_host --sleep MS        the program: sleep MS, exit 7
 *
 * Exit 0 when the host survived and the program lived as long as it should;
 * 2 and a line on stderr otherwise. Dynamically linked: it cannot run where
 * there is no dynamic loader (the test VMs).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tether.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int fail(const char *what)
{
	fprintf(stderr, "dlopen_plugin_host: %s\n", what);
	return 2;
}

static bool alive(pid_t pid)
{
	return pid > 1 && kill(pid, 0) == 0;
}

int main(int argc, char **argv)
{
	int (*attr_init)(struct tether_spawn_attr **);
	int (*attr_set_flags)(struct tether_spawn_attr *, __u64);
	void (*attr_destroy)(struct tether_spawn_attr *);
	int (*spawn)(struct tether_child **, const char *, const struct tether_file_actions *,
		     const struct tether_spawn_attr *, char *const[], char *const[]);
	pid_t (*child_pid)(const struct tether_child *);
	void (*release)(struct tether_child *);
	struct tether_spawn_attr *attr;
	struct tether_child *child;
	bool kept;
	void *lib;
	pid_t pid;

	if (argc == 3 && strcmp(argv[1], "--sleep") == 0) {
		sleep_ms(atol(argv[2]));
		return 7;
	}
	if (argc != 3 || (strcmp(argv[2], "released") != 0 && strcmp(argv[2], "kept") != 0))
		return fail("usage: dlopen_plugin_host LIBRARY released|kept");
	kept = strcmp(argv[2], "kept") == 0;
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return fail(dlerror());
	attr_init = (int (*)(struct tether_spawn_attr **))dlsym(lib, "tether_spawn_attr_init");
	attr_set_flags = (int (*)(struct tether_spawn_attr *, __u64))dlsym(lib, "tether_spawn_attr_set_flags");
	attr_destroy = (void (*)(struct tether_spawn_attr *))dlsym(lib, "tether_spawn_attr_destroy");
	spawn = (int (*)(struct tether_child **, const char *, const struct tether_file_actions *,
			 const struct tether_spawn_attr *, char *const[], char *const[]))dlsym(lib, "tether_spawn");
	child_pid = (pid_t(*)(const struct tether_child *))dlsym(lib, "tether_child_pid");
	release = (void (*)(struct tether_child *))dlsym(lib, "tether_child_release");
	if (!attr_init || !attr_set_flags || !attr_destroy || !spawn || !child_pid || !release)
		return fail("a symbol is missing");
	{
		char *v[] = { (char *)"dlopen_plugin_host", (char *)"--sleep", (char *)(kept ? "1500" : "300"), NULL };
		if (attr_init(&attr) < 0 || attr_set_flags(attr, CLONE_AUTOREAP) < 0 ||
		    spawn(&child, "/proc/self/exe", NULL, attr, v, NULL) < 0)
			return fail("spawning failed");
		attr_destroy(attr);
	}
	pid = child_pid(child);
	if (!kept)
		release(child); /* its monitor is now the reaper thread's to collect */
	if (dlclose(lib) != 0)
		return fail(dlerror());
	if (!kept) {
		sleep_ms(1000); /* the program ends at 300 ms; the reaper thread reaps its monitor */
		return alive(pid) ? fail("the program outlived its time") : 0;
	}
	/* A stop wakes the program's monitor (its SIGCHLD): it must still run. */
	if (pid <= 1)
		return fail("no pid for the program");
	kill(pid, SIGSTOP);
	sleep_ms(200);
	kill(pid, SIGCONT);
	sleep_ms(200);
	if (!alive(pid))
		return fail("the program died when its monitor woke after dlclose()");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Every getter answers NULL with a value that no valid handle ever gives
 * (include/tether.h): a caller can tell the error from a real answer.
 */
#include "harness.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--sleep") == 0) {
		sleep(60);
		return 0;
	}

	struct tether_spawn_attr *attr = NULL;
	struct tether_child *child = NULL;
	char *args[] = { "t", "--exit", "0", NULL };

	T_ASSERT(tether_child_pidfd(NULL) == -EINVAL, "tether_child_pidfd(NULL) = %d", tether_child_pidfd(NULL));
	T_ASSERT(tether_child_pid(NULL) == -EINVAL, "tether_child_pid(NULL) = %d", (int)tether_child_pid(NULL));
	T_ASSERT(tether_child_backend(NULL) == TETHER_BACKEND_AUTO, "tether_child_backend(NULL) = %d (%s)",
		 tether_child_backend(NULL), tether_backend_name(tether_child_backend(NULL)));
	T_ASSERT(tether_child_autokill_fd(NULL) == -EINVAL, "tether_child_autokill_fd(NULL)");
	T_ASSERT(tether_backend_name((enum tether_backend)99) == NULL || tether_backend_name((enum tether_backend)99)[0],
		 "tether_backend_name(99)");
	T_ASSERT(tether_feature_name(1u << 31) == NULL, "tether_feature_name of an unknown bit");

	/* The real answers are never those. */
	tether_spawn_attr_init(&attr);
	T_ASSERT(tether_spawn(&child, "/proc/self/exe", NULL, attr, args, NULL) == 0, "tether_spawn");
	T_ASSERT(tether_child_pidfd(child) >= 0 && tether_child_pid(child) > 0, "pidfd/pid");
	T_ASSERT(tether_child_backend(child) == TETHER_BACKEND_NATIVE ||
			 tether_child_backend(child) == TETHER_BACKEND_EMULATE,
		 "tether_child_backend = %d", tether_child_backend(child));
	tether_child_wait(child, -1, NULL);
	tether_child_release(child);
	tether_spawn_attr_destroy(attr);
	t_pass("getters: NULL gets -EINVAL or TETHER_BACKEND_AUTO, never a real answer");
}

/* SPDX-License-Identifier: MIT */
/*
 * tether_autokill_fd() as documented: the descriptor it returns belongs to
 * the library until tether_pidfd_close(pidfd), so it stays open (the same
 * file, not a reused number) after the child has exited and been reaped;
 * and it is -ENOENT for anything that is not an autokill pidfd of this
 * process (stdout, a pidfd from pidfd_open(), a closed number), natively
 * as well as in emulation.
 */
#include <sys/stat.h>

#include "harness.h"

static bool same_file(int fd, const struct stat *want)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

int main(void)
{
	struct t_gate g;
	struct stat before;
	int pidfd = -1, afd, d, other;

	t_require_flags(T_AUTOKILL_FLAGS);
	T_ASSERT(tether_autokill_fd(1) == -ENOENT, "tether_autokill_fd(1) = %d, expected -ENOENT", tether_autokill_fd(1));
	other = t_pidfd_open(getpid());
	T_ASSERT(other >= 0, "pidfd_open");
	T_ASSERT(tether_autokill_fd(other) == -ENOENT, "a pidfd_open() pidfd: %d, expected -ENOENT",
		 tether_autokill_fd(other));

	t_gate_open(&g);
	pid_t pid = t_clone_gated(T_AUTOKILL_FLAGS, 0, &pidfd, &g, 7);
	T_ASSERT(pid > 0, "tether_clone3: %s", strerror(errno));
	close(g.rd);
	afd = tether_autokill_fd(pidfd);
	T_ASSERT(afd >= 0, "tether_autokill_fd: %d", afd);
	T_ASSERT(fstat(afd, &before) == 0, "fstat");
	t_gate_release(&g);
	T_ASSERT(t_pidfd_wait_readable(pidfd, 10000), "the child did not exit");
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "the child was not reaped");
	usleep(200 * 1000); /* let the reaper (emulation) finish with it */
	/* Open a few descriptors: a number closed under us would be reused now. */
	int fillers[8];
	for (int i = 0; i < 8; i++)
		fillers[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	T_ASSERT(same_file(afd, &before), "the autokill fd %d was closed (or reused) after the child's exit", afd);
	T_ASSERT(tether_autokill_fd(pidfd) == afd, "tether_autokill_fd changed after the exit: %d",
		 tether_autokill_fd(pidfd));
	d = dup(afd);
	T_ASSERT(d >= 0 && same_file(d, &before), "dup of the autokill fd after the exit: %s", strerror(errno));
	close(d);
	int st = t_pidfd_exit_status(pidfd);
	T_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7, "status %d", st);
	T_ASSERT(tether_pidfd_close(pidfd) == 0, "tether_pidfd_close");
	for (int i = 0; i < 8; i++)
		close(fillers[i]);
	T_ASSERT(tether_autokill_fd(pidfd) == -ENOENT, "after tether_pidfd_close: %d", tether_autokill_fd(pidfd));
	close(other);
	t_pass("the autokill fd lives until tether_pidfd_close(); -ENOENT for what is not one (%s backend)",
	       t_backend_word(T_AUTOKILL_FLAGS));
}

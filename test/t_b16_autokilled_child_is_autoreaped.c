/* SPDX-License-Identifier: MIT */
/* B16: the killed child is autoreaped: no zombie, nothing to wait for, exit info says SIGKILL. */
#include "harness.h"

int main(void)
{
	int pidfd, watch, status;

	t_require_flags(T_AUTOKILL_FLAGS);
	t_count_sigchld();
	pid_t pid = t_autokill_sleeper(0, &pidfd, &watch);
	int file = tether_autokill_fd(pidfd);
	T_ASSERT(file >= 0, "tether_autokill_fd");
	/* Keep a second reference to read the exit info after the kill. */
	int info_fd = t_pidfd_open(pid);
	tether_pidfd_close(pidfd);
	T_ASSERT(t_dies(watch, 10000), "not killed");
	T_ASSERT(t_wait_pid_reaped(pid, 10000), "killed child left a zombie (state %c)", t_proc_state(pid));
	T_ASSERT(waitpid(pid, &status, WNOHANG | __WALL) < 0 && errno == ECHILD, "killed child still waitable");
	T_ASSERT(t_sigchld_count == 0, "SIGCHLD delivered");
	struct tether_pidfd_info info = { .mask = TETHER_PIDFD_INFO_EXIT };
	if (tether_pidfd_get_info(info_fd, &info, sizeof(info)) == 0 && (info.mask & TETHER_PIDFD_INFO_EXIT)) {
		T_ASSERT(WIFSIGNALED(info.exit_code) && WTERMSIG(info.exit_code) == SIGKILL, "exit_code %#x",
			 info.exit_code);
		t_info("exit info: killed by SIGKILL");
	}
	close(info_fd);
	close(watch);
	t_pass("autokilled child was reaped, no SIGCHLD (%s backend)", t_backend_word(T_AUTOKILL_FLAGS));
}

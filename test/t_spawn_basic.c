/* SPDX-License-Identifier: MIT */
/*
 * tether_spawn()/tether_spawnp(): the program runs with the argv and envp
 * given, the handle reports its exit code or signal, waits time out, kills
 * go through the pidfd, and a child that ended unwaited leaves no zombie
 * once its handle is released.
 */
#include "spawn_common.h"

int main(int argc, char **argv)
{
	struct tether_child *c;
	struct tether_exit_info info;
	char out[4096];
	char *envp[] = { (char *)"TS_VAR=hello world", NULL };
	int r;

	ts_child_dispatch(argc, argv);

	/* exit code */
	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "exit", "7", NULL) == 0, "spawn");
	T_ASSERT(tether_child_pid(c) > 0 && tether_child_pidfd(c) >= 0, "pid and pidfd");
	T_ASSERT(tether_child_backend(c) == TETHER_BACKEND_NATIVE, "no lifecycle flag: the kernel does it all");
	info = ts_wait(c, "exit 7");
	T_ASSERT(info.exited && info.exit_code == 7 && !info.signaled, "exit 7: got status %#x", info.status);
	T_ASSERT(WIFEXITED(info.status) && WEXITSTATUS(info.status) == 7, "status %#x", info.status);
	/* a second wait gives the same */
	T_ASSERT(tether_child_wait(c, 0, &info) == 0 && info.exit_code == 7, "second wait");
	T_ASSERT(waitpid(tether_child_pid(c), NULL, WNOHANG) < 0 && errno == ECHILD, "reaped by the wait");
	tether_child_release(c);
	t_info("exit code 7 reported");

	/* signal */
	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "raise", "15", NULL) == 0, "spawn");
	info = ts_wait(c, "raise 15");
	T_ASSERT(info.signaled && info.signal == SIGTERM && !info.exited, "SIGTERM: status %#x", info.status);
	tether_child_release(c);
	t_info("death by SIGTERM reported");

	/* argv and envp, with tether_spawnp() and a path */
	{
		struct tether_file_actions *fa;
		int p[2];
		char *v[] = { (char *)TS_SELF, (char *)"child", (char *)"argv", (char *)"a b", (char *)"", (char *)"c", NULL };

		T_ASSERT(pipe2(p, O_CLOEXEC) == 0, "pipe");
		T_ASSERT(tether_file_actions_init(&fa) == 0, "fa");
		T_ASSERT(tether_file_actions_add_dup2(fa, p[1], 1) == 0, "dup2");
		r = tether_spawnp(&c, TS_SELF, fa, NULL, v, envp);
		T_ASSERT(r == 0, "tether_spawnp: %s", strerror(-r));
		close(p[1]);
		ts_read_all(p[0], out, sizeof(out));
		close(p[0]);
		info = ts_wait(c, "argv");
		tether_child_release(c);
		tether_file_actions_destroy(fa);
		T_ASSERT(info.exited && info.exit_code == 0, "argv child failed");
		T_ASSERT(strcmp(out, "a b\n\nc\nTS_VAR=hello world\n") == 0, "argv/envp: got '%s'", out);
		t_info("argv and envp passed exactly");
	}

	/* envp NULL: the caller's environ */
	setenv("TS_VAR", "inherited", 1);
	T_ASSERT(ts_run_capture(NULL, NULL, out, sizeof(out), &info, "argv", NULL) == 0, "spawn");
	T_ASSERT(strcmp(out, "TS_VAR=inherited\n") == 0, "environ: got '%s'", out);
	t_info("envp NULL passes environ");

	/* timeout, kill, wait */
	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "sleep", NULL) == 0, "spawn");
	T_ASSERT(tether_child_wait(c, 0, &info) == -ETIMEDOUT, "wait(0) on a running child");
	long long t0 = t_now_ms();
	T_ASSERT(tether_child_wait(c, 100, &info) == -ETIMEDOUT, "wait(100) on a running child");
	T_ASSERT(t_now_ms() - t0 >= 90, "wait(100) returned early");
	T_ASSERT(tether_child_kill(c, SIGKILL) == 0, "kill");
	info = ts_wait(c, "killed");
	T_ASSERT(info.signaled && info.signal == SIGKILL, "SIGKILL: status %#x", info.status);
	T_ASSERT(tether_child_kill(c, SIGKILL) == -ESRCH, "kill after the end: ESRCH");
	tether_child_release(c);
	t_info("wait timeout, kill through the pidfd, ESRCH afterwards");

	/* ended, never waited, released: no zombie */
	T_ASSERT(ts_spawn_self(&c, NULL, NULL, "exit", "0", NULL) == 0, "spawn");
	pid_t pid = tether_child_pid(c);
	int watch = t_pidfd_open(pid);
	T_ASSERT(watch >= 0, "pidfd_open");
	T_ASSERT(t_pidfd_wait_readable(watch, 10000), "child did not end");
	close(watch);
	tether_child_release(c);
	T_ASSERT(t_proc_state(pid) == 0, "zombie left after release (state %c)", t_proc_state(pid));
	t_info("release reaps an ended child");

	/* bad arguments */
	char *v0[] = { (char *)"x", NULL };
	T_ASSERT(tether_spawn(NULL, TS_SELF, NULL, NULL, v0, NULL) == -EINVAL, "NULL child");
	T_ASSERT(tether_spawn(&c, NULL, NULL, NULL, v0, NULL) == -EINVAL, "NULL path");
	T_ASSERT(tether_spawn(&c, TS_SELF, NULL, NULL, NULL, NULL) == -EINVAL, "NULL argv");
	T_ASSERT(tether_spawnx(&c, TS_SELF, 0x100, NULL, NULL, v0, NULL, NULL) == -EINVAL, "bad option");
	ts_assert_no_children("end");
	t_pass("spawn, exit info, signals, wait timeouts, kill and release");
}

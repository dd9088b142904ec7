/* SPDX-License-Identifier: MIT */
/*
 * tether run on a real pseudo-terminal, driven by a small job-control
 * "shell" written here (the test VMs have no shell): the job in its own
 * process group in the terminal's foreground, waited for with WUNTRACED,
 * continued with tcsetpgrp() and SIGCONT as a shell's fg does. Each
 * scenario runs with the command as the job and with "tether run -- command"
 * as the job, and the two must end the same way:
 *   ctrl-c     ^C on the terminal: the job dies of SIGINT
 *   ctrl-z-fg  ^Z stops the job and the command; fg continues both; ^C ends it
 *   winch      a window resize reaches the command, which sees the new size
 *   read-tty   the command reads a line typed on the terminal
 *   group-term kill -TERM -PGID of the job: the command sees one SIGTERM
 *   hangup     the job leads the session (a shell's exec); the terminal
 *              closes: the command gets one SIGHUP and the job dies of it
 *   read-tty-ttin-ignored  read-tty where the job starts with SIGTTIN and
 *              SIGTTOU ignored (a tmux pane's command): the kernel cannot
 *              stop a background reader then, it returns EIO
 * t_cli_shell_pty does the same with bash and more, on the host.
 *
 * Child modes besides spawn_common.h's:
 *   count-term      print ready; count SIGTERMs; 1.5 s after the last print terms=N, exit 0
 *   winch           print winch-ready, wait for SIGWINCH, print size=ROWSxCOLS
 *   read-line       print read-ready, read a line from stdin, print got:LINE
 *   hup-note FILE   write "started PID" to FILE; on SIGHUP append "hup" and die by it
 */
#include "cli_common.h"

#include <pty.h>
#include <termios.h>

static void child_modes(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "child") != 0)
		return;
	tc_shared_child_modes(argc, argv, "ready");
	if (strcmp(argv[2], "read-line") == 0) {
		char line[128];
		printf("read-ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			exit(1);
		line[strcspn(line, "\r\n")] = '\0';
		printf("got:%s\n", line);
		exit(0);
	}
	if (strcmp(argv[2], "hup-note") == 0 && argc > 3) {
		char line[64];
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
		sigset_t hup;
		if (fd < 0)
			exit(2);
		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		sigprocmask(SIG_BLOCK, &hup, NULL);
		snprintf(line, sizeof(line), "started %d\n", (int)getpid());
		if (write(fd, line, strlen(line)) < 0)
			exit(2);
		for (int sig = 0; sigwait(&hup, &sig) == 0;) {
			if (write(fd, "hup\n", 4) < 0)
				exit(2);
			signal(SIGHUP, SIG_DFL);
			raise(SIGHUP);
			sigprocmask(SIG_UNBLOCK, &hup, NULL);
		}
		exit(3);
	}
}

static char self[4096];
static bool with_autokill; /* tether run --autokill --nnp, as people use it, where the backend has it */

/* argv of the job: "SELF child MODE [ARG]" or "SELF cli run [--autokill --nnp] -- SELF child MODE [ARG]". */
static void job_argv(char **v, bool tethered, const char *mode, const char *arg)
{
	int n = 0;

	v[n++] = self;
	if (tethered) {
		v[n++] = (char *)"cli";
		v[n++] = (char *)"run";
		if (with_autokill) {
			v[n++] = (char *)"--autokill";
			v[n++] = (char *)"--nnp";
		}
		v[n++] = (char *)"--";
		v[n++] = self;
	}
	v[n++] = (char *)"child";
	v[n++] = (char *)mode;
	if (arg)
		v[n++] = (char *)arg;
	v[n] = NULL;
}

/* ---- the terminal side ---- */

struct term {
	int master;
	char buf[16384];
	size_t len;
};

/* Read the terminal until needle shows up (searching from *from on); bounded. */
static bool term_wait_for(struct term *t, const char *needle, int timeout_ms)
{
	long long end = t_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { t->master, POLLIN, 0 };
		long long left = end - t_now_ms();
		ssize_t n;

		t->buf[t->len] = '\0';
		if (strstr(t->buf, needle))
			return true;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		n = read(t->master, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
		if (n <= 0)
			return false; /* EIO: no process has the terminal open any more */
		t->len += (size_t)n;
	}
}

static void term_type(struct term *t, const char *s)
{
	T_ASSERT(write(t->master, s, strlen(s)) == (ssize_t)strlen(s), "typing");
}

/* ---- the job-control shell (a child process of the test) ---- */

/*
 * The shell reports job events on evt ("stopped N", "exited N", "signaled N")
 * and takes commands on cmd: 'f' fg, 't' kill -TERM -PGID.
 */
/* The next job keeps SIGTTIN and SIGTTOU ignored, as the shell has them. */
static bool job_ignores_ttin;

static void mini_shell(int slave, char **argv, int evt, int cmd)
{
	sigset_t ttou;
	pid_t job;
	char line[64];

	setsid();
	T_ASSERT(ioctl(slave, TIOCSCTTY, 0) == 0, "TIOCSCTTY");
	/* A shell ignores the job-control signals; its jobs get them back at exec. */
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	sigemptyset(&ttou);
	job = fork();
	if (job == 0) {
		setpgid(0, 0);
		tcsetpgrp(slave, getpid());
		if (!job_ignores_ttin) {
			signal(SIGTTOU, SIG_DFL);
			signal(SIGTTIN, SIG_DFL);
		}
		signal(SIGTSTP, SIG_DFL);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(job, job);
	tcsetpgrp(slave, job);
	tc_own_group(job);
	snprintf(line, sizeof(line), "job %d\n", (int)job);
	if (write(evt, line, strlen(line)) < 0)
		_exit(1);
	fcntl(cmd, F_SETFL, O_NONBLOCK);
	for (;;) {
		int status;
		char c;
		pid_t r = waitpid(job, &status, WUNTRACED | WNOHANG);

		if (r == job) {
			if (WIFSTOPPED(status)) {
				tcsetpgrp(slave, getpgrp()); /* the shell takes the terminal back */
				snprintf(line, sizeof(line), "stopped %d\n", WSTOPSIG(status));
			} else if (WIFSIGNALED(status)) {
				snprintf(line, sizeof(line), "signaled %d\n", WTERMSIG(status));
			} else {
				snprintf(line, sizeof(line), "exited %d\n", WEXITSTATUS(status));
			}
			if (write(evt, line, strlen(line)) < 0)
				_exit(1);
			if (!WIFSTOPPED(status))
				_exit(0);
		}
		if (read(cmd, &c, 1) == 1) {
			if (c == 'f') {
				tcsetpgrp(slave, job);
				tc_signal_group(job, SIGCONT);
			} else if (c == 't') {
				tc_signal_group(job, SIGTERM);
			}
		}
		usleep(20000);
	}
}

struct session {
	struct term t;
	pid_t shell, job;
	int evt, cmd;
};

static void session_event(struct session *s, char *out, size_t len);

static void session_start(struct session *s, char **argv, bool direct)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	int slave, e[2], c[2];

	memset(s, 0, sizeof(*s));
	T_ASSERT(openpty(&s->t.master, &slave, NULL, NULL, &ws) == 0, "openpty: %s", strerror(errno));
	fcntl(s->t.master, F_SETFD, FD_CLOEXEC);
	T_ASSERT(pipe2(e, O_CLOEXEC) == 0 && pipe2(c, O_CLOEXEC) == 0, "pipes");
	fflush(stdout);
	s->shell = fork();
	T_ASSERT(s->shell >= 0, "fork");
	if (s->shell == 0) {
		close(s->t.master);
		if (direct) {
			/* The session leader runs the job itself, as after a shell's exec. */
			setsid();
			ioctl(slave, TIOCSCTTY, 0);
			dup2(slave, 0);
			dup2(slave, 1);
			dup2(slave, 2);
			execv(argv[0], argv);
			_exit(127);
		}
		mini_shell(slave, argv, e[1], c[0]);
		_exit(1);
	}
	close(slave);
	close(e[1]);
	close(c[0]);
	s->evt = e[0];
	s->cmd = c[1];
	if (!direct) {
		char ev[64];
		session_event(s, ev, sizeof(ev));
		s->job = strncmp(ev, "job ", 4) == 0 ? (pid_t)atoi(ev + 4) : 0;
		T_ASSERT(s->job > 1, "the shell did not start its job: '%s'", ev);
		tc_own_group(s->job);
	}
}

/* The next job event from the shell ("stopped 20", "signaled 2", ...); bounded. */
static void session_event(struct session *s, char *out, size_t len)
{
	struct pollfd p = { s->evt, POLLIN, 0 };
	size_t off = 0;

	out[0] = '\0';
	while (off < len - 1) {
		char c;
		if (poll(&p, 1, 20000) <= 0 || read(s->evt, &c, 1) != 1)
			break;
		if (c == '\n')
			break;
		out[off++] = c;
	}
	out[off] = '\0';
}

/* SIGKILL every process of the terminal's session (led by sid, which this test made), through pidfds. */
static void kill_session(pid_t sid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[64], buf[512], *p;
		pid_t pid = (pid_t)atoi(e->d_name);
		int fd, watch;
		ssize_t n;

		if (pid <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* pid (comm) state ppid pgrp session ... */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 2, "%*c %*d %*d %d", &fd) != 1 || fd != sid)
			continue;
		watch = t_pidfd_open(pid);
		if (watch >= 0) {
			t_pidfd_send_signal(watch, SIGKILL);
			close(watch);
		}
	}
	if (d)
		closedir(d);
}

static void session_end(struct session *s)
{
	int status, watch = t_pidfd_open(s->shell);

	/* The shell ends once its job has ended. A job that hangs (stopped, or
	 * never got its signal) fails the test instead of hanging it. */
	if (watch >= 0 && !t_pidfd_wait_readable(watch, 20000)) {
		/* Everything of the session: the job, and a command in a group of its own. */
		kill_session(s->shell);
		waitpid(s->shell, &status, 0);
		t_fail("the job did not end (output: %s)", s->t.buf);
	}
	if (watch >= 0)
		close(watch);
	/* The test is the shell's parent. */
	T_ASSERT(waitpid(s->shell, &status, 0) == s->shell, "waitpid shell");
	close(s->t.master);
	close(s->evt);
	close(s->cmd);
}

static void session_send(struct session *s, char c)
{
	T_ASSERT(write(s->cmd, &c, 1) == 1, "shell command");
}

/* State letter of pid in /proc, waiting (bounded) until it is, or is not, 'T'. */
static bool wait_state(pid_t pid, bool stopped)
{
	for (int i = 0; i < 200; i++) {
		char st = t_proc_state(pid);
		if ((st == 'T') == stopped)
			return true;
		usleep(25000);
	}
	return false;
}

/* ---- scenarios: each returns its outcome as a line ---- */

static void sc_ctrl_c(bool tethered, char *out, size_t len)
{
	struct session s;
	char *v[12], ev[64];

	job_argv(v, tethered, "pid-sleep", NULL);
	session_start(&s, v, false);
	T_ASSERT(term_wait_for(&s.t, "\n", 20000), "the command did not start");
	term_type(&s.t, "\x03");
	session_event(&s, ev, sizeof(ev));
	session_end(&s);
	snprintf(out, len, "%s", ev);
}

static void sc_ctrl_z_fg(bool tethered, char *out, size_t len)
{
	struct session s;
	char *v[12], ev1[64], ev2[64];
	bool cmd_stopped, cmd_resumed;
	pid_t cmd;

	job_argv(v, tethered, "pid-sleep", NULL);
	session_start(&s, v, false);
	T_ASSERT(term_wait_for(&s.t, "\n", 20000), "the command did not start");
	cmd = (pid_t)atoi(s.t.buf);
	T_ASSERT(cmd > 1, "pid '%s'", s.t.buf);
	term_type(&s.t, "\x1a");
	session_event(&s, ev1, sizeof(ev1));
	cmd_stopped = wait_state(cmd, true);
	session_send(&s, 'f');
	cmd_resumed = wait_state(cmd, false);
	usleep(200000); /* fg: the terminal is the job's again before ^C */
	term_type(&s.t, "\x03");
	session_event(&s, ev2, sizeof(ev2));
	session_end(&s);
	snprintf(out, len, "%s; command stopped: %d; fg resumed it: %d; then %s", ev1, cmd_stopped, cmd_resumed, ev2);
}

static void sc_winch(bool tethered, char *out, size_t len)
{
	struct winsize ws = { .ws_row = 33, .ws_col = 101 };
	struct session s;
	char *v[12], ev[64];
	const char *size;

	job_argv(v, tethered, "winch", NULL);
	session_start(&s, v, false);
	T_ASSERT(term_wait_for(&s.t, "winch-ready", 20000), "the command did not start");
	usleep(300000);
	T_ASSERT(ioctl(s.t.master, TIOCSWINSZ, &ws) == 0, "TIOCSWINSZ");
	term_wait_for(&s.t, "size=", 20000);
	term_wait_for(&s.t, "\n", 5000);
	session_event(&s, ev, sizeof(ev));
	session_end(&s);
	size = strstr(s.t.buf, "size=");
	snprintf(out, len, "%.*s; %s", size ? (int)strcspn(size, "\r\n") : 4, size ? size : "none", ev);
}

static void sc_read_tty(bool tethered, char *out, size_t len)
{
	struct session s;
	char *v[12], ev[64];
	const char *got_line;

	job_argv(v, tethered, "read-line", NULL);
	session_start(&s, v, false);
	T_ASSERT(term_wait_for(&s.t, "read-ready", 20000), "the command did not start");
	usleep(300000);
	term_type(&s.t, "hello\n");
	term_wait_for(&s.t, "got:", 20000);
	term_wait_for(&s.t, "hello\r\n", 5000);
	session_event(&s, ev, sizeof(ev));
	session_end(&s);
	got_line = strstr(s.t.buf, "got:");
	snprintf(out, len, "%.*s; %s", got_line ? (int)strcspn(got_line, "\r\n") : 4, got_line ? got_line : "none", ev);
}

static void sc_read_tty_ttin_ignored(bool tethered, char *out, size_t len)
{
	job_ignores_ttin = true;
	sc_read_tty(tethered, out, len);
	job_ignores_ttin = false;
}

static void sc_group_term(bool tethered, char *out, size_t len)
{
	struct session s;
	char *v[12], ev[64];
	const char *terms;

	job_argv(v, tethered, "count-term", NULL);
	session_start(&s, v, false);
	T_ASSERT(term_wait_for(&s.t, "ready", 20000), "the command did not start");
	usleep(200000);
	session_send(&s, 't');
	term_wait_for(&s.t, "terms=", 20000);
	term_wait_for(&s.t, "\n", 5000);
	session_event(&s, ev, sizeof(ev));
	session_end(&s);
	terms = strstr(s.t.buf, "terms=");
	snprintf(out, len, "%.*s; %s", terms ? (int)strcspn(terms, "\r\n") : 4, terms ? terms : "none", ev);
}

static void sc_hangup(bool tethered, char *out, size_t len)
{
	char note[4200], text[256] = "";
	struct session s;
	char *v[12];
	int status, fd;
	ssize_t n = 0;

	snprintf(note, sizeof(note), "%s/hup-note", ts_tmpdir());
	unlink(note);
	job_argv(v, tethered, "hup-note", note);
	session_start(&s, v, true);
	for (int i = 0; i < 400; i++) {
		fd = open(note, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, text, sizeof(text) - 1);
			close(fd);
		}
		if (n > 0 && strncmp(text, "started", 7) == 0)
			break;
		usleep(25000);
	}
	T_ASSERT(n > 0, "the command did not start");
	usleep(300000);
	close(s.t.master); /* the window closes: the terminal hangs up */
	T_ASSERT(waitpid(s.shell, &status, 0) == s.shell, "waitpid");
	fd = open(note, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	close(s.evt);
	close(s.cmd);
	{
		int hups = 0;
		for (const char *p = text; (p = strstr(p, "hup")); p++)
			hups++;
		snprintf(out, len, "hups=%d; %s %d", hups, WIFSIGNALED(status) ? "signaled" : "exited",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
}

static const struct {
	const char *name;
	void (*fn)(bool, char *, size_t);
	const char *expected;
} scenarios[] = {
	{ "ctrl-c", sc_ctrl_c, "signaled 2" },
	{ "ctrl-z-fg", sc_ctrl_z_fg, "stopped 20; command stopped: 1; fg resumed it: 1; then signaled 2" },
	{ "winch", sc_winch, "size=33x101; exited 0" },
	{ "read-tty", sc_read_tty, "got:hello; exited 0" },
	{ "read-tty-ttin-ignored", sc_read_tty_ttin_ignored, "got:hello; exited 0" },
	{ "group-term", sc_group_term, "terms=1; exited 0" },
	{ "hangup", sc_hangup, "hups=1; signaled 1" },
};

int main(int argc, char **argv)
{
	const char *only = getenv("TC_ONLY");
	ssize_t n;
	int failed = 0;

	child_modes(argc, argv);
	tc_dispatch(argc, argv);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	T_ASSERT(n > 0, "readlink");
	self[n] = '\0';
	{
		int m, sl;
		if (openpty(&m, &sl, NULL, NULL, NULL) < 0)
			t_skip("no pseudo-terminals here (openpty: %s)", strerror(errno));
		close(m);
		close(sl);
	}
	with_autokill = !t_native_without(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL);
	t_info("tether run %s(%s backend)", with_autokill ? "--autokill --nnp " : "",
	       t_backend_word(CLONE_AUTOREAP | CLONE_NNP | CLONE_PIDFD_AUTOKILL));
	for (size_t i = 0; i < TS_N(scenarios); i++) {
		char plain[256], tethered[256];

		if (only && strcmp(only, scenarios[i].name) != 0)
			continue;
		scenarios[i].fn(false, plain, sizeof(plain));
		scenarios[i].fn(true, tethered, sizeof(tethered));
		if (strcmp(plain, scenarios[i].expected) != 0) {
			t_info("FAIL %s: without tether '%s', expected '%s' (the test's own shell is broken?)",
			       scenarios[i].name, plain, scenarios[i].expected);
			failed++;
		} else if (strcmp(tethered, plain) != 0) {
			t_info("FAIL %s: with tether '%s', without '%s'", scenarios[i].name, tethered, plain);
			failed++;
		} else {
			t_info("ok   %s: the same with and without tether: %s", scenarios[i].name, plain);
		}
	}
	if (failed)
		t_fail("%d scenario(s) differ with tether run", failed);
	ts_assert_no_children("end");
	t_pass("on a pseudo-terminal, with a job-control shell: tether run behaves as the command");
}

/*
 * runner.c - test runner for tether, and /init of the test VM.
 *
 * Usage: runner [--timeout SEC] [--modes native,emulate] [--label NAME]
 *               [--verbose] DIR
 *
 * Runs every executable named t_* in DIR (sorted by name), once per mode,
 * with TETHER_BACKEND=<mode> in its environment.  Exit status 0 is a pass,
 * 77 a skip, anything else (or death by a signal, or the timeout) a failure.
 *
 * Machine-readable output, one line each:
 *   @@TETHER-KERNEL <release>
 *   @@TETHER-RESULT <label> <mode> <test> <pass|fail|skip> [<detail>]
 *   @@TETHER-TIME <label> <mode> <test> <seconds>   (how long that run took)
 *   @@TETHER-DONE <label> <passed> <failed> <skipped>
 * The captured output of a failed run (of every run with --verbose) comes
 * just before its result line, each line prefixed with "    | ".
 *
 * When started as PID 1 it sets up a minimal system (proc, sysfs, devtmpfs,
 * tmpfs, TETHER_TEST_VM=1 in the tests' environment), takes its settings
 * from the kernel command line (tether.modes=,
 * tether.timeout=, tether.label=, tether.verbose=), runs /tests and powers
 * the machine off.  As init it also reaps orphans handed to it.
 *
 * Self-contained on purpose (no libtether): it must be linked statically
 * and must keep working while the library under test is broken.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_S 60.0
#define DEFAULT_MODES     "native,emulate"
#define MAX_MODES         16
#define HEAD_LINES        100   /* captured output shown: first lines ... */
#define TAIL_LINES        100   /* ... and last lines, ~200 in all */
#define MAX_LINE          4096  /* longer lines are cut */
#define DRAIN_GRACE_MS    2000  /* after the test exits, wait this long for EOF */
#define KILL_GRACE_MS     10000 /* after SIGKILL, wait this long for the exit */
#define EXIT_SKIP         77

struct options {
    double timeout_s; /* <= 0: no timeout */
    char *modes[MAX_MODES]; /* point into modes_buf */
    char *modes_buf;
    int nmodes;
    const char *label;
    const char *dir;
    bool verbose;
};

/* ------------------------------------------------------------------ */
/* Captured output: first HEAD_LINES lines, a ring of the last         */
/* TAIL_LINES lines, and the last line starting with "SKIP:".          */

struct capture {
    char *head[HEAD_LINES];
    size_t nhead;
    char *tail[TAIL_LINES];
    size_t tail_next, ntail;
    unsigned long lines;
    char *skip;
    char cur[MAX_LINE + 1];
    size_t curlen;
    bool cut;
};

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        perror("runner: strdup");
        exit(2);
    }
    return p;
}

static void capture_reset(struct capture *c)
{
    for (size_t i = 0; i < c->nhead; i++)
        free(c->head[i]);
    for (size_t i = 0; i < TAIL_LINES; i++)
        free(c->tail[i]);
    free(c->skip);
    memset(c, 0, sizeof(*c));
}

static void capture_add_line(struct capture *c, const char *line)
{
    if (strncmp(line, "SKIP:", 5) == 0) {
        free(c->skip);
        c->skip = xstrdup(line);
    }
    c->lines++;
    if (c->nhead < HEAD_LINES) {
        c->head[c->nhead++] = xstrdup(line);
        return;
    }
    free(c->tail[c->tail_next]);
    c->tail[c->tail_next] = xstrdup(line);
    c->tail_next = (c->tail_next + 1) % TAIL_LINES;
    if (c->ntail < TAIL_LINES)
        c->ntail++;
}

static void capture_end_line(struct capture *c)
{
    /* Drop a trailing CR and neutralise control characters: the text ends
     * up on a serial console and in logs that are parsed line by line. */
    if (c->curlen > 0 && c->cur[c->curlen - 1] == '\r')
        c->curlen--;
    for (size_t i = 0; i < c->curlen; i++) {
        unsigned char ch = (unsigned char)c->cur[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            c->cur[i] = '?';
    }
    c->cur[c->curlen] = '\0';
    if (c->cut) {
        char buf[MAX_LINE + 32];
        snprintf(buf, sizeof(buf), "%s [line cut]", c->cur);
        capture_add_line(c, buf);
    } else {
        capture_add_line(c, c->cur);
    }
    c->curlen = 0;
    c->cut = false;
}

static void capture_feed(struct capture *c, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            capture_end_line(c);
        } else if (c->curlen < MAX_LINE) {
            c->cur[c->curlen++] = buf[i];
        } else {
            c->cut = true;
        }
    }
}

static void capture_finish(struct capture *c)
{
    if (c->curlen > 0 || c->cut)
        capture_end_line(c);
}

/* A remark of the runner's own, shown along with the test's output. */
static void capture_note(struct capture *c, const char *text)
{
    capture_finish(c);
    capture_feed(c, text, strlen(text));
    capture_feed(c, "\n", 1);
}

static void capture_print(const struct capture *c)
{
    for (size_t i = 0; i < c->nhead; i++)
        printf("    | %s\n", c->head[i]);
    unsigned long omitted = c->lines - c->nhead - c->ntail;
    if (omitted > 0)
        printf("    | ... (%lu lines omitted) ...\n", omitted);
    size_t first = (c->tail_next + TAIL_LINES - c->ntail) % TAIL_LINES;
    for (size_t i = 0; i < c->ntail; i++)
        printf("    | %s\n", c->tail[(first + i) % TAIL_LINES]);
}

/* ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The only signals the runner sends: SIGKILL to a test it started (pid) and
 * to the process group it made for it (pgid == that pid, setpgid() in
 * run_one()). Anything else is refused: as root, kill(-1) or kill(0) would
 * end every process of the machine, or the runner's own group.
 */
static int kill_test_group(pid_t pgid)
{
    if (pgid <= 1) {
        errno = EINVAL;
        return -1;
    }
    return kill(-pgid, SIGKILL);
}

static void kill_test(pid_t pid)
{
    if (pid <= 1)
        return;
    kill_test_group(pid);
    kill(pid, SIGKILL); /* in case it left its process group */
}

static int sigfd = -1;        /* signalfd for SIGCHLD, SIGINT, SIGTERM, SIGHUP */
static int interrupted;       /* the terminating signal we received, if any */

/*
 * Reap every child that has exited.  As PID 1 these include orphans that
 * the kernel reparented to us; on the host it is only the test itself.
 * The test's own status is kept when waitpid() hands it to us, so the
 * orphan reaping can never swallow the result.
 */
static void reap_children(pid_t test_pid, int *test_status, bool *test_exited)
{
    for (;;) {
        int st;
        pid_t r = waitpid(-1, &st, WNOHANG | __WALL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (r == test_pid) {
            *test_status = st;
            *test_exited = true;
        }
    }
}

/* Consume pending signals; remember the first terminating one. */
static void drain_signals(void)
{
    struct signalfd_siginfo si;
    while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo != SIGCHLD && !interrupted)
            interrupted = (int)si.ssi_signo;
    }
}

enum outcome { OUT_PASS, OUT_FAIL, OUT_SKIP };

static void child_exec(const char *path, const char *mode, int out_fd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Every test starts with default dispositions, whatever the runner
     * inherited (a shell's background job ignores SIGINT and SIGQUIT). */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    /* Own process group, so a timeout can kill everything the test
     * started, and so a terminal's Ctrl-C goes to the runner only. */
    setpgid(0, 0);

    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        if (null_fd != STDIN_FILENO)
            close(null_fd);
    } else {
        close(STDIN_FILENO);
    }
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);

    if (setenv("TETHER_BACKEND", mode, 1) != 0) {
        dprintf(STDERR_FILENO, "runner: setenv: %s\n", strerror(errno));
        _exit(126);
    }
    execl(path, path, (char *)NULL);
    dprintf(STDERR_FILENO, "runner: cannot execute %s: %s\n", path, strerror(errno));
    _exit(127);
}

/* Runs one test in one mode; fills the capture and the detail text. */
static enum outcome run_one(const struct options *o, const char *path, const char *mode,
                            struct capture *cap, char *detail, size_t detail_len)
{
    int pipefd[2];
    detail[0] = '\0';
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(detail, detail_len, "runner-error");
        fprintf(stderr, "runner: pipe2: %s\n", strerror(errno));
        return OUT_FAIL;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(detail, detail_len, "runner-error");
        fprintf(stderr, "runner: fork: %s\n", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return OUT_FAIL;
    }
    if (pid == 0)
        child_exec(path, mode, pipefd[1]);

    /* Also in the parent, so kill(-pid) works even before the child ran. */
    setpgid(pid, pid);
    close(pipefd[1]);
    int out_fd = pipefd[0];
    fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);

    const int64_t start = now_ms();
    const int64_t deadline = o->timeout_s > 0 ? start + (int64_t)(o->timeout_s * 1000.0) : -1;
    int64_t kill_deadline = -1, drain_deadline = -1;
    bool exited = false, eof = false, timed_out = false, gave_up = false, stopped = false;
    int status = 0;
    char buf[65536];

    while (!exited || !eof) {
        if (exited && interrupted)
            break; /* no more waiting for leftovers' output */
        int64_t wait_until = -1;
        if (!exited && !timed_out && !interrupted)
            wait_until = deadline;
        else if (!exited)
            wait_until = kill_deadline;
        else
            wait_until = drain_deadline;

        int wait_ms = -1;
        if (wait_until >= 0) {
            int64_t left = wait_until - now_ms();
            wait_ms = left < 0 ? 0 : (left > INT_MAX ? INT_MAX : (int)left);
        }
        if (wait_until >= 0 && wait_ms == 0) {
            if (!exited && !timed_out && !interrupted) {
                timed_out = true;
                kill_test(pid); /* and its process group */
                kill_deadline = now_ms() + KILL_GRACE_MS;
                continue;
            }
            if (!exited) {
                /* Unkillable (stuck in the kernel): report it and move on. */
                fprintf(stderr, "runner: %s did not die after SIGKILL\n", path);
                gave_up = true;
                break;
            }
            /* Exited, but something outside its process group still holds
             * the output pipe open. */
            capture_note(cap, "runner: output still held open by a leftover process");
            break;
        }

        struct pollfd fds[2] = {
            { .fd = sigfd, .events = POLLIN },
            { .fd = eof ? -1 : out_fd, .events = POLLIN },
        };
        int n = poll(fds, 2, wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "runner: poll: %s\n", strerror(errno));
            kill_test(pid);
            break;
        }
        if (fds[1].revents) {
            ssize_t r = read(out_fd, buf, sizeof(buf));
            if (r > 0)
                capture_feed(cap, buf, (size_t)r);
            else if (r == 0 || (errno != EINTR && errno != EAGAIN))
                eof = true;
        }
        if (fds[0].revents) {
            drain_signals();
            if (interrupted && !exited && kill_deadline < 0) {
                stopped = true;
                kill_test(pid);
                kill_deadline = now_ms() + KILL_GRACE_MS;
            }
            bool was_exited = exited;
            reap_children(pid, &status, &exited);
            if (exited && !was_exited) {
                /* Whatever the test left behind in its process group must
                 * not leak into the next test (or hold the pipe open). */
                if (kill_test_group(pid) == 0 && !timed_out && !interrupted)
                    capture_note(cap, "runner: killed processes left behind in the test's process group");
                drain_deadline = now_ms() + DRAIN_GRACE_MS;
            }
        }
    }
    /* Drain what is still readable without waiting. */
    for (;;) {
        ssize_t r = eof ? 0 : read(out_fd, buf, sizeof(buf));
        if (r <= 0)
            break;
        capture_feed(cap, buf, (size_t)r);
    }
    close(out_fd);
    capture_finish(cap);

    if (stopped) {
        snprintf(detail, detail_len, "interrupted");
        return OUT_FAIL;
    }
    if (timed_out) {
        snprintf(detail, detail_len, "timeout");
        return OUT_FAIL;
    }
    if (gave_up || !exited) {
        snprintf(detail, detail_len, "runner-error");
        return OUT_FAIL;
    }
    if (WIFEXITED(status)) {
        int code = WEXITSTATUS(status);
        if (code == 0)
            return OUT_PASS;
        if (code == EXIT_SKIP) {
            if (cap->skip)
                snprintf(detail, detail_len, "%s", cap->skip);
            return OUT_SKIP;
        }
        snprintf(detail, detail_len, "exit=%d", code);
        return OUT_FAIL;
    }
    if (WIFSIGNALED(status)) {
        snprintf(detail, detail_len, "signal=%d", WTERMSIG(status));
        return OUT_FAIL;
    }
    snprintf(detail, detail_len, "status=0x%x", (unsigned)status);
    return OUT_FAIL;
}

/* ------------------------------------------------------------------ */

static bool is_word(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= ' ' || ch == 0x7f)
            return false;
    }
    return true;
}

static int parse_modes(struct options *o, const char *list)
{
    char *copy = xstrdup(list), *save = NULL;
    char *modes[MAX_MODES];
    int n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!is_word(tok) || n == MAX_MODES) {
            fprintf(stderr, "runner: bad mode list '%s'\n", list);
            free(copy);
            return -1;
        }
        modes[n++] = tok;
    }
    if (n == 0) {
        fprintf(stderr, "runner: empty mode list\n");
        free(copy);
        return -1;
    }
    free(o->modes_buf);
    o->modes_buf = copy;
    memcpy(o->modes, modes, sizeof(modes[0]) * (size_t)n);
    o->nmodes = n;
    return 0;
}

static int parse_timeout(struct options *o, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > 1e7) {
        fprintf(stderr, "runner: bad timeout '%s'\n", s);
        return -1;
    }
    o->timeout_s = v;
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_test_name(const struct dirent *d)
{
    return strncmp(d->d_name, "t_", 2) == 0;
}

/* ------------------------------------------------------------------ */
/* PID 1 setup                                                         */

static void try_mount(const char *src, const char *target, const char *type,
                      unsigned long flags, const char *data, bool quiet)
{
    if (mkdir(target, 0755) != 0 && errno != EEXIST && !quiet)
        fprintf(stderr, "runner: mkdir %s: %s\n", target, strerror(errno));
    if (mount(src, target, type, flags, data) != 0 && !quiet)
        fprintf(stderr, "runner: mount %s on %s: %s\n", type, target, strerror(errno));
}

static void loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
}

static void init_setup(struct options *o)
{
    /* devtmpfs first: the console may be missing from the initramfs. */
    try_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", true);
    int con = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (con >= 0) {
        dup2(con, STDIN_FILENO);
        dup2(con, STDOUT_FILENO);
        dup2(con, STDERR_FILENO);
        close(con);
    }
    try_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false);
    try_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false);
    /* /tmp deliberately without nosuid: setuid tests install helpers there. */
    try_mount("tmpfs", "/tmp", "tmpfs", MS_NODEV, "mode=1777", false);
    /* Conveniences; their absence is not an error. */
    try_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666", true);
    try_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", true);
    try_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true);
    loopback_up();

    /* The kernel hands unknown NAME=VALUE words of its command line to init
     * as environment: TETHER_* ones are kept for the tests (run-matrix.sh
     * --env), everything else goes. */
    static char keep[16][256];
    int nkeep = 0;
    for (char **e = environ; *e && nkeep < 16; e++)
        if (strncmp(*e, "TETHER_", 7) == 0 && strlen(*e) < sizeof(keep[0]))
            strcpy(keep[nkeep++], *e);
    clearenv();
    for (int k = 0; k < nkeep; k++)
        putenv(keep[k]);
    setenv("PATH", "/bin:/tests", 1);
    setenv("HOME", "/tmp", 1);
    /* Tells tests that this machine is a throw-away test VM: those that
     * change machine-wide settings (core_pattern) run only where it is set. */
    setenv("TETHER_TEST_VM", "1", 1);
    if (chdir("/tmp") != 0)
        fprintf(stderr, "runner: chdir /tmp: %s\n", strerror(errno));

    /* Settings from the kernel command line. */
    static char cmdline[4096];
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, cmdline, sizeof(cmdline) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        fprintf(stderr, "runner: cannot read /proc/cmdline, using defaults\n");
        n = 0;
    }
    cmdline[n] = '\0';
    char *save = NULL;
    for (char *tok = strtok_r(cmdline, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
        if (strncmp(tok, "tether.modes=", 13) == 0) {
            if (parse_modes(o, tok + 13) != 0)
                parse_modes(o, DEFAULT_MODES);
        } else if (strncmp(tok, "tether.timeout=", 15) == 0) {
            parse_timeout(o, tok + 15);
        } else if (strncmp(tok, "tether.label=", 13) == 0) {
            if (is_word(tok + 13))
                o->label = tok + 13;
        } else if (strncmp(tok, "tether.verbose=", 15) == 0) {
            o->verbose = strcmp(tok + 15, "0") != 0;
        }
    }
    o->dir = "/tests";
}

static _Noreturn void init_poweroff(int code)
{
    fflush(stdout);
    fflush(stderr);
    /* The serial driver sends from a buffer; power-off does not wait. */
    tcdrain(STDOUT_FILENO);
    sync();
    reboot(RB_POWER_OFF);
    /* Only reached if power-off failed; exiting PID 1 panics the kernel,
     * which with panic=-1 and -no-reboot also ends the VM. */
    fprintf(stderr, "runner: power off failed: %s\n", strerror(errno));
    _exit(code);
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: runner [--timeout SEC] [--modes native,emulate] [--label NAME] [--verbose] DIR\n");
}

/* Value of option NAME given as "--name VALUE" or "--name=VALUE", else NULL. */
static const char *option_value(const char *name, int argc, char **argv, int *i)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "runner: %s needs a value\n", name);
        exit(2);
    }
    return argv[++*i];
}

static int parse_args(struct options *o, int argc, char **argv)
{
    int i;
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *val;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if ((val = option_value("--timeout", argc, argv, &i))) {
            if (parse_timeout(o, val) != 0)
                return -1;
        } else if ((val = option_value("--modes", argc, argv, &i))) {
            if (parse_modes(o, val) != 0)
                return -1;
        } else if ((val = option_value("--label", argc, argv, &i))) {
            if (!is_word(val)) {
                fprintf(stderr, "runner: bad label '%s'\n", val);
                return -1;
            }
            o->label = val;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "runner: unknown option %s\n", argv[i]);
            return -1;
        }
    }
    if (i != argc - 1) {
        usage(stderr);
        return -1;
    }
    o->dir = argv[i];
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = { .timeout_s = DEFAULT_TIMEOUT_S, .label = "host" };
    const bool is_init = getpid() == 1;

    /* Line-buffered even on a console or pipe, so that nothing is lost
     * at power-off and the output interleaves in order. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
    /* An inherited SIG_IGN for SIGCHLD would make children vanish unwaited. */
    signal(SIGCHLD, SIG_DFL);
    parse_modes(&o, DEFAULT_MODES);

    if (is_init) {
        o.label = "vm";
        init_setup(&o);
    } else if (parse_args(&o, argc, argv) != 0) {
        free(o.modes_buf);
        return 2;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) {
        fprintf(stderr, "runner: signalfd: %s\n", strerror(errno));
        if (is_init)
            init_poweroff(2);
        free(o.modes_buf);
        return 2;
    }

    struct utsname uts;
    if (uname(&uts) == 0)
        printf("@@TETHER-KERNEL %s\n", uts.release);

    struct dirent **ents = NULL;
    int nents = scandir(o.dir, &ents, is_test_name, by_name);
    if (nents < 0) {
        fprintf(stderr, "runner: cannot read test directory %s: %s\n", o.dir, strerror(errno));
        printf("@@TETHER-DONE %s 0 1 0\n", o.label);
        if (is_init)
            init_poweroff(2);
        free(o.modes_buf);
        return 2;
    }

    unsigned passed = 0, failed = 0, skipped = 0, ntests = 0;
    static struct capture cap;
    char path[PATH_MAX], detail[512];

    for (int i = 0; i < nents && !interrupted; i++) {
        const char *name = ents[i]->d_name;
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", o.dir, name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
            !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
            continue;
        if (!is_word(name)) {
            fprintf(stderr, "runner: ignoring %s: whitespace in its name\n", path);
            continue;
        }
        ntests++;
        for (int m = 0; m < o.nmodes && !interrupted; m++) {
            if (o.verbose)
                printf("runner: running %s (%s)\n", name, o.modes[m]);
            capture_reset(&cap);
            int64_t t0 = now_ms();
            enum outcome r = run_one(&o, path, o.modes[m], &cap, detail, sizeof(detail));
            int64_t took = now_ms() - t0;
            if (r == OUT_FAIL || o.verbose)
                capture_print(&cap);
            const char *word = r == OUT_PASS ? "pass" : r == OUT_SKIP ? "skip" : "fail";
            printf("@@TETHER-RESULT %s %s %s %s%s%s\n", o.label, o.modes[m], name, word,
                   detail[0] ? " " : "", detail);
            /* Where the suite's time goes (vm/run-matrix.sh --times). */
            printf("@@TETHER-TIME %s %s %s %lld.%03lld\n", o.label, o.modes[m], name,
                   (long long)(took / 1000), (long long)(took % 1000));
            if (r == OUT_PASS)
                passed++;
            else if (r == OUT_SKIP)
                skipped++;
            else
                failed++;
        }
    }
    capture_reset(&cap);
    for (int i = 0; i < nents; i++)
        free(ents[i]);
    free(ents);

    if (ntests == 0)
        fprintf(stderr, "runner: warning: no executable t_* files in %s\n", o.dir);
    if (interrupted)
        fprintf(stderr, "runner: stopped by signal %d\n", interrupted);
    printf("@@TETHER-DONE %s %u %u %u\n", o.label, passed, failed, skipped);

    free(o.modes_buf);
    if (is_init)
        init_poweroff(failed ? 1 : 0);
    if (interrupted)
        return 128 + interrupted;
    return failed ? 1 : 0;
}

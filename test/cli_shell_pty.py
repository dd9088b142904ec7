#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""
tether(1) in a real terminal with a real shell: each scenario types its
commands into an interactive bash on a pseudo-terminal (python3's pty
module), presses Ctrl-C / Ctrl-Z, types fg, resizes the window or closes
the terminal, and notes what happened. Every scenario runs twice in the same
run, once as typed and once with "tether run --" in front of the command;
the two outcomes must be the same, and the one without tether must be what
the scenario expects (else the harness itself is broken). In the sanitizer
and valgrind runs (TETHER_TEST_REDUCED=1, not TETHER_TEST_FULL=1), which look
for memory errors in tether(1), only the run with tether is made, and its
outcome must be what the scenario expects: the plain shell's side is the
host run's to check.

Run by t_cli_shell_pty (host only: the test VMs have neither bash nor
python3):

    cli_shell_pty.py SELF [--autokill] [SCENARIO...]

SELF is the test program: "SELF cli ..." is tether(1), "SELF child MODE"
a command with a known behaviour (see t_cli_shell_pty.c). No assertion is
finer than seconds; every wait is bounded.
"""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import tempfile
import termios
import time

SELF = sys.argv[1]
AUTOKILL = len(sys.argv) > 2 and sys.argv[2] == "--autokill"
ONLY = set(sys.argv[3 if AUTOKILL else 2:])
# As people use it, where the backend provides the flags.
TETHER = f"{SELF} cli run --autokill --nnp --" if AUTOKILL else f"{SELF} cli run --"
BASH = "/bin/bash"
REDUCED = os.environ.get("TETHER_TEST_REDUCED") == "1" and os.environ.get("TETHER_TEST_FULL") != "1"
failures = []


def log(msg):
    print(f"  {msg}", flush=True)


class Shell:
    """An interactive bash (no line editing: the terminal's line discipline
    does Ctrl-C and Ctrl-Z, as in any terminal) on a new pseudo-terminal."""

    def __init__(self, rows=24, cols=80):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": "/",
            "TERM": "xterm",
            "PS1": "PROMPT$ ",
            "LC_ALL": "C",
            "TETHER_BACKEND": os.environ.get("TETHER_BACKEND", "auto"),
        }
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execve(BASH, [BASH, "--norc", "--noprofile", "--noediting", "-i"], env)
            finally:
                os._exit(127)
        self.pid, self.fd, self.buf = pid, fd, b""
        self.resize(rows, cols)
        self.expect(r"PROMPT\$ ")

    def resize(self, rows, cols):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def read_for(self, seconds):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                return
            if not data:
                return
            self.buf += data

    def expect(self, pattern, timeout=20):
        """Read until pattern matches the output since the last match; returns the text before it."""
        rx = re.compile(pattern.encode())
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.last_marker_rc = m.group(1).decode() if m.groups() else None
                before = self.buf[: m.start()].decode(errors="replace")
                self.buf = self.buf[m.end():]
                return before
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {pattern!r} in {self.buf[-600:]!r}")
            self.read_for(min(left, 0.2))

    def send(self, text):
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def run(self, line, timeout=20):
        """Type line; returns its output (up to a marker the shell prints after it)."""
        self.send(line + "\n")
        # The quotes keep the echoed command line from matching the marker.
        self.send('echo "__MAR""K__ rc=$?"\n')
        out = self.expect(r"__MARK__ rc=(\d+)", timeout)
        return out + f"rc={self.last_marker_rc}"


    def close(self):
        try:
            os.close(self.fd)
        except OSError:
            pass
        for _ in range(100):
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            kill_session(self.pid)
            os.waitpid(self.pid, 0)
        # A broken run may leave a command behind in the terminal's session.
        time.sleep(0.2)
        kill_session(self.pid)


def kill_session(sid):
    """SIGKILL every process of the session sid (one this harness made), through pidfds."""
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) <= 1:
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid:
                continue
            fd = os.pidfd_open(int(name))
        except (OSError, IndexError, ValueError):
            continue
        try:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os.close(fd)


def last_rc(text):
    m = re.findall(r"rc=(\d+)", text)
    return m[-1] if m else None


# ---- scenarios: each takes the prefix ("" or tether) and returns its outcome ----

def sc_loop_ctrl_c(p):
    """A for loop of a command, Ctrl-C during the first: the loop is aborted."""
    sh = Shell()
    sh.send(f'for i in 1 2 3; do {p}sleep 3; echo "iter$i rc=$?"; done; echo after-loop\n')
    time.sleep(1)
    sh.send(b"\x03")
    out = sh.run("")
    sh.close()
    # Output lines, not the echo of the typed line ("... echo after-loop").
    return {"iterations": sorted(set(re.findall(r"\niter(\d) rc", out))), "after": "\nafter-loop\r" in out}


def sc_group_term_once(p, how):
    """A background job gets SIGTERM sent to its process group: the command sees it once."""
    sh = Shell()
    sh.send(f"{p}{SELF} child count-term &\n")
    sh.expect("count-ready")
    time.sleep(0.5)
    target = "%1" if how == "job" else "-- -$!"
    out = sh.run(f"kill -TERM {target}; wait $!; echo job-rc=$?", timeout=30)
    sh.close()
    m = re.search(r"terms=(\d+)", out)
    return {"terms": m and m.group(1), "rc": (re.findall(r"job-rc=(\d+)", out) or [None])[-1]}


def sc_own_group_ctrl_c(p):
    """Ctrl-C while the command runs in its own process group (timeout(1) makes one)."""
    sh = Shell()
    start = time.monotonic()
    sh.send(f"{p}timeout 60 sleep 30\n")
    time.sleep(1)
    sh.send(b"\x03")
    out = sh.run("", timeout=20)
    took = time.monotonic() - start
    sh.close()
    return {"rc": last_rc(out), "interrupted": took < 15}


def sc_hangup_session_leader(p):
    """The shell execs the command (it becomes the session leader); the terminal closes."""
    with tempfile.TemporaryDirectory() as d:
        note = os.path.join(d, "note")
        sh = Shell()
        sh.send(f"exec {p}{SELF} child hup-note {note}\n")
        for _ in range(100):
            if os.path.exists(note) and open(note).read().startswith("started"):
                break
            time.sleep(0.1)
        text = open(note).read() if os.path.exists(note) else ""
        pid = int(text.split()[1]) if text.startswith("started") else 0
        os.close(sh.fd)  # the window is closed: the terminal hangs up
        gone = False
        for _ in range(100):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(") ")[1][0] == "Z":
                        gone = True
                        break
            except (FileNotFoundError, ProcessLookupError):
                gone = True
                break
            time.sleep(0.1)
        os.waitpid(sh.pid, 0)
        kill_session(sh.pid)
        text = open(note).read()
        return {"hups": text.count("hup"), "command_ended": gone}


def sc_ctrl_z_fg(p):
    """Ctrl-Z stops the job (the command too: no output while stopped), fg resumes it."""
    sh = Shell()
    sh.send(f"{p}{SELF} child ticks 12\n")
    sh.expect(r"tick 2\b")
    sh.send(b"\x1a")
    stopped = sh.expect(r"PROMPT\$ ", 10)
    sh.buf = b""
    sh.read_for(2)  # a stopped command prints nothing
    quiet = b"tick" not in sh.buf
    jobs = sh.run("jobs")
    out = sh.run("fg", timeout=30)
    sh.close()
    return {"stopped_msg": "Stopped" in stopped, "quiet_while_stopped": quiet, "jobs_stopped": "Stopped" in jobs,
            "finished": "tick 12" in out, "rc": last_rc(out)}


def sc_resize(p):
    """The window is resized while the command runs: it sees SIGWINCH and the new size."""
    sh = Shell(rows=24, cols=80)
    sh.send(f"{p}{SELF} child winch\n")
    sh.expect("winch-ready")
    time.sleep(0.5)
    sh.resize(33, 101)
    out = sh.run("", timeout=20)
    sh.close()
    m = re.search(r"size=(\d+x\d+)", out)
    return {"size": m and m.group(1), "rc": last_rc(out)}


def sc_reads_terminal(p, ttin_ignored=False):
    """The command reads the terminal (it must be in the foreground for that);
    ttin_ignored: where SIGTTIN and SIGTTOU are ignored when it starts (as in
    a tmux pane made with a command, or a script that ignores them)."""
    sh = Shell()
    line = f"{p}{BASH} -c 'read -r x; echo \"got:$x\"'"
    sh.send((f"(trap '' TTIN TTOU; {line})" if ttin_ignored else line) + "\n")
    time.sleep(1)
    sh.send("hello\n")
    out = sh.run("", timeout=20)
    sh.close()
    return {"got": "got:hello" in out, "rc": last_rc(out)}


def sc_nested_interactive_shell(p):
    """bash -i under the command: it takes the terminal, runs jobs, Ctrl-C ends its job, not it."""
    sh = Shell()
    sh.send(f"{p}{BASH} --norc --noprofile --noediting -i\n")
    sh.send('PS1="INNER$ "\n')
    sh.expect(r"INNER\$ ", 20)
    inner = sh.run("echo inner-$((6*7))")
    sh.send("sleep 20\n")
    time.sleep(1)
    sh.send(b"\x03")
    sh.expect(r"INNER\$ ", 20)
    alive = sh.run("echo still-here")
    sh.send("sleep 20\n")
    time.sleep(1)
    sh.send(b"\x1a")
    try:
        sh.expect(r"Stopped", 10)
        stopped = "Stopped"
    except TimeoutError:
        stopped = ""
    # The stopped job must be gone before "exit": bash refuses to exit with stopped jobs.
    sh.run("kill -KILL %1; wait")
    # If bash still counts the job as stopped, its first exit only warns; the next one exits.
    out = sh.run("exit 7; exit 7", timeout=20)
    sh.close()
    return {"ran": "inner-42" in inner, "survived_ctrl_c": "still-here" in alive,
            "inner_job_stopped": "Stopped" in stopped, "rc": last_rc(out)}


def sc_less(p):
    """A full-screen pager: it draws, takes a key, and quits."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(f"line {i}\n" for i in range(200)))
        path = f.name
    sh = Shell(rows=10, cols=60)
    sh.send(f"{p}less {path}\n")
    first = sh.expect(r"line 8", 20)
    sh.send(" ")  # next page
    sh.expect(r"line 1[5-8]", 20)
    sh.send("q")
    out = sh.run("", timeout=20)
    sh.close()
    os.unlink(path)
    return {"paged": True, "rc": last_rc(out), "first_page": "line 0" in first}


def sc_pipeline_ctrl_z(p, where):
    """Ctrl-Z while the command holds the terminal and other processes share
    its job: in a pipeline (the command reads the terminal, cat copies), or
    under a script (sh -c). The whole job stops (the prompt comes back, jobs
    says Stopped); fg resumes it, Ctrl-D ends it."""
    sh = Shell()
    line = f"{p}cat | cat" if where == "pipeline" else f"/bin/sh -c '{p}cat; echo script-after'"
    sh.send(line + "\n")
    time.sleep(1)
    sh.send("first-line\n")
    sh.expect(r"first-line\r\n(?:.*\r\n)?first-line", 20)  # echoed by the terminal, then by cat
    sh.send(b"\x1a")
    try:
        sh.expect(r"PROMPT\$ ", 8)
        stopped = True
    except TimeoutError:
        stopped = False
        sh.send(b"\x03")  # the job did not stop as a whole: end it
    jobs = sh.run("jobs") if stopped else ""
    out = ""
    if stopped:
        sh.send("fg\n")
        time.sleep(1)
        sh.send("second-line\n")
        sh.expect(r"second-line\r\n(?:.*\r\n)?second-line", 20)
        sh.send(b"\x04")
        out = sh.run("", timeout=20)
    sh.close()
    return {"stopped": stopped, "jobs_stopped": "Stopped" in jobs, "after": "script-after" in out if where == "script" else None,
            "rc": last_rc(out)}


SCENARIOS = {
    "loop-ctrl-c": (sc_loop_ctrl_c, {"iterations": [], "after": False}),
    "group-term-kill-pgid": (lambda p: sc_group_term_once(p, "pgid"), {"terms": "1", "rc": "0"}),
    "group-term-kill-job": (lambda p: sc_group_term_once(p, "job"), {"terms": "1", "rc": "0"}),
    "own-group-ctrl-c": (sc_own_group_ctrl_c, {"rc": "130", "interrupted": True}),
    "hangup-session-leader": (sc_hangup_session_leader, {"hups": 1, "command_ended": True}),
    "ctrl-z-fg": (sc_ctrl_z_fg, {"stopped_msg": True, "quiet_while_stopped": True, "jobs_stopped": True,
                                 "finished": True, "rc": "0"}),
    "resize": (sc_resize, {"size": "33x101", "rc": "0"}),
    "reads-terminal": (sc_reads_terminal, {"got": True, "rc": "0"}),
    "nested-bash-i": (sc_nested_interactive_shell, {"ran": True, "survived_ctrl_c": True,
                                                    "inner_job_stopped": True, "rc": "7"}),
    "less": (sc_less, {"paged": True, "rc": "0", "first_page": True}),
    "pipeline-ctrl-z": (lambda p: sc_pipeline_ctrl_z(p, "pipeline"),
                        {"stopped": True, "jobs_stopped": True, "after": None, "rc": "0"}),
    "script-ctrl-z": (lambda p: sc_pipeline_ctrl_z(p, "script"),
                      {"stopped": True, "jobs_stopped": True, "after": True, "rc": "0"}),
    "ttin-ignored": (lambda p: sc_reads_terminal(p, True), {"got": True, "rc": "0"}),
}



def main():
    for name, (fn, expected) in SCENARIOS.items():
        if ONLY and name not in ONLY:
            continue
        results = {}
        runs = (("with tether", TETHER + " "),) if REDUCED else (("without tether", ""), ("with tether", TETHER + " "))
        for label, prefix in runs:
            try:
                results[label] = fn(prefix)
            except Exception as e:  # a hang or a crash is an outcome too
                results[label] = {"error": repr(e)[:300]}
        tethered = results["with tether"]
        if REDUCED:
            if tethered != expected:
                failures.append(name)
                log(f"FAIL {name}: with tether {tethered}, the scenario expects {expected}")
            else:
                log(f"ok   {name}: with tether as expected: {tethered}")
            continue
        plain = results["without tether"]
        if plain != expected:
            failures.append(name)
            log(f"FAIL {name}: without tether {plain}, the scenario expects {expected} (harness broken?)")
        elif tethered != plain:
            failures.append(name)
            log(f"FAIL {name}: with tether {tethered}, without {plain}")
        else:
            log(f"ok   {name}: same with and without tether: {plain}")
    if failures:
        print(f"FAIL: {len(failures)} scenario(s) differ: {' '.join(failures)}", flush=True)
        sys.exit(1)
    if REDUCED:
        print("PASS: every scenario behaves as expected under tether run (reduced: no run without it)", flush=True)
    else:
        print("PASS: every scenario behaves the same with and without tether run", flush=True)


if __name__ == "__main__":
    main()

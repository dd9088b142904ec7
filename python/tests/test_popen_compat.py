# SPDX-License-Identifier: MIT
"""Popen behaviour that must be identical in subprocess.Popen and tether.Popen.

Every test takes the Popen fixture and runs once with each implementation.
"""

import errno
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading

import pytest

from conftest import PY


def py(code):
    return [PY, '-c', code]


def test_args_list_and_returncode(Popen):
    p = Popen(['sh', '-c', 'exit 7'])
    assert p.wait() == 7
    assert p.returncode == 7
    assert p.args == ['sh', '-c', 'exit 7']


def test_args_str_bytes_pathlike(Popen):
    assert Popen('true').wait() == 0
    assert Popen(b'true').wait() == 0
    assert Popen(pathlib.Path('/bin/true')).wait() == 0
    assert Popen([pathlib.Path('/bin/sh'), b'-c', 'exit 3']).wait() == 3


def test_shell(Popen):
    p = Popen('echo $((6 * 7))', shell=True, stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'42\n'


def test_executable_overrides_args0(Popen):
    p = Popen(['argv0-name', '-c', 'echo "$0"'], executable='/bin/sh', stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'argv0-name\n'


def test_stdin_stdout_stderr_pipes(Popen):
    p = Popen(py('import sys; d = sys.stdin.read(); sys.stdout.write(d.upper()); sys.stderr.write("e")'),
              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(b'hello')
    assert (out, err, p.returncode) == (b'HELLO', b'e', 0)


def test_stderr_to_stdout(Popen):
    p = Popen(['sh', '-c', 'echo a; echo b >&2'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert sorted(p.communicate()[0].split()) == [b'a', b'b']


def test_devnull(Popen):
    p = Popen(py('import sys; print(repr(sys.stdin.read())); print("x", file=sys.stderr)'),
              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert p.communicate()[0] == b"''\n"


def test_fd_and_file_object(Popen):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as inp:
        inp.write(b'data')
        inp.seek(0)
        p = Popen(['cat'], stdin=inp.fileno(), stdout=out)
        assert p.wait() == 0
        out.seek(0)
        assert out.read() == b'data'


def test_low_fds_swapped(Popen):
    # stdout pipe end that is itself fd 0 must not be clobbered (bpo-12607).
    saved = [os.dup(0), os.dup(1)]
    r, w = os.pipe()
    try:
        os.dup2(w, 0)  # the write end now also is fd 0
        p = Popen(['sh', '-c', 'echo swapped'], stdin=subprocess.DEVNULL, stdout=0)
        p.wait()
    finally:
        os.dup2(saved[0], 0)
        os.close(saved[0])
        os.close(saved[1])
        os.close(w)
    assert os.read(r, 100) == b'swapped\n'
    os.close(r)


def test_text_encoding_errors(Popen):
    p = Popen(py('import sys; sys.stdout.buffer.write(b"caf\\xe9\\r\\nx")'), stdout=subprocess.PIPE,
              encoding='latin-1', errors='strict')
    assert p.communicate()[0] == 'café\nx'
    p = Popen(py('import sys; sys.stdout.buffer.write(b"\\xff")'), stdout=subprocess.PIPE, text=True,
              encoding='utf-8', errors='replace')
    assert p.communicate()[0] == '\ufffd'
    p = Popen(['cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
    assert p.communicate('a\r\nb') == ('a\nb', None)


def test_cwd(Popen, tmp_path):
    p = Popen(['pwd'], cwd=tmp_path, stdout=subprocess.PIPE)
    assert p.communicate()[0].decode().strip() == str(tmp_path)


def test_env(Popen):
    p = Popen(['sh', '-c', 'echo "$FOO"'], env={'FOO': 'bar', 'PATH': os.environ['PATH']},
              stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'bar\n'
    p = Popen(['/usr/bin/env'], env={}, stdout=subprocess.PIPE)
    assert p.communicate()[0] == b''


def test_env_path_is_the_childs(Popen, tmp_path):
    prog = tmp_path / 'only-here'
    prog.write_text('#!/bin/sh\necho found\n')
    prog.chmod(0o755)
    p = Popen(['only-here'], env={'PATH': str(tmp_path)}, stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'found\n'


def test_env_path_search_goes_on_past_enoent(Popen, tmp_path):
    """env's PATH is searched in the child, candidate after candidate: one
    whose interpreter is missing (exec: ENOENT) does not stop the search,
    as _posixsubprocess tries each; nothing is picked in the parent."""
    first, second = tmp_path / 'a', tmp_path / 'b'
    first.mkdir()
    second.mkdir()
    (first / 'prog').write_text('#!/nonexistent/interpreter\n')
    (second / 'prog').write_text('#!/bin/sh\necho second\n')
    (first / 'prog').chmod(0o755)
    (second / 'prog').chmod(0o755)
    env = {'PATH': f'{first}:{second}:/bin:/usr/bin'}
    p = Popen(['prog'], env=env, stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'second\n'
    # A relative entry is relative to cwd, where the child runs.
    p = Popen(['prog'], env={'PATH': 'b'}, cwd=tmp_path, stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'second\n'


def test_env_bad_name(Popen):
    with pytest.raises(ValueError):
        Popen(['true'], env={'A=B': 'c'})


def test_pass_fds_and_close_fds(Popen):
    r, w = os.pipe()  # not inheritable (PEP 446)
    inh_r, inh_w = os.pipe()
    os.set_inheritable(inh_w, True)
    try:
        code = 'import os, sys; fd = int(sys.argv[1]); os.write(fd, b"ok")'
        p = Popen(py(code) + [str(w)], pass_fds=[w])
        assert p.wait() == 0
        assert os.read(r, 10) == b'ok'
        # close_fds=True (the default): an inheritable descriptor does not reach the child.
        probe = 'import os, sys\ntry: os.fstat(int(sys.argv[1])); print("open")\nexcept OSError: print("closed")'
        p = Popen(py(probe) + [str(inh_w)], stdout=subprocess.PIPE)
        assert p.communicate()[0] == b'closed\n'
        p = Popen(py(probe) + [str(inh_w)], stdout=subprocess.PIPE, close_fds=False)
        assert p.communicate()[0] == b'open\n'
        # A non-inheritable one never does.
        p = Popen(py(probe) + [str(w)], stdout=subprocess.PIPE, close_fds=False)
        assert p.communicate()[0] == b'closed\n'
    finally:
        for fd in (r, w, inh_r, inh_w):
            os.close(fd)


def test_pass_fds_overrides_close_fds_false(Popen):
    r, w = os.pipe()
    try:
        with pytest.warns(RuntimeWarning):
            p = Popen(['true'], close_fds=False, pass_fds=[w])
        assert p.wait() == 0
    finally:
        os.close(r)
        os.close(w)


def test_start_new_session(Popen):
    p = Popen(py('import os; print(os.getsid(0) == os.getpid(), os.getpgid(0) == os.getpid())'),
              start_new_session=True, stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'True True\n'


def test_process_group(Popen):
    p = Popen(py('import os; print(os.getpgid(0) == os.getpid(), os.getsid(0) == os.getsid(os.getppid()))'),
              process_group=0, stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'True True\n'


def test_new_session_and_process_group(Popen):
    """A session leader cannot change its process group: both refuse the pair with EPERM."""
    with pytest.raises(PermissionError) as e:
        Popen(['true'], start_new_session=True, process_group=0)
    assert e.value.errno == errno.EPERM


def test_umask(Popen):
    p = Popen(['sh', '-c', 'umask'], umask=0o027, stdout=subprocess.PIPE)
    assert p.communicate()[0].strip() == b'0027'


@pytest.mark.parametrize('restore', [True, False])
def test_restore_signals(Popen, restore):
    # Python ignores SIGPIPE; restore_signals puts it back to SIG_DFL in the child.
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN
    p = Popen(['grep', '^SigIgn:', '/proc/self/status'], stdout=subprocess.PIPE, restore_signals=restore)
    ignored = int(p.communicate()[0].split()[1], 16)
    assert bool(ignored & (1 << (signal.SIGPIPE - 1))) == (not restore)


def test_signal_mask_and_handlers_not_inherited(Popen):
    # A handler installed here is SIG_DFL in the child (never runs there).
    old = signal.signal(signal.SIGUSR1, lambda *a: None)
    try:
        p = Popen(['grep', '^SigCgt:', '/proc/self/status'], stdout=subprocess.PIPE)
        caught = int(p.communicate()[0].split()[1], 16)
        assert not caught & (1 << (signal.SIGUSR1 - 1))
    finally:
        signal.signal(signal.SIGUSR1, old)


def test_wait_timeout_then_kill(Popen):
    p = Popen(['sleep', '30'])
    with pytest.raises(subprocess.TimeoutExpired) as ei:
        p.wait(timeout=0.2)
    assert ei.value.timeout == 0.2
    assert p.poll() is None
    p.kill()
    assert p.wait(timeout=30) == -signal.SIGKILL


def test_terminate_and_send_signal(Popen):
    p = Popen(['sleep', '30'])
    p.terminate()
    assert p.wait() == -signal.SIGTERM
    p = Popen(['sleep', '30'])
    p.send_signal(signal.SIGINT)
    assert p.wait() == -signal.SIGINT


def test_signal_after_exit_is_quiet(Popen):
    p = Popen(['true'])
    p.wait()
    p.send_signal(signal.SIGTERM)
    p.terminate()
    p.kill()
    assert p.returncode == 0


def test_poll(Popen):
    p = Popen(['sh', '-c', 'read x'], stdin=subprocess.PIPE)
    assert p.poll() is None
    p.stdin.close()
    assert p.wait() in (0, 1)
    assert p.poll() == p.returncode


def test_communicate_timeout_then_again(Popen):
    p = Popen(py('import sys, time; print("early", flush=True); time.sleep(1); print("late")'),
              stdout=subprocess.PIPE)
    with pytest.raises(subprocess.TimeoutExpired):
        p.communicate(timeout=0.1)
    out, _ = p.communicate()
    assert out == b'early\nlate\n'


def test_context_manager_waits_and_closes(Popen):
    with Popen(['sh', '-c', 'echo hi'], stdout=subprocess.PIPE) as p:
        assert p.stdout.read() == b'hi\n'
    assert p.returncode == 0
    assert p.stdout.closed


def test_wait_from_threads(Popen):
    p = Popen(['sleep', '0.3'])
    results = []
    threads = [threading.Thread(target=lambda: results.append(p.wait())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [0, 0, 0, 0]


def test_wait_interrupted_by_signal_handler(Popen):
    class Interrupt(Exception):
        pass

    def handler(signum, frame):
        raise Interrupt()

    old = signal.signal(signal.SIGALRM, handler)
    p = Popen(['sleep', '30'])
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(Interrupt):
            p.wait()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        p.kill()
        p.wait()
    assert p.returncode == -signal.SIGKILL


def test_killed_by_signal_returncode(Popen):
    p = Popen(['sh', '-c', 'kill -TERM $$'])
    assert p.wait() == -signal.SIGTERM


def test_repr_and_pid(Popen):
    p = Popen(['true'])
    assert isinstance(p.pid, int) and p.pid > 1
    p.wait()
    assert 'returncode: 0' in repr(p)


def test_pipesize(Popen):
    p = Popen(['cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, pipesize=65536 * 2)
    out, _ = p.communicate(b'x' * 300000)
    assert len(out) == 300000


def test_bufsize_and_line_buffering(Popen):
    p = Popen(['cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=1, text=True)
    p.stdin.write('line\n')
    assert p.stdout.readline() == 'line\n'
    p.stdin.close()
    p.wait()
    p.stdout.close()


def test_isinstance_subprocess_popen(Popen):
    p = Popen(['true'])
    assert isinstance(p, subprocess.Popen)
    p.wait()


# ---- errors ----

def test_missing_program(Popen):
    with pytest.raises(FileNotFoundError) as ei:
        Popen(['/nonexistent/program'])
    assert ei.value.errno == errno.ENOENT
    assert ei.value.filename == '/nonexistent/program'
    with pytest.raises(FileNotFoundError) as ei:
        Popen(['no-such-program-anywhere'])
    assert ei.value.filename == 'no-such-program-anywhere'


def test_not_executable(Popen, tmp_path):
    f = tmp_path / 'data'
    f.write_text('x')
    with pytest.raises(PermissionError) as ei:
        Popen([str(f)])
    assert ei.value.errno == errno.EACCES
    assert ei.value.filename == str(f)


def test_exec_format_error(Popen, tmp_path):
    f = tmp_path / 'garbage'
    f.write_bytes(b'\x7fELF garbage, not a program')
    f.chmod(0o755)
    with pytest.raises(OSError) as ei:
        Popen([str(f)])
    assert ei.value.errno == errno.ENOEXEC
    assert ei.value.filename == str(f)


def test_bad_cwd(Popen, tmp_path):
    with pytest.raises(FileNotFoundError) as ei:
        Popen(['true'], cwd=tmp_path / 'missing')
    assert ei.value.filename == tmp_path / 'missing'
    f = tmp_path / 'file'
    f.write_text('')
    with pytest.raises(NotADirectoryError) as ei:
        Popen(['true'], cwd=f)
    assert ei.value.errno == errno.ENOTDIR


def test_failed_spawn_leaves_no_fds(Popen):
    before = set(os.listdir('/proc/self/fd'))
    for _ in range(3):
        with pytest.raises(FileNotFoundError):
            Popen(['/nonexistent'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert set(os.listdir('/proc/self/fd')) == before


def test_windows_only_arguments_refused(Popen):
    with pytest.raises(ValueError):
        Popen(['true'], startupinfo=object())
    with pytest.raises(ValueError):
        Popen(['true'], creationflags=1)


def test_text_mode_with_shell_and_pathlike_refused(Popen):
    with pytest.raises(TypeError):
        Popen(pathlib.Path('/bin/true'), shell=True)


def test_large_environment_and_args(Popen):
    env = dict(os.environ, BIG='y' * 100000)
    args = ['sh', '-c', 'echo ${#BIG} $#', 'sh'] + ['a'] * 1000
    p = Popen(args, env=env, stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'100000 1000\n'


def test_no_zombie_after_gc(Popen):
    import gc
    p = Popen(['true'])
    pid = p.pid
    p.wait()
    del p
    gc.collect()
    assert not os.path.exists('/proc/%d' % pid) or open('/proc/%d/stat' % pid).read().split()[2] != 'Z'


def test_fsencoded_args(Popen):
    arg = os.fsdecode(b'\xff-undecodable')
    p = Popen([sys.executable, '-c', 'import sys, os; sys.stdout.buffer.write(os.fsencode(sys.argv[1]))', arg],
              stdout=subprocess.PIPE)
    assert p.communicate()[0] == b'\xff-undecodable'

# SPDX-License-Identifier: MIT
"""What tether.Popen adds: lifecycle keywords, pidfd, backend, exit_info, refusals, run()."""

import errno
import gc
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import tether
from conftest import BACKEND, PY, eventually, needs_lifecycle, proc_status, wait_gone


# ---- refused arguments ----

@pytest.mark.parametrize('kw', [{'preexec_fn': lambda: None}, {'user': 0}, {'group': 0}, {'extra_groups': [0]}])
def test_unsupported_arguments_raise_value_error_naming_them(kw):
    name = next(iter(kw))
    with pytest.raises(ValueError, match=name):
        tether.Popen(['true'], **kw)


def test_all_unsupported_named_at_once():
    with pytest.raises(ValueError) as ei:
        tether.Popen(['true'], preexec_fn=print, user=0)
    assert 'preexec_fn' in str(ei.value) and 'user' in str(ei.value)


def test_preexec_fn_positional_is_refused():
    with pytest.raises(ValueError, match='preexec_fn'):
        tether.Popen(['true'], -1, None, None, None, None, print)


def test_autokill_without_autoreap_refused():
    with pytest.raises(ValueError, match='autoreap'):
        tether.Popen(['true'], autokill=True, autoreap=False)


# ---- attributes ----

def test_pidfd_backend_exit_info():
    p = tether.Popen(['sh', '-c', 'exit 5'])
    assert isinstance(p.pidfd, int) and p.pidfd >= 0
    assert p.backend in ('native', 'emulate')
    assert p.exit_info is None or p.exit_info.exit_code == 5
    p.wait()
    ei = p.exit_info
    assert ei.exited and ei.exit_code == 5 and not ei.signaled and ei.returncode == 5
    assert os.WIFEXITED(ei.status) and os.WEXITSTATUS(ei.status) == 5


def test_exit_info_signal():
    p = tether.Popen(['sleep', '30'])
    p.kill()
    p.wait()
    ei = p.exit_info
    assert ei.signaled and ei.signal == signal.SIGKILL and not ei.exited and ei.returncode == -9
    assert not ei.core_dumped


def test_pidfd_polls_readable_at_exit():
    p = tether.Popen(['sh', '-c', 'read x'], stdin=subprocess.PIPE)
    assert select.select([p.pidfd], [], [], 0)[0] == []
    p.stdin.close()
    assert wait_gone(p.pidfd)
    p.wait()


@needs_lifecycle
def test_backend_follows_tether_backend():
    p = tether.Popen(['true'], autoreap=True)
    p.wait()
    if BACKEND in ('native', 'emulate'):
        assert p.backend == BACKEND
    assert tether.get_backend() == (BACKEND if BACKEND in ('native', 'emulate') else 'auto')


def test_native_backend_without_kernel_support_raises_einval():
    if tether.get_backend() != 'native' or tether.features() & tether.FEATURE_AUTOREAP:
        pytest.skip('needs the native backend on a kernel without CLONE_AUTOREAP')
    with pytest.raises(OSError) as ei:
        tether.Popen(['true'], autoreap=True)
    assert ei.value.errno == errno.EINVAL


def test_release_then_signal_raises_process_lookup_error():
    p = tether.Popen(['sleep', '0.2'])
    p.release()
    assert p.pidfd is None
    with pytest.raises(ProcessLookupError):
        p.send_signal(signal.SIGTERM)
    with pytest.raises(ProcessLookupError):
        p.kill()
    os.waitpid(p.pid, 0)  # an ordinary released child is this process's to reap


def test_release_in_context_manager():
    with tether.Popen(['true'], stdout=subprocess.PIPE) as p:
        p.wait()
        p.release()
    assert p.stdout.closed


def test_reaped_behind_our_back():
    # os.waitpid() steals the status; tether still knows it from the pidfd
    # where the kernel keeps exit info (6.15+), else returncode 0 as subprocess.
    p = tether.Popen(['sh', '-c', 'exit 3'])
    os.waitpid(p.pid, 0)
    rc = p.wait()
    if tether.features() & tether.FEATURE_EXIT_INFO:
        assert rc == 3
    else:
        assert rc == 0


# ---- lifecycle keywords ----

@needs_lifecycle
def test_autoreap_child_invisible_to_waitpid_minus_one():
    p = tether.Popen(['sleep', '0.3'], autoreap=True)
    assert p.autoreap
    assert wait_gone(p.pidfd)
    # Give the kernel (or the emulation) its moment, then: nothing of it to reap
    # (other children of this test process may be there and are fair game).
    time.sleep(0.2)
    seen = []
    try:
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            seen.append(pid)
    except ChildProcessError:
        pass
    assert p.pid not in seen
    assert p.wait() == 0
    assert p.exit_info.exit_code == 0


@needs_lifecycle
def test_autoreap_never_a_zombie():
    p = tether.Popen(['sh', '-c', 'exit 4'], autoreap=True)
    pid = p.pid
    assert wait_gone(p.pidfd)

    def gone_or_not_zombie():
        st = proc_status(pid)
        return st is None or not st['State'].startswith('Z') or st['Tgid'] != str(pid)
    assert eventually(gone_or_not_zombie)
    assert p.wait() == 4


@needs_lifecycle
def test_autoreap_ordinary_children_stay_waitable():
    a = tether.Popen(['sleep', '0.2'], autoreap=True)
    b = subprocess.Popen(['sh', '-c', 'exit 9'])
    assert b.wait() == 9  # os.waitpid(b.pid) of the ordinary child
    assert a.wait() == 0


@needs_lifecycle
def test_autoreap_signal_disposition_untouched():
    before = signal.getsignal(signal.SIGCHLD)
    p = tether.Popen(['true'], autoreap=True, nnp=True, autokill=True)
    p.wait()
    assert signal.getsignal(signal.SIGCHLD) == before


@needs_lifecycle
@pytest.mark.parametrize('nnp', [True, False])
def test_nnp_visible_in_proc_status(nnp):
    p = tether.Popen(['sh', '-c', 'grep ^NoNewPrivs: /proc/self/status; read x'], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, nnp=nnp, autoreap=True)
    # From outside too, while it runs.
    assert eventually(lambda: proc_status(p.pid) is not None)
    outside = proc_status(p.pid)['NoNewPrivs']
    out, _ = p.communicate(b'\n')
    assert out.split() == [b'NoNewPrivs:', b'1' if nnp else b'0']
    assert outside == ('1' if nnp else '0')
    with open('/proc/self/status') as f:
        assert 'NoNewPrivs:\t0' in f.read()  # ours is unchanged


@needs_lifecycle
def test_autokill_on_release_and_gc():
    p = tether.Popen(['sleep', '60'], autokill=True, nnp=True)
    assert p.autoreap and p.autokill
    watch = os.pidfd_open(p.pid)
    try:
        p.release()
        assert wait_gone(watch)
    finally:
        os.close(watch)
    p = tether.Popen(['sleep', '60'], autokill=True, nnp=True)
    watch = os.pidfd_open(p.pid)
    try:
        with pytest.warns(ResourceWarning):
            del p
            gc.collect()
        assert wait_gone(watch)
    finally:
        os.close(watch)


@needs_lifecycle
def test_autokill_fd_dup_extends_life():
    p = tether.Popen(['sleep', '60'], autokill=True, nnp=True)
    extra = os.dup(p.autokill_fd())
    watch = os.pidfd_open(p.pid)
    try:
        p.release()
        assert not wait_gone(watch, 0.5)  # the dup keeps it alive
        os.close(extra)
        extra = -1
        assert wait_gone(watch)
    finally:
        if extra >= 0:
            os.close(extra)
        os.close(watch)


def test_autokill_fd_without_autokill():
    p = tether.Popen(['true'])
    with pytest.raises(FileNotFoundError):
        p.autokill_fd()
    p.wait()


@needs_lifecycle
def test_autokill_holds_when_python_is_sigkilled(own_pids):
    """The Python process that owns an autokill child is SIGKILLed: the child dies with it."""
    helper = textwrap.dedent('''
        import sys, time, tether
        p = tether.Popen(['sleep', '120'], autokill=True, nnp=True)
        print(p.pid, flush=True)
        time.sleep(120)
    ''')
    h = subprocess.Popen([PY, '-c', helper], stdout=subprocess.PIPE, env=dict(os.environ))
    own_pids.add(h.pid)
    try:
        line = h.stdout.readline()
        assert line, 'the helper printed no pid'
        grandchild = int(line)
        watch = os.pidfd_open(grandchild)
        try:
            assert not wait_gone(watch, 0.2)
            own_pids.kill(h.pid, signal.SIGKILL)
            assert h.wait() == -signal.SIGKILL
            assert wait_gone(watch), 'the autokill child outlived its SIGKILLed owner'
        finally:
            os.close(watch)
    finally:
        if h.poll() is None:
            own_pids.kill(h.pid, signal.SIGKILL)
            h.wait()
        h.stdout.close()


@needs_lifecycle
def test_without_autokill_child_outlives_sigkilled_python(own_pids):
    """The control: the same child without autokill survives its owner (so the test above means something)."""
    helper = textwrap.dedent('''
        import sys, time, tether
        p = tether.Popen(['sleep', '120'], autoreap=True)
        print(p.pid, flush=True)
        time.sleep(120)
    ''')
    h = subprocess.Popen([PY, '-c', helper], stdout=subprocess.PIPE, start_new_session=True)
    own_pids.add(h.pid)
    try:
        grandchild = own_pids.add(int(h.stdout.readline()))
        watch = os.pidfd_open(grandchild)
        try:
            own_pids.kill(h.pid, signal.SIGKILL)
            h.wait()
            assert not wait_gone(watch, 0.5)
            own_pids.kill(grandchild, signal.SIGKILL)
            assert wait_gone(watch)
        finally:
            os.close(watch)
    finally:
        if h.poll() is None:
            own_pids.kill(h.pid, signal.SIGKILL)
            h.wait()
        h.stdout.close()


@needs_lifecycle
def test_lifecycle_keywords_with_pipes_and_run():
    r = tether.run(['sh', '-c', 'cat; grep ^NoNewPrivs: /proc/self/status'], input=b'in\n',
                   capture_output=True, autokill=True, nnp=True)
    assert r.returncode == 0
    assert r.stdout.split() == [b'in', b'NoNewPrivs:', b'1']


# ---- run / call / check_* ----

def test_run_timeout_kills_child():
    t0 = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        tether.run(['sleep', '30'], timeout=0.3)
    assert time.monotonic() - t0 < 20


@needs_lifecycle
def test_run_timeout_kills_autokill_child():
    with pytest.raises(subprocess.TimeoutExpired):
        tether.run(['sleep', '30'], timeout=0.3, autokill=True, nnp=True)


def test_run_check_and_capture():
    r = tether.run(['sh', '-c', 'echo out; echo err >&2; exit 2'], capture_output=True, text=True)
    assert (r.returncode, r.stdout, r.stderr) == (2, 'out\n', 'err\n')
    with pytest.raises(subprocess.CalledProcessError) as ei:
        tether.run(['sh', '-c', 'exit 2'], check=True)
    assert ei.value.returncode == 2
    with pytest.raises(ValueError):
        tether.run(['true'], input=b'', stdin=subprocess.PIPE)
    with pytest.raises(ValueError):
        tether.run(['true'], capture_output=True, stdout=subprocess.PIPE)


def test_call_check_call_check_output():
    assert tether.call(['sh', '-c', 'exit 4']) == 4
    assert tether.check_call(['true']) == 0
    with pytest.raises(subprocess.CalledProcessError) as ei:
        tether.check_call(['false'])
    assert ei.value.cmd == ['false']
    assert tether.check_output(['echo', 'x']) == b'x\n'
    assert tether.check_output(['cat'], input='t', text=True) == 't'
    assert tether.check_output(['cat'], input=None) == b''
    with pytest.raises(ValueError):
        tether.check_output(['true'], stdout=subprocess.PIPE)
    with pytest.raises(subprocess.TimeoutExpired):
        tether.check_output(['sleep', '30'], timeout=0.2)
    with pytest.raises(subprocess.TimeoutExpired):
        tether.call(['sleep', '30'], timeout=0.2)


def test_getoutput():
    assert tether.getstatusoutput('echo hi; exit 3') == (3, 'hi')
    assert tether.getoutput('echo hi') == 'hi'


@pytest.mark.parametrize('impl', ['subprocess', 'tether'])
def test_module_functions_identical(impl):
    mod = subprocess if impl == 'subprocess' else tether
    r = mod.run(['sh', '-c', 'printf "%s" "$0"; exit 1', 'a b'], stdout=subprocess.PIPE)
    assert (r.args, r.returncode, r.stdout, r.stderr) == (['sh', '-c', 'printf "%s" "$0"; exit 1', 'a b'], 1,
                                                          b'a b', None)
    assert repr(r).startswith('CompletedProcess(')


def test_module_interface():
    for name in tether.__all__:
        obj = getattr(tether, name)
        if getattr(obj, '__module__', '').startswith('tether') and callable(obj):
            assert obj.__doc__, name
    for name in ('pidfd', 'backend', 'exit_info', 'release', 'autokill_fd'):
        assert getattr(tether.Popen, name).__doc__, name
    assert tether.__version__.count('.') == 2
    assert 'clone3' in tether.feature_names()
    assert tether.backend_for(0) in ('native', 'emulate')


def test_spawn_throughput_sanity():
    # Many children in a row leave no descriptors and no zombies behind.
    before = set(os.listdir('/proc/self/fd'))
    for _ in range(200):
        tether.Popen(['true']).wait()
    assert set(os.listdir('/proc/self/fd')) == before


def test_threads_spawn_concurrently():
    import threading
    errors = []

    def worker():
        try:
            for _ in range(30):
                out = tether.check_output(['echo', 'x'])
                assert out == b'x\n'
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    ts = [threading.Thread(target=worker) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert errors == []

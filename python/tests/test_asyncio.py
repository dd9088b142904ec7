# SPDX-License-Identifier: MIT
"""tether.asyncio: processes waited for through the pidfd, no child watcher, no SIGCHLD handler."""

import asyncio
import os
import signal
import subprocess
import threading

import pytest

import tether
import tether.asyncio
from conftest import needs_lifecycle, wait_gone

IMPLS = [pytest.param(asyncio.create_subprocess_exec, id='asyncio'),
         pytest.param(tether.asyncio.create_subprocess_exec, id='tether')]


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize('create', IMPLS)
def test_communicate_identical(create):
    async def main():
        p = await create('sh', '-c', 'cat; echo err >&2; exit 3', stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await p.communicate(b'data')
        return out, err, p.returncode
    assert run(main()) == (b'data', b'err\n', 3)


@pytest.mark.parametrize('create', IMPLS)
def test_streams_and_kill_identical(create):
    async def main():
        p = await create('sh', '-c', 'echo ready; exec sleep 30', stdout=subprocess.PIPE)
        assert await p.stdout.readline() == b'ready\n'
        assert p.returncode is None
        p.kill()
        rc = await p.wait()
        await p.stdout.read()
        return rc
    assert run(main()) == -signal.SIGKILL


@pytest.mark.parametrize('create', IMPLS)
def test_signal_after_end_raises_process_lookup_error(create):
    async def main():
        p = await create('true')
        await p.wait()
        await asyncio.sleep(0.05)  # let the transport finish (pipes closed, connection lost)
        with pytest.raises(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        with pytest.raises(ProcessLookupError):
            p.kill()
    run(main())


@pytest.mark.parametrize('create', IMPLS)
def test_missing_program_identical(create):
    async def main():
        with pytest.raises(FileNotFoundError) as ei:
            await create('/nonexistent/prog')
        return ei.value.filename
    assert run(main()) == '/nonexistent/prog'


@pytest.mark.parametrize('create', IMPLS)
def test_wait_for_timeout_identical(create):
    async def main():
        p = await create('sleep', '30')
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(p.wait(), 0.2)
        p.terminate()
        return await p.wait()
    assert run(main()) == -signal.SIGTERM


def test_no_child_watcher_no_sigchld_handler_no_thread(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError('a child watcher was asked for')
    monkeypatch.setattr(asyncio, 'get_child_watcher', refuse)
    monkeypatch.setattr(asyncio.events, 'get_child_watcher', refuse)
    before = signal.getsignal(signal.SIGCHLD)

    async def main():
        threads = threading.active_count()
        ps = [await tether.asyncio.create_subprocess_exec('sh', '-c', 'exit %d' % i) for i in range(5)]
        assert threading.active_count() == threads
        rcs = await asyncio.gather(*(p.wait() for p in ps))
        assert threading.active_count() == threads
        assert signal.getsignal(signal.SIGCHLD) == before
        return rcs, [p.exit_info.exit_code for p in ps]
    assert run(main()) == ([0, 1, 2, 3, 4], [0, 1, 2, 3, 4])


def test_attributes_and_shell():
    async def main():
        p = await tether.asyncio.create_subprocess_shell('echo $((2+3))', stdout=subprocess.PIPE)
        assert isinstance(p.pidfd, int)
        assert p.backend in ('native', 'emulate')
        assert isinstance(p.popen, tether.Popen)
        out, _ = await p.communicate()
        return out, p.exit_info.exited
    assert run(main()) == (b'5\n', True)


def test_binary_mode_only():
    async def main():
        with pytest.raises(ValueError):
            await tether.asyncio.create_subprocess_exec('true', text=True)
        with pytest.raises(ValueError):
            await tether.asyncio.create_subprocess_shell(['true'])
    run(main())


def test_many_concurrent():
    async def main():
        ps = [await tether.asyncio.create_subprocess_exec('sh', '-c', 'echo $$', stdout=subprocess.PIPE)
              for _ in range(50)]
        outs = await asyncio.gather(*(p.communicate() for p in ps))
        return [int(o[0]) == p.pid for o, p in zip(outs, ps)], [p.returncode for p in ps]
    ok, rcs = run(main())
    assert all(ok) and rcs == [0] * 50


@needs_lifecycle
def test_lifecycle_keywords():
    async def main():
        p = await tether.asyncio.create_subprocess_exec(
            'grep', '^NoNewPrivs:', '/proc/self/status', stdout=subprocess.PIPE,
            autoreap=True, nnp=True, autokill=True)
        out, _ = await p.communicate()
        return out.split(), p.returncode
    assert run(main()) == ([b'NoNewPrivs:', b'1'], 0)


@needs_lifecycle
def test_autokill_when_loop_closes_transport():
    async def main():
        p = await tether.asyncio.create_subprocess_exec('sleep', '60', autokill=True, nnp=True)
        watch = os.pidfd_open(p.pid)
        p._transport.close()  # what asyncio does to a process it abandons: kill
        try:
            assert await asyncio.get_running_loop().run_in_executor(None, wait_gone, watch)
        finally:
            os.close(watch)
        return await p.wait()
    assert run(main()) == -signal.SIGKILL

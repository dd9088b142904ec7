# SPDX-License-Identifier: MIT
"""asyncio subprocesses that are waited for through their pidfd.

    proc = await tether.asyncio.create_subprocess_exec('sleep', '1', autokill=True)
    await proc.wait()

asyncio's own subprocess support learns of a child's exit from a child
watcher: a thread per child blocked in waitpid(), or a SIGCHLD handler, or
(3.9+, opt-in) a pidfd. Here the child is a tether.Popen, and its pidfd is
registered with loop.add_reader(): the loop wakes when the child ends, with
no thread, no signal handler and no watcher, and the lifecycle keywords
(autoreap=, nnp=, autokill=) work as in tether.Popen.

The transport is asyncio's own BaseSubprocessTransport (pipes, protocols,
close() killing a running child) and the process object asyncio's own
Process, so both behave exactly as asyncio's, e.g. send_signal() raises
ProcessLookupError once the process has ended and its pipes are closed.
Needs a loop with add_reader() (the default selector loops on Linux).
"""

import asyncio as _asyncio
import subprocess as _subprocess
from asyncio import base_subprocess as _base_subprocess
from asyncio import streams as _streams
from asyncio import subprocess as _aio_subprocess

from . import _popen

__all__ = ['create_subprocess_exec', 'create_subprocess_shell', 'subprocess_exec', 'subprocess_shell',
           'Process', 'PIPE', 'STDOUT', 'DEVNULL']

PIPE = _subprocess.PIPE
STDOUT = _subprocess.STDOUT
DEVNULL = _subprocess.DEVNULL


class _PidfdSubprocessTransport(_base_subprocess.BaseSubprocessTransport):
    """asyncio's subprocess transport with a tether.Popen, its exit seen through the pidfd."""

    def _start(self, args, shell, stdin, stdout, stderr, bufsize, **kwargs):
        self._proc = _popen.Popen(args, shell=shell, stdin=stdin, stdout=stdout, stderr=stderr,
                                  universal_newlines=False, bufsize=bufsize, **kwargs)
        self._pidfd = self._proc.pidfd
        # The Popen rides along with the callback: its pidfd stays open as
        # long as the selector knows the number.
        self._loop.add_reader(self._pidfd, self._pidfd_readable, self._proc)

    def _pidfd_readable(self, proc):
        returncode = proc.poll()  # readable: the child has ended; this collects it
        if returncode is None:
            return  # not yet (level-triggered: called again)
        self._loop.remove_reader(self._pidfd)
        if self._returncode is None:
            self._process_exited(returncode)

    @property
    def popen(self):
        """The tether.Popen behind this transport."""
        return self._proc


class Process(_aio_subprocess.Process):
    """asyncio.subprocess.Process with tether's attributes: pidfd, backend, exit_info, popen.

    wait(), communicate(), send_signal(), terminate(), kill(), pid,
    returncode, stdin/stdout/stderr are asyncio's (the streams are
    StreamWriter/StreamReader).
    """

    @property
    def popen(self):
        """The tether.Popen that runs the child (the transport's 'subprocess' extra info)."""
        return self._transport.get_extra_info('subprocess')

    @property
    def pidfd(self):
        """The child's pidfd (int) while the Popen holds it, else None."""
        return self.popen.pidfd

    @property
    def backend(self):
        """'native' or 'emulate': which implementation served the lifecycle flags."""
        return self.popen.backend

    @property
    def exit_info(self):
        """tether.ExitInfo of the ended child, or None while it runs."""
        return self.popen.exit_info


async def _make_transport(loop, protocol, args, shell, stdin, stdout, stderr, bufsize, **kwargs):
    waiter = loop.create_future()
    transport = _PidfdSubprocessTransport(loop, protocol, args, shell, stdin, stdout, stderr, bufsize,
                                          waiter=waiter, **kwargs)
    try:
        await waiter
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        transport.close()
        await transport._wait()
        raise
    return transport


def _check_binary_mode(universal_newlines, bufsize, text, encoding, errors):
    # The same refusals as loop.subprocess_exec()/subprocess_shell().
    if universal_newlines:
        raise ValueError('universal_newlines must be False')
    if bufsize != 0:
        raise ValueError('bufsize must be 0')
    if text:
        raise ValueError('text must be False')
    if encoding is not None:
        raise ValueError('encoding must be None')
    if errors is not None:
        raise ValueError('errors must be None')


async def subprocess_exec(loop, protocol_factory, program, *args, stdin=PIPE, stdout=PIPE, stderr=PIPE,
                          universal_newlines=False, shell=False, bufsize=0, encoding=None, errors=None,
                          text=None, **kwargs):
    """loop.subprocess_exec() with a tether.Popen child: returns (transport, protocol).

    kwargs go to tether.Popen (cwd, env, pass_fds, autoreap, nnp, autokill, ...).
    Exec errors raise as in tether.Popen (FileNotFoundError, ...).
    """
    if shell:
        raise ValueError('shell must be False')
    _check_binary_mode(universal_newlines, bufsize, text, encoding, errors)
    protocol = protocol_factory()
    transport = await _make_transport(loop, protocol, (program,) + args, False, stdin, stdout, stderr,
                                      bufsize, **kwargs)
    return transport, protocol


async def subprocess_shell(loop, protocol_factory, cmd, *, stdin=PIPE, stdout=PIPE, stderr=PIPE,
                           universal_newlines=False, shell=True, bufsize=0, encoding=None, errors=None,
                           text=None, **kwargs):
    """loop.subprocess_shell() with a tether.Popen child: cmd (str or bytes) run by /bin/sh."""
    if not isinstance(cmd, (bytes, str)):
        raise ValueError('cmd must be a string')
    if not shell:
        raise ValueError('shell must be True')
    _check_binary_mode(universal_newlines, bufsize, text, encoding, errors)
    protocol = protocol_factory()
    transport = await _make_transport(loop, protocol, cmd, True, stdin, stdout, stderr, bufsize, **kwargs)
    return transport, protocol


async def create_subprocess_exec(program, *args, stdin=None, stdout=None, stderr=None,
                                 limit=_streams._DEFAULT_LIMIT, **kwds):
    """asyncio.create_subprocess_exec() with a tether.Popen child; returns a Process.

    program, args: str/bytes/path-like. stdin/stdout/stderr: None, PIPE
    (then StreamWriter/StreamReader), DEVNULL, STDOUT (stderr), a file
    descriptor or file object. limit: the StreamReader buffer limit (bytes).
    Other keywords go to tether.Popen (autoreap, nnp, autokill, cwd, env,
    pass_fds, start_new_session, ...). The process's wait() completes when
    its pidfd polls readable. Raises as tether.Popen (FileNotFoundError, ...).
    """
    loop = _asyncio.get_running_loop()
    transport, protocol = await subprocess_exec(
        loop, lambda: _aio_subprocess.SubprocessStreamProtocol(limit=limit, loop=loop),
        program, *args, stdin=stdin, stdout=stdout, stderr=stderr, **kwds)
    return Process(transport, protocol, loop)


async def create_subprocess_shell(cmd, stdin=None, stdout=None, stderr=None,
                                  limit=_streams._DEFAULT_LIMIT, **kwds):
    """asyncio.create_subprocess_shell() with a tether.Popen child; returns a Process.

    cmd: str or bytes, run by /bin/sh -c. Otherwise as create_subprocess_exec().
    """
    loop = _asyncio.get_running_loop()
    transport, protocol = await subprocess_shell(
        loop, lambda: _aio_subprocess.SubprocessStreamProtocol(limit=limit, loop=loop),
        cmd, stdin=stdin, stdout=stdout, stderr=stderr, **kwds)
    return Process(transport, protocol, loop)

# SPDX-License-Identifier: MIT
"""tether.Popen and the subprocess-style functions around it.

tether.Popen is subprocess.Popen with a different way of creating and
waiting for the child: tether_spawn() (a vfork-style clone3() that also
sets CLONE_AUTOREAP, CLONE_NNP and CLONE_PIDFD_AUTOKILL, natively or
emulated) and the child's pidfd. Everything else - pipes, text mode,
communicate(), the context manager - is subprocess.Popen's own code, so the
two behave alike wherever tether does not add something.
"""

import collections
import errno as _errno
import fcntl
import os
import signal
import subprocess
import sys
import warnings

from subprocess import (  # noqa: F401  (re-exported: tether is a drop-in)
    PIPE, STDOUT, DEVNULL, CalledProcessError, CompletedProcess, SubprocessError, TimeoutExpired)

from . import _tether

__all__ = ['Popen', 'ExitInfo', 'run', 'call', 'check_call', 'check_output', 'getoutput',
           'getstatusoutput', 'PIPE', 'STDOUT', 'DEVNULL', 'CalledProcessError', 'CompletedProcess',
           'SubprocessError', 'TimeoutExpired']

# Signals the Python runtime ignores at start-up and subprocess puts back to
# SIG_DFL in the child when restore_signals is true (CPython's
# _Py_RestoreSignals: SIGPIPE, SIGXFZ where it exists, SIGXFSZ).
_RESTORE_SIGNALS = tuple(getattr(signal, name) for name in ('SIGPIPE', 'SIGXFZ', 'SIGXFSZ')
                         if hasattr(signal, name))

# Popen arguments tether_spawn() cannot honour (yet): refused, never ignored.
_UNSUPPORTED = ('preexec_fn', 'user', 'group', 'extra_groups')


class ExitInfo(collections.namedtuple('ExitInfo', (
        'status', 'exited', 'exit_code', 'signaled', 'signal', 'core_dumped',
        'coredump_mask', 'coredump_signal', 'coredump_code'))):
    """How a child ended (tether_child_wait()'s struct tether_exit_info).

    status: the wait status (int; os.WIFEXITED() and friends apply).
    exited, exit_code: ended by exit(); exit_code 0..255, 0 when not exited.
    signaled, signal: killed by a signal; signal number, 0 when not signaled.
    core_dumped: the wait status says a core was dumped.
    coredump_mask: PIDFD_COREDUMPED/_SKIP/_USER/_ROOT bits (int), or None
        when the kernel did not report it.
    coredump_signal: the signal that caused the dump, or None if unknown.
    coredump_code: that signal's si_code (e.g. SEGV_MAPERR, SI_TKILL for
        abort()), or None if unknown (reported natively from Linux 7.1).
    """
    __slots__ = ()

    @property
    def returncode(self):
        """subprocess's convention: exit_code, or -signal when signaled."""
        return -self.signal if self.signaled else self.exit_code


class Popen(subprocess.Popen):
    """subprocess.Popen whose child is created by tether_spawn() and known by its pidfd.

    Every argument of subprocess.Popen works as there, except the ones that
    would run Python code or change credentials in the child (preexec_fn,
    user, group, extra_groups): they raise ValueError naming them.

    Extra keyword arguments (Linux 7.1's clone3() flags; emulated where the
    kernel lacks them, see tether.get_backend()):

    autoreap (bool or None): the kernel reaps the child the moment it exits;
        it never is a zombie and os.wait()/os.waitpid(-1) never see it. Its
        exit status still comes from wait()/poll() through the pidfd. None
        (the default) means "as autokill".
    nnp (bool): the child starts with no_new_privs set (setuid bits and file
        capabilities do nothing at its execs). Default False.
    autokill (bool): the child is SIGKILLed when the last reference to its
        autokill file goes: when this Popen is released or garbage-collected,
        or when the Python process ends in any way, SIGKILL included.
        Needs autoreap, and nnp unless the process has CAP_SYS_ADMIN
        (PermissionError otherwise). Default False.

    Extra attributes: pidfd (int or None), backend ('native'/'emulate'),
    exit_info (ExitInfo or None while running), autoreap, nnp, autokill.

    Errors: as subprocess - FileNotFoundError/PermissionError/OSError with
    the errno of the failed exec (filename: the program) or of a failed
    chdir(cwd) (filename: cwd); OSError (EINVAL) when a native-only backend
    meets a kernel without the flags.

    Signals go through the pidfd, never to a reused pid. As with
    subprocess.Popen, send_signal()/terminate()/kill() do nothing once the
    child is known to have ended; after release() they raise
    ProcessLookupError.
    """

    def __init__(self, args, bufsize=-1, executable=None,
                 stdin=None, stdout=None, stderr=None,
                 preexec_fn=None, close_fds=True,
                 shell=False, cwd=None, env=None, universal_newlines=None,
                 startupinfo=None, creationflags=0,
                 restore_signals=True, start_new_session=False,
                 pass_fds=(), *, user=None, group=None, extra_groups=None,
                 encoding=None, errors=None, text=None, umask=-1, pipesize=-1,
                 process_group=None, autoreap=None, nnp=False, autokill=False):
        given = {'preexec_fn': preexec_fn, 'user': user, 'group': group, 'extra_groups': extra_groups}
        refused = [name for name in _UNSUPPORTED if given[name] is not None]
        if refused:
            raise ValueError('tether.Popen does not support %s: tether_spawn() runs no Python code '
                             'and changes no credentials in the child'
                             % ', '.join(refused))
        autokill = bool(autokill)
        if autoreap is None:
            autoreap = autokill
        autoreap = bool(autoreap)
        nnp = bool(nnp)
        if autokill and not autoreap:
            raise ValueError('autokill=True needs autoreap (the kernel refuses CLONE_PIDFD_AUTOKILL '
                             'without CLONE_AUTOREAP)')
        self.autoreap = autoreap
        self.nnp = nnp
        self.autokill = autokill
        self._tether_flags = ((_tether.CLONE_AUTOREAP if autoreap else 0) |
                              (_tether.CLONE_NNP if nnp else 0) |
                              (_tether.CLONE_PIDFD_AUTOKILL if autokill else 0))
        self._child = None
        self._exit_info = None
        self._released = False
        super().__init__(args, bufsize=bufsize, executable=executable,
                         stdin=stdin, stdout=stdout, stderr=stderr,
                         preexec_fn=None, close_fds=close_fds, shell=shell, cwd=cwd, env=env,
                         universal_newlines=universal_newlines, startupinfo=startupinfo,
                         creationflags=creationflags, restore_signals=restore_signals,
                         start_new_session=start_new_session, pass_fds=pass_fds,
                         encoding=encoding, errors=errors, text=text, umask=umask,
                         pipesize=pipesize, process_group=process_group)

    # ---- what tether adds ----

    @property
    def pidfd(self):
        """The child's pidfd (int), owned by this object: poll it, do not close it. None once released."""
        child = self._child
        return child.pidfd if child is not None else None

    @property
    def backend(self):
        """'native' (the kernel's flags) or 'emulate' (tether's emulation); None if no child was created."""
        child = self._child
        return child.backend if child is not None else None

    @property
    def exit_info(self):
        """ExitInfo of the ended child (exit code or signal, core dump details), or None while unknown."""
        return self._exit_info

    def autokill_fd(self):
        """The descriptor whose last close kills an autokill child (int, owned by this object).

        dup() it, pass it to another process (inheritance, SCM_RIGHTS): the
        child then lives until every copy is closed. FileNotFoundError
        without autokill; ValueError after release().
        """
        if self._child is None:
            raise ValueError('no child handle')
        return self._child.autokill_fd()

    def release(self):
        """Drop the child's handle (closes the pidfd) without waiting.

        An autokill child is killed now unless another copy of its autokill
        file exists; an autoreap child runs on and is reaped by the kernel;
        an ordinary child that still runs becomes a plain child of this
        process (os.wait() can reap it). Afterwards pidfd is None, wait() and
        poll() can no longer learn the status (returncode stays as it was)
        and send_signal() raises ProcessLookupError. Idempotent.
        """
        child = self._child
        self._released = True
        if child is not None:
            child.release()

    def __exit__(self, exc_type, value, traceback):
        if self._released:
            # Nothing to wait for any more: just close the pipes.
            for f in (self.stdout, self.stderr, self.stdin):
                if f:
                    try:
                        f.close()
                    except BrokenPipeError:
                        pass
            return
        return super().__exit__(exc_type, value, traceback)

    # ---- subprocess.Popen's hooks ----

    def _execute_child(self, args, executable, preexec_fn, close_fds,
                       pass_fds, cwd, env,
                       startupinfo, creationflags, shell,
                       p2cread, p2cwrite,
                       c2pread, c2pwrite,
                       errread, errwrite,
                       restore_signals,
                       gid, gids, uid, umask,
                       start_new_session, process_group):
        """Start the child with tether_spawn() (POSIX version of subprocess's hook)."""
        if isinstance(args, (str, bytes)):
            args = [args]
        elif isinstance(args, os.PathLike):
            if shell:
                raise TypeError('path-like args is not allowed when shell is true')
            args = [args]
        else:
            args = list(args)

        if shell:
            args = ['/bin/sh', '-c'] + args
            if executable:
                args[0] = executable

        if executable is None:
            executable = args[0]

        sys.audit('subprocess.Popen', executable, args, cwd, env)
        if preexec_fn is not None or gid is not None or gids is not None or uid is not None:
            raise ValueError('tether.Popen does not support preexec_fn, user, group or extra_groups')
        if start_new_session and process_group is not None and process_group >= 0:
            # subprocess's child calls setsid() and then setpgid(), which a
            # session leader may not (EPERM); tether_spawn refuses the pair
            # before any child exists (EINVAL). The same error as there.
            raise PermissionError(_errno.EPERM, os.strerror(_errno.EPERM))

        orig_executable = executable
        temp_fds = []
        try:
            if env is not None:
                env_list = []
                for k, v in env.items():
                    k = os.fsencode(k)
                    if b'=' in k:
                        raise ValueError('illegal environment variable name')
                    env_list.append(k + b'=' + os.fsencode(v))
            else:
                env_list = None
            executable = os.fsencode(executable)
            # A name without '/' is looked up in the child, as
            # _posixsubprocess tries each candidate: in env's PATH when env
            # is given (TETHER_SPAWN_SEARCH_ENVP_PATH; os.get_exec_path(env)
            # with its default when env has none), else in this process's.
            search_path = not os.path.dirname(executable)
            path_from_envp = search_path and env is not None

            # Standard descriptors: the same care as _posixsubprocess
            # (bpo-12607): a pipe end that is itself 0 or 1 would be
            # overwritten by an earlier dup2, so it moves out of the way first.
            if c2pwrite == 0:
                c2pwrite = fcntl.fcntl(c2pwrite, fcntl.F_DUPFD_CLOEXEC, 3)
                temp_fds.append(c2pwrite)
            if errwrite in (0, 1):
                errwrite = fcntl.fcntl(errwrite, fcntl.F_DUPFD_CLOEXEC, 3)
                temp_fds.append(errwrite)

            actions = []
            keep = sorted(set(map(int, pass_fds)))
            for fd in keep:
                actions.append((_tether.ACT_DUP2, fd, fd))  # inherited across exec
            for fd, target in ((p2cread, 0), (c2pwrite, 1), (errwrite, 2)):
                if fd != -1:
                    actions.append((_tether.ACT_DUP2, fd, target))
            if close_fds:
                actions.append((_tether.ACT_CLOSE_ALL_BUT, keep))
            if cwd is not None:
                actions.append((_tether.ACT_CHDIR, cwd))

            try:
                child = _tether.spawn(
                    executable, args, env_list, actions,
                    flags=self._tether_flags,
                    search_path=search_path,
                    path_from_envp=path_from_envp,
                    setsid=bool(start_new_session),
                    pgroup=process_group if process_group is not None and process_group >= 0 else -1,
                    umask=umask,
                    sigdefault=_RESTORE_SIGNALS if restore_signals else ())
            except OSError as e:
                stage = getattr(e, 'stage', None)
                if stage == _tether.STAGE_EXEC:
                    filename = orig_executable
                elif stage == _tether.STAGE_CHILD:
                    filename = cwd  # _posixsubprocess: "noexec" errors are chdir(cwd)'s
                else:
                    if self._tether_flags and e.errno == _errno.EINVAL:
                        raise OSError(e.errno, '%s (lifecycle flags refused; backend %s)' % (
                            os.strerror(e.errno), _tether.get_backend())) from None
                    raise OSError(e.errno, os.strerror(e.errno)) from None
                raise OSError(e.errno, os.strerror(e.errno), filename) from None
            self._child = child
            self.pid = child.pid
            self._child_created = True
        finally:
            for fd in temp_fds:
                os.close(fd)
            self._close_pipe_fds(p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite)

    def _record_exit(self, info):
        ei = ExitInfo(*info)
        self._exit_info = ei
        self.returncode = -ei.signal if ei.signaled else ei.exit_code

    def _internal_poll(self, _deadstate=None, _ECHILD=_errno.ECHILD, _ValueError=ValueError):
        """poll() without waiting, through the pidfd. Also called from __del__."""
        if self.returncode is None:
            child = self._child
            if child is None or child.released:
                return None
            try:
                info = child.wait(0)
            except _ValueError:  # released by another thread meanwhile
                return None
            except OSError as e:
                if _deadstate is not None:
                    self.returncode = _deadstate
                elif e.errno == _ECHILD:
                    # Reaped behind our back (os.waitpid(-1), SIGCHLD ignored)
                    # and the kernel keeps no exit info: as subprocess does.
                    self.returncode = 0
                return self.returncode
            if info is not None:
                self._record_exit(info)
        return self.returncode

    def _wait(self, timeout):
        """wait()'s work: poll the pidfd (interruptible), then collect the exit."""
        if self.returncode is not None:
            return self.returncode
        child = self._child
        if child is None or child.released:
            raise ValueError('the child handle has been released: its exit status is unknown')
        try:
            info = child.wait(timeout)
        except ChildProcessError:
            self.returncode = 0  # as subprocess: reaped elsewhere, status lost
            return self.returncode
        if info is None:
            raise TimeoutExpired(self.args, timeout)
        self._record_exit(info)
        return self.returncode

    def send_signal(self, sig):
        """Send signal sig to the child through its pidfd.

        Does nothing when the child is known to have ended (as
        subprocess.Popen); raises ProcessLookupError after release().
        """
        self.poll()
        if self.returncode is not None:
            return
        child = self._child
        if child is None or child.released:
            raise ProcessLookupError(_errno.ESRCH, os.strerror(_errno.ESRCH))
        try:
            child.send_signal(sig)
        except ProcessLookupError:
            pass  # ended just now: as subprocess (bpo-40550)

    def __del__(self, _maxsize=sys.maxsize, _warn=warnings.warn):
        if not self._child_created:
            return
        if self.returncode is None and not self._released:
            _warn('subprocess %s is still running' % self.pid, ResourceWarning, source=self)
        self._internal_poll(_deadstate=_maxsize)
        # An ordinary child that still runs is kept, with its handle, for
        # subprocess's _cleanup() to collect later, as subprocess does. An
        # autoreap child needs nobody: the handle goes with this object (and
        # an autokill child with it).
        if self.returncode is None and not self.autoreap and not self._released:
            active = getattr(subprocess, '_active', None)
            if active is not None:
                active.append(self)


def call(*popenargs, timeout=None, **kwargs):
    """Run a command, wait for it, return its returncode (subprocess.call with tether.Popen).

    timeout (seconds): on expiry the child is killed (SIGKILL through the
    pidfd) and TimeoutExpired raised. Popen's extra keywords (autoreap, nnp,
    autokill) apply.
    """
    with Popen(*popenargs, **kwargs) as p:
        try:
            return p.wait(timeout=timeout)
        except:  # noqa: E722  Including KeyboardInterrupt, wait handled that.
            p.kill()
            raise


def check_call(*popenargs, **kwargs):
    """call(), raising CalledProcessError for a nonzero returncode; returns 0."""
    retcode = call(*popenargs, **kwargs)
    if retcode:
        cmd = kwargs.get('args')
        if cmd is None:
            cmd = popenargs[0]
        raise CalledProcessError(retcode, cmd)
    return 0


def check_output(*popenargs, timeout=None, **kwargs):
    """run(..., stdout=PIPE, check=True).stdout: the command's output (bytes, or str in text mode).

    Raises CalledProcessError for a nonzero returncode, TimeoutExpired (the
    child killed) after timeout seconds.
    """
    for kw in ('stdout', 'check'):
        if kw in kwargs:
            raise ValueError(f'{kw} argument not allowed, it will be overridden.')
    if 'input' in kwargs and kwargs['input'] is None:
        if (kwargs.get('universal_newlines') or kwargs.get('text') or kwargs.get('encoding')
                or kwargs.get('errors')):
            empty = ''
        else:
            empty = b''
        kwargs['input'] = empty
    return run(*popenargs, stdout=PIPE, timeout=timeout, check=True, **kwargs).stdout


def run(*popenargs, input=None, capture_output=False, timeout=None, check=False, **kwargs):
    """Run a command and return a CompletedProcess (subprocess.run with tether.Popen).

    input: bytes (str in text mode) for the child's stdin. capture_output:
    stdout and stderr as PIPE. timeout (seconds): on expiry the child is
    killed (SIGKILL through the pidfd), waited for, and TimeoutExpired
    raised. check: raise CalledProcessError for a nonzero returncode. Other
    keywords go to Popen, autoreap/nnp/autokill included.
    """
    if input is not None:
        if kwargs.get('stdin') is not None:
            raise ValueError('stdin and input arguments may not both be used.')
        kwargs['stdin'] = PIPE
    if capture_output:
        if kwargs.get('stdout') is not None or kwargs.get('stderr') is not None:
            raise ValueError('stdout and stderr arguments may not be used with capture_output.')
        kwargs['stdout'] = PIPE
        kwargs['stderr'] = PIPE
    with Popen(*popenargs, **kwargs) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except TimeoutExpired:
            process.kill()
            process.wait()
            raise
        except:  # noqa: E722  Including KeyboardInterrupt, communicate handled that.
            process.kill()
            raise
        retcode = process.poll()
        if check and retcode:
            raise CalledProcessError(retcode, process.args, output=stdout, stderr=stderr)
    return CompletedProcess(process.args, retcode, stdout, stderr)


def getstatusoutput(cmd, *, encoding=None, errors=None):
    """(exitcode, output) of cmd run by /bin/sh, stderr merged, one trailing newline removed."""
    try:
        data = check_output(cmd, shell=True, text=True, stderr=STDOUT, encoding=encoding, errors=errors)
        exitcode = 0
    except CalledProcessError as ex:
        data = ex.output
        exitcode = ex.returncode
    if data[-1:] == '\n':
        data = data[:-1]
    return exitcode, data


def getoutput(cmd, *, encoding=None, errors=None):
    """The output of cmd run by /bin/sh (getstatusoutput()[1])."""
    return getstatusoutput(cmd, encoding=encoding, errors=errors)[1]

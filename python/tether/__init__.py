# SPDX-License-Identifier: MIT
"""tether: subprocess with lifecycles (pidfd-based child control for Linux).

    import tether
    p = tether.Popen(['sleep', '60'], autokill=True, nnp=True)
    # p's child dies with this Python process, even on SIGKILL; it can gain
    # no privileges by exec; it is never a zombie. Otherwise: subprocess.Popen.

tether.Popen is a drop-in subclass of subprocess.Popen whose child is
created by libtether's tether_spawn() and known by its pidfd, with the
keyword arguments autoreap=, nnp= and autokill= (Linux 7.1's
CLONE_AUTOREAP, CLONE_NNP and CLONE_PIDFD_AUTOKILL, emulated on older
kernels). run(), call(), check_call() and check_output() are subprocess's,
over tether.Popen. tether.asyncio has create_subprocess_exec() and
create_subprocess_shell() that wait on the pidfd with loop.add_reader(): no
child watcher, no SIGCHLD handler.

Backends: 'native' (the kernel's flags; older kernels refuse them with
EINVAL), 'emulate' (tether's userspace emulation) or 'auto' (native where
the kernel has them). The TETHER_BACKEND environment variable sets the
start value; set_backend() changes it for the whole process.
"""

from ._tether import (  # noqa: F401
    CLONE_AUTOREAP, CLONE_NNP, CLONE_PIDFD_AUTOKILL,
    FEATURE_CLONE3, FEATURE_WAITID_PIDFD, FEATURE_PIDFS, FEATURE_PIDFD_GET_INFO,
    FEATURE_EXIT_INFO, FEATURE_COREDUMP_INFO, FEATURE_COREDUMP_CODE,
    FEATURE_AUTOREAP, FEATURE_NNP, FEATURE_AUTOKILL,
    version as _lib_version, features, feature_name, set_backend, get_backend, backend_for)
from ._popen import (  # noqa: F401
    Popen, ExitInfo, run, call, check_call, check_output, getoutput, getstatusoutput,
    PIPE, STDOUT, DEVNULL, CalledProcessError, CompletedProcess, SubprocessError, TimeoutExpired)

__version__ = _lib_version()

__all__ = [
    'Popen', 'ExitInfo', 'run', 'call', 'check_call', 'check_output', 'getoutput', 'getstatusoutput',
    'PIPE', 'STDOUT', 'DEVNULL', 'CalledProcessError', 'CompletedProcess', 'SubprocessError',
    'TimeoutExpired', 'CLONE_AUTOREAP', 'CLONE_NNP', 'CLONE_PIDFD_AUTOKILL', 'features',
    'feature_names', 'feature_name', 'set_backend', 'get_backend', 'backend_for', 'asyncio',
]


def feature_names():
    """Names (list of str) of what the running kernel does natively, e.g. ['clone3', 'waitid-pidfd', ...]."""
    f = features()
    return [feature_name(1 << i) for i in range(f.bit_length()) if f & (1 << i)]


def __getattr__(name):
    # tether.asyncio on first use: importing asyncio costs start-up time that
    # programs without an event loop should not pay.
    if name == 'asyncio':
        import importlib
        return importlib.import_module('.asyncio', __name__)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')

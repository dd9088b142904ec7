# SPDX-License-Identifier: MIT
"""Shared pieces of the tether Python tests.

Run with the build tree's package first on sys.path:
    PYTHONPATH=build/python TETHER_BACKEND=emulate /usr/bin/python3 -m pytest python/tests
(scripts/test.sh does this for both backends).

Safety: tests signal only processes they started themselves, through
tether's pidfd (Popen.kill()) or through safe_kill(), which refuses every
pid the test did not register as its own.
"""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

import tether

BACKEND = os.environ.get('TETHER_BACKEND', 'auto')
PY = sys.executable


def lifecycle_available():
    """Whether spawning with the lifecycle flags can work under this backend on this kernel."""
    if tether.get_backend() == 'emulate':
        return True
    need = tether.FEATURE_AUTOREAP | tether.FEATURE_NNP | tether.FEATURE_AUTOKILL
    return tether.features() & need == need


needs_lifecycle = pytest.mark.skipif(
    not lifecycle_available(),
    reason='backend %s on a kernel without CLONE_AUTOREAP/NNP/AUTOKILL (Linux 7.1)' % BACKEND)


class OwnPids:
    """The pids a test started, and the only ones safe_kill() will signal."""

    def __init__(self):
        self.pids = set()

    def add(self, pid):
        assert pid > 1
        self.pids.add(pid)
        return pid

    def kill(self, pid, sig):
        if pid <= 1 or pid not in self.pids:
            raise AssertionError('refusing to signal pid %r: not started by this test' % pid)
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


@pytest.fixture
def own_pids():
    return OwnPids()


def wait_gone(pidfd, seconds=10.0):
    """Whether the process behind pidfd ends within seconds (generous: never a timing assertion)."""
    r, _, _ = select.select([pidfd], [], [], seconds)
    return bool(r)


def proc_status(pid):
    """/proc/PID/status as a dict, or None if the process is gone."""
    try:
        with open('/proc/%d/status' % pid) as f:
            return dict(line.rstrip('\n').split(':\t', 1) for line in f if ':\t' in line)
    except (FileNotFoundError, ProcessLookupError):
        return None


def eventually(pred, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


IMPLS = [pytest.param(subprocess.Popen, id='subprocess'), pytest.param(tether.Popen, id='tether')]


@pytest.fixture(params=IMPLS)
def Popen(request):
    """Both implementations: a behaviour tested through this fixture must be identical."""
    return request.param
